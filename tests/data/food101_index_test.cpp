#include "data/food101_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "data/jpeg_fixtures.h"

namespace r50 {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

// A Food-101 tree with three classes; train.txt and test.txt as given.
fs::path make_tree(const TempDir& dir, const std::string& train, const std::string& test = "") {
  const fs::path root = dir.path() / "food-101";
  fs::create_directories(root / "meta");
  fs::create_directories(root / "images");
  write_file(root / "meta/classes.txt", std::string("apple_pie\nbaby_back_ribs\nbaklava\n"));
  write_file(root / "meta/train.txt", train);
  write_file(root / "meta/test.txt", test);
  return root;
}

// The single skipped line of an index that is expected to have exactly one.
SkippedLine only_skipped(const Food101Index& index) {
  EXPECT_EQ(index.skipped.size(), 1u);
  return index.skipped.empty() ? SkippedLine{} : index.skipped.front();
}

TEST(Food101Index, GoodLinesGiveEntriesLabelledByTheirClassPosition) {
  TempDir dir;
  const fs::path root = make_tree(dir, "baklava/1\napple_pie/22\nbaby_back_ribs/333\n");
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.classes, (std::vector<std::string>{"apple_pie", "baby_back_ribs", "baklava"}));
  ASSERT_EQ(index.entries.size(), 3u);
  EXPECT_EQ(index.entries[0].name, "baklava/1");
  EXPECT_EQ(index.entries[0].label, 2);
  EXPECT_EQ(index.entries[1].label, 0);
  EXPECT_EQ(index.entries[2].label, 1);
  EXPECT_TRUE(index.skipped.empty());
  EXPECT_EQ(index.image_path(index.entries[1]), (root / "images/apple_pie/22.jpg").string());
}

TEST(Food101Index, MissingImagesAreKeptForTheLoaderToCount) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\napple_pie/2\napple_pie/3\n");
  fs::create_directories(root / "images/apple_pie");
  write_file(root / "images/apple_pie/2.jpg", std::string("jpeg"));
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.entries.size(), 3u);
  EXPECT_TRUE(index.skipped.empty());
}

TEST(Food101Index, TestSplitReadsTestTxt) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\n", "baklava/7\n");
  const Food101Index index = read_food101_index(root.string(), Split::Test);
  ASSERT_EQ(index.entries.size(), 1u);
  EXPECT_EQ(index.entries[0].name, "baklava/7");
}

TEST(Food101Index, BlankLinesAreSkippedWithTheirNumbers) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\n\n \t\napple_pie/2\n");
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.entries.size(), 2u);
  ASSERT_EQ(index.skipped.size(), 2u);
  EXPECT_EQ(index.skipped[0].file, "meta/train.txt");
  EXPECT_EQ(index.skipped[0].line, 2);
  EXPECT_EQ(index.skipped[0].why, "blank");
  EXPECT_EQ(index.skipped[1].line, 3);
}

TEST(Food101Index, DotDotIsSkippedAsEscaping) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/../../../etc/passwd\napple_pie/1\n");
  const SkippedLine skipped = only_skipped(read_food101_index(root.string(), Split::Train));
  EXPECT_EQ(skipped.line, 1);
  EXPECT_EQ(skipped.text, "apple_pie/../../../etc/passwd");
  EXPECT_EQ(skipped.why, "escapes the data directory");
}

TEST(Food101Index, AbsolutePathIsSkippedAsEscaping) {
  TempDir dir;
  const fs::path root = make_tree(dir, "/etc/passwd\n");
  const SkippedLine skipped = only_skipped(read_food101_index(root.string(), Split::Train));
  EXPECT_EQ(skipped.text, "/etc/passwd");
  EXPECT_EQ(skipped.why, "escapes the data directory");
}

TEST(Food101Index, LinkThatLeadsOutsideTheRootIsSkipped) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/secret\napple_pie/elsewhere/1\n");
  const fs::path outside = dir.path() / "outside";
  fs::create_directories(outside);
  write_file(outside / "secret.jpg", std::string("not yours"));
  fs::create_directories(root / "images/apple_pie");
  fs::create_symlink(outside / "secret.jpg", root / "images/apple_pie/secret.jpg");
  fs::create_directory_symlink(outside, root / "images/apple_pie/elsewhere");

  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_TRUE(index.entries.empty());
  ASSERT_EQ(index.skipped.size(), 2u);
  EXPECT_EQ(index.skipped[0].why, "escapes the data directory");
  EXPECT_EQ(index.skipped[1].text, "apple_pie/elsewhere/1");
  EXPECT_EQ(index.skipped[1].why, "escapes the data directory");
}

