#include "report/results_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace r50 {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system's temporary one, removed at the end of the test.
class ResultsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              ("r50_results_file_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }

  fs::path folder_;
};

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string message_of(const std::string& path) {
  try {
    check_results_path(path);
  } catch (const Error& error) {
    return error.message();
  }
  return "";
}

TEST_F(ResultsFile, AcceptsAFileInAWritableFolderAndLeavesNothingBehind) {
  EXPECT_EQ(message_of((folder_ / "results.json").string()), "");
  EXPECT_TRUE(fs::is_empty(folder_));
}

TEST_F(ResultsFile, RefusesAMissingFolderNamingIt) {
  const fs::path path = folder_ / "missing" / "results.json";
  EXPECT_EQ(message_of(path.string()), "--out " + path.string() + ": cannot write into " +
                                           (folder_ / "missing").string() + ": No such file or directory");
}

TEST_F(ResultsFile, RefusesAFolder) {
  EXPECT_NE(message_of(folder_.string()).find(": is a folder"), std::string::npos);
}

TEST_F(ResultsFile, WritesTheWholeTextAndNoTemporaryFile) {
  const fs::path path = folder_ / "results.json";
  write_file_atomically(path.string(), "{\"old\": 1}\n");
  write_file_atomically(path.string(), "{\"new\": 2}\n");
  EXPECT_EQ(read(path), "{\"new\": 2}\n");
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

// Google Benchmark's JSON keeps every byte; the new member comes last, indented one level.
TEST(WithTopLevelKey, AddsAMemberAfterTheLastOne) {
  const std::string json = "{\n  \"context\": {\"x\": NaN},\n  \"benchmarks\": []\n}\n";
  EXPECT_EQ(with_top_level_key(json, "cudnn_algorithms", "[\n  1\n]"),
            "{\n  \"context\": {\"x\": NaN},\n  \"benchmarks\": [],\n  \"cudnn_algorithms\": [\n    1\n  ]\n}\n");
}

TEST(WithTopLevelKey, AddsTheFirstMemberOfAnEmptyObject) {
  EXPECT_EQ(with_top_level_key("{}", "a", "1"), "{\n  \"a\": 1\n}");
}

}  // namespace
}  // namespace r50