TEST(Food101Index, LinkThatStaysInsideImagesIsKept) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/alias\n");
  fs::create_directories(root / "images/apple_pie");
  write_file(root / "images/apple_pie/1.jpg", std::string("jpeg"));
  fs::create_symlink("1.jpg", root / "images/apple_pie/alias.jpg");
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.entries.size(), 1u);
  EXPECT_TRUE(index.skipped.empty());
}

// images/ may live on another disk: lines are held inside wherever it leads, not inside root.
TEST(Food101Index, ImagesDirectoryMayItselfBeALink) {
  TempDir dir;
  const fs::path root = dir.path() / "food-101";
  fs::create_directories(root / "meta");
  fs::create_directories(dir.path() / "big_disk/images");
  fs::create_directory_symlink(dir.path() / "big_disk/images", root / "images");
  write_file(root / "meta/classes.txt", std::string("apple_pie\n"));
  write_file(root / "meta/train.txt", std::string("apple_pie/1\n"));
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.entries.size(), 1u);
  EXPECT_TRUE(index.skipped.empty());
}

TEST(Food101Index, UnknownClassIsSkippedNamingIt) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\npizza/2\n");
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.entries.size(), 1u);
  const SkippedLine skipped = only_skipped(index);
  EXPECT_EQ(skipped.line, 2);
  EXPECT_EQ(skipped.text, "pizza/2");
  EXPECT_EQ(skipped.why, "unknown class 'pizza'");
}

TEST(Food101Index, CrlfLineEndingsAndTrailingWhitespaceAreIgnored) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\r\nbaklava/2  \r\n");
  write_file(root / "meta/classes.txt", std::string("apple_pie\r\nbaby_back_ribs\r\nbaklava \r\n"));
  const Food101Index index = read_food101_index(root.string(), Split::Train);
  EXPECT_EQ(index.classes.back(), "baklava");
  ASSERT_EQ(index.entries.size(), 2u);
  EXPECT_EQ(index.entries[0].name, "apple_pie/1");
  EXPECT_EQ(index.entries[1].name, "baklava/2");
  EXPECT_EQ(index.entries[1].label, 2);
  EXPECT_TRUE(index.skipped.empty());
}

TEST(Food101Index, StrictThrowsOnTheFirstBadLineNamingFileLineAndText) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\npizza/2\n../x\n");
  try {
    read_food101_index(root.string(), Split::Train, IndexOptions{true});
    FAIL() << "a bad line under strict did not throw";
  } catch (const Error& error) {
    const std::string message = error.message();
    EXPECT_NE(message.find((root / "meta/train.txt").string()), std::string::npos) << message;
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    EXPECT_NE(message.find("'pizza/2'"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown class 'pizza'"), std::string::npos) << message;
  }
}

// What a user who pointed --data-dir at the wrong place must read.
void expect_layout_error(const fs::path& root, const fs::path& missing) {
  try {
    read_food101_index(root.string(), Split::Train);
    FAIL() << "no error for missing " << missing;
  } catch (const Error& error) {
    const std::string message = error.message();
    EXPECT_NE(message.find(missing.string() + " does not exist"), std::string::npos) << message;
    EXPECT_NE(message.find("meta/classes.txt"), std::string::npos) << message;
    EXPECT_NE(message.find("images/<class>/<id>.jpg"), std::string::npos) << message;
    EXPECT_NE(message.find("scripts/get_food101.sh"), std::string::npos) << message;
  }
}

TEST(Food101Index, MissingRootIsAnErrorShowingTheLayout) {
  TempDir dir;
  expect_layout_error(dir.path() / "nowhere", dir.path() / "nowhere");
}

TEST(Food101Index, MissingClassesFileIsAnErrorShowingTheLayout) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\n");
  fs::remove(root / "meta/classes.txt");
  expect_layout_error(root, root / "meta/classes.txt");
}

TEST(Food101Index, MissingTrainFileIsAnErrorShowingTheLayout) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\n");
  fs::remove(root / "meta/train.txt");
  expect_layout_error(root, root / "meta/train.txt");
}

TEST(Food101Index, MissingImagesDirectoryIsAnErrorShowingTheLayout) {
  TempDir dir;
  const fs::path root = make_tree(dir, "apple_pie/1\n");
  fs::remove(root / "images");
  expect_layout_error(root, root / "images");
}

}  // namespace
}  // namespace r50
