#include "model/safetensors.h"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace r50 {
namespace {

namespace fs = std::filesystem;
using Tensors = std::vector<std::pair<std::string, StoredTensor>>;

// `value` as `width` little-endian bytes, whatever the host's byte order.
std::string little_endian(std::uint64_t value, int width) {
  std::string bytes;
  for (int i = 0; i < width; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

std::string f32_bytes(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return little_endian(bits, 4);
}

// A safetensors file as the specification lays it out: the header's length in 8 little-endian
// bytes, the header, then the data section.
std::string file_bytes(const std::string& header, const std::string& data = "") {
  return little_endian(header.size(), 8) + header + data;
}

template <typename T>
StoredTensor stored(const Shape& shape, const std::vector<T>& values) {
  StoredTensor tensor = make_stored(dtype_of<T>(), shape);
  EXPECT_EQ(tensor.bytes.size(), values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

template <typename T>
std::vector<T> values_of(const StoredTensor& tensor) {
  const Tensor view = tensor.view();
  const T* data = view.data_as<T>();
  return std::vector<T>(data, data + view.numel());
}

void expect_mentions(const std::string& message, const std::vector<std::string>& fragments) {
  for (const std::string& fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "the message\n  " << message << "\ndoes not mention " << fragment;
  }
}

template <typename Action>
std::string error_from(Action action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error was raised";
  return "";
}

class Safetensors : public testing::Test {
 protected:
  void SetUp() override {
    const std::string test = testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("r50_safetensors_" + std::to_string(getpid()) + "_" + test);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_file(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  std::string read_file(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::vector<std::string> files_in_dir() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename());
    return names;
  }

  // Reads `bytes` as a file and returns the error, which must name the file.
  std::string read_error(const std::string& bytes) const {
    const std::string file = write_file("bad.safetensors", bytes);
    const std::string message = error_from([&] { read_safetensors(file); });
    expect_mentions(message, {file});
    return message;
  }

  fs::path dir_;
};

TEST_F(Safetensors, RoundTripsEveryDtypeBitForBit) {
  Tensors tensors;
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64,
                      DType::U8}) {
    StoredTensor tensor = make_stored(dtype, {2, 3});
    for (std::size_t i = 0; i < tensor.bytes.size(); ++i) tensor.bytes[i] = std::byte(i * 37 + 11);
    tensors.emplace_back(dtype_name(dtype), tensor);
  }
  write_safetensors(path("all.safetensors"), tensors);
  const SafetensorsFile file = read_safetensors(path("all.safetensors"));
  ASSERT_EQ(file.size(), tensors.size());
  for (const auto& [name, written] : tensors) {
    SCOPED_TRACE(name);
    const StoredTensor& read = file.at(name);
    EXPECT_EQ(read.dtype, written.dtype);
    EXPECT_EQ(read.shape, written.shape);
    EXPECT_EQ(read.bytes, written.bytes);
  }
}

TEST_F(Safetensors, RoundTripsAZeroDimensionalScalar) {
  write_safetensors(path("scalar.safetensors"), {{"lr", stored<double>({}, {0.125})}});
  const StoredTensor& lr = read_safetensors(path("scalar.safetensors")).at("lr");
  EXPECT_EQ(lr.shape.rank(), 0);
  EXPECT_EQ(values_of<double>(lr), std::vector<double>{0.125});
}

TEST_F(Safetensors, RoundTripsAnEmptyTensorBetweenOthers) {
  write_safetensors(path("empty.safetensors"), {{"a", stored<float>({2}, {1, 2})},
                                                {"none", make_stored(DType::F32, {0, 3})},
                                                {"b", stored<std::int32_t>({1}, {7})}});
  const SafetensorsFile file = read_safetensors(path("empty.safetensors"));
  EXPECT_EQ(file.at("none").shape, Shape({0, 3}));
  EXPECT_TRUE(file.at("none").bytes.empty());
  EXPECT_EQ(values_of<float>(file.at("a")), std::vector<float>({1, 2}));
  EXPECT_EQ(values_of<std::int32_t>(file.at("b")), std::vector<std::int32_t>{7});
}

TEST_F(Safetensors, RoundTripsMetadata) {
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "crème brûlée"}};
  write_safetensors(path("meta.safetensors"), {{"x", stored<float>({1}, {1})}}, metadata);
  EXPECT_EQ(read_safetensors(path("meta.safetensors")).metadata(), metadata);
}

TEST_F(Safetensors, RoundTripsAFileWithNoTensors) {
  write_safetensors(path("nothing.safetensors"), Tensors{});
  EXPECT_EQ(read_safetensors(path("nothing.safetensors")).size(), 0u);
}

TEST_F(Safetensors, WritesFromHostTensorViews) {
  std::int64_t steps[3] = {1, -2, std::numeric_limits<std::int64_t>::max()};
  write_safetensors(path("views.safetensors"), {{"steps", Tensor(steps, {3}, DType::I64)}});
  EXPECT_EQ(values_of<std::int64_t>(read_safetensors(path("views.safetensors")).at("steps")),
            std::vector<std::int64_t>(steps, steps + 3));
}

TEST_F(Safetensors, ReadsAFileBuiltByHandFromTheSpecification) {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("steps":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
      R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}})";
  const std::string data = little_endian(static_cast<std::uint64_t>(-3), 8) +
                           little_endian(std::uint64_t{1} << 40, 8) + f32_bytes(1.0f) +
                           f32_bytes(-2.5f) + f32_bytes(0.5f) + f32_bytes(3.0f);
  // The reference writer pads the header with spaces; any amount is valid JSON whitespace.
  write_file("hand.safetensors", file_bytes(header + "   ", data));

  const SafetensorsFile file = read_safetensors(path("hand.safetensors"));
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file.names(), (std::vector<std::string>{"steps", "weight"}));
  EXPECT_EQ(values_of<std::int64_t>(file.expect("steps", DType::I64, {2})),
            (std::vector<std::int64_t>{-3, std::int64_t{1} << 40}));
  EXPECT_EQ(values_of<float>(file.expect("weight", DType::F32, {2, 2})),
            (std::vector<float>{1.0f, -2.5f, 0.5f, 3.0f}));
}

TEST_F(Safetensors, ListsNamesInHeaderOrderNotAlphabetically) {
  const std::string header = R"({"zeta":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("alpha":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  write_file("order.safetensors", file_bytes(header, "ab"));
  EXPECT_EQ(read_safetensors(path("order.safetensors")).names(),
            (std::vector<std::string>{"zeta", "alpha"}));
}

TEST_F(Safetensors, WritesTheLayoutTheSpecificationDescribes) {
  write_safetensors(path("out.safetensors"),
                    {{"w", stored<float>({3}, {1, 2, 3})}, {"n", stored<std::int32_t>({1}, {7})}},
                    {{"k", "v"}});
  const std::string bytes = read_file("out.safetensors");
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | std::uint8_t(bytes[i]);
  ASSERT_LE(8 + header_bytes, bytes.size());
  EXPECT_EQ((8 + header_bytes) % 8, 0u) << "the data section must start at a multiple of 8";

  const std::string json = R"({"__metadata__":{"k":"v"},)"
                           R"("w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                           R"("n":{"dtype":"I32","shape":[1],"data_offsets":[12,16]}})";
  const std::string header = bytes.substr(8, header_bytes);
  ASSERT_GE(header.size(), json.size());
  EXPECT_EQ(header.substr(0, json.size()), json);
  EXPECT_LT(header.size() - json.size(), 8u) << "more padding than alignment needs";
  EXPECT_EQ(header.substr(json.size()), std::string(header.size() - json.size(), ' '));
  EXPECT_EQ(bytes.substr(8 + header_bytes),
            f32_bytes(1) + f32_bytes(2) + f32_bytes(3) + little_endian(7, 4));
}

TEST_F(Safetensors, AtNamesTheFileAndTheMissingTensor) {
  write_safetensors(path("one.safetensors"), {{"x", stored<float>({1}, {1})}});
  const SafetensorsFile file = read_safetensors(path("one.safetensors"));
  EXPECT_TRUE(file.contains("x"));
  EXPECT_FALSE(file.contains("fc.weight"));
  expect_mentions(error_from([&] { file.at("fc.weight"); }), {file.path(), "'fc.weight'"});
}

TEST_F(Safetensors, ExpectNamesBothDtypesAndShapes) {
  write_safetensors(path("one.safetensors"),
                    {{"fc.bias", stored<float>({2, 3}, {1, 2, 3, 4, 5, 6})}});
  const SafetensorsFile file = read_safetensors(path("one.safetensors"));
  expect_mentions(error_from([&] { file.expect("fc.bias", DType::F64, {3, 2}); }),
                  {file.path(), "'fc.bias'", "F32[2, 3]", "F64[3, 2]"});
}

TEST_F(Safetensors, AtOnATemporaryFileHandsOverTheTensor) {
  write_safetensors(path("one.safetensors"), {{"x", stored<float>({2}, {1, 2})}});
  const StoredTensor& x = read_safetensors(path("one.safetensors")).at("x");  // lifetime extended
  EXPECT_EQ(values_of<float>(x), std::vector<float>({1, 2}));
}

TEST_F(Safetensors, StoredCopyOwnsItsBytes) {
  float source[2] = {1, 2};
  const StoredTensor copy = stored_copy(Tensor(source, {2}, DType::F32));
  source[0] = 9;
  EXPECT_EQ(values_of<float>(copy), std::vector<float>({1, 2}));
}

// Malformed files: each is an error naming the file and, where there is one, the tensor.

TEST_F(Safetensors, RefusesAMissingFile) {
  expect_mentions(error_from([&] { read_safetensors(path("absent.safetensors")); }),
                  {path("absent.safetensors"), "No such file"});
}

TEST_F(Safetensors, RefusesAFileShorterThanTheHeaderLength) {
  expect_mentions(read_error(std::string("\x10\x00\x00", 3)), {"3 bytes"});
}

TEST_F(Safetensors, RefusesAHeaderLongerThanTheFile) {
  expect_mentions(read_error(little_endian(1000, 8) + "{}"),
                  {"header longer than the file", "1000", "2 bytes"});
}

TEST_F(Safetensors, RefusesAnAbsurdHeaderLengthBeforeAllocatingIt) {
  const std::uint64_t length = (std::uint64_t{100} << 20) + 1;
  const std::string file = write_file("huge.safetensors", little_endian(length, 8));
  fs::resize_file(file, 8 + length + 64);  // sparse: the header length fits in the file
  expect_mentions(error_from([&] { read_safetensors(file); }),
                  {file, std::to_string(length), "limit"});
}

TEST_F(Safetensors, RefusesAHeaderThatIsNotJson) {
  expect_mentions(read_error(file_bytes(R"({"w": {"dtype": )")), {"not valid JSON"});
}

TEST_F(Safetensors, RefusesAHeaderThatIsNotAnObject) {
  expect_mentions(read_error(file_bytes("[1, 2]")), {"object", "array"});
}

TEST_F(Safetensors, RefusesAnEntryThatIsNotAnObject) {
  expect_mentions(read_error(file_bytes(R"({"w": 3})")), {"'w'", "object"});
}

TEST_F(Safetensors, RefusesAnEntryMissingAField) {
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"dtype", R"({"w":{"shape":[1],"data_offsets":[0,4]}})"},
      {"shape", R"({"w":{"dtype":"F32","data_offsets":[0,4]}})"},
      {"data_offsets", R"({"w":{"dtype":"F32","shape":[1]}})"},
  };
  for (const auto& [missing, header] : entries) {
    SCOPED_TRACE(missing);
    expect_mentions(read_error(file_bytes(header, "1234")), {"'w'", missing});
  }
}

TEST_F(Safetensors, RefusesAnUnsupportedDtypeByName) {
  for (const std::string dtype : {"BOOL", "F8_E4M3"}) {
    const std::string header =
        R"({"mask":{"dtype":")" + dtype + R"(","shape":[1],"data_offsets":[0,1]}})";
    expect_mentions(read_error(file_bytes(header, "x")), {"'mask'", dtype});
  }
}

TEST_F(Safetensors, RefusesANegativeDimension) {
  expect_mentions(
      read_error(file_bytes(R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}})")),
      {"'w'", "shape[1]", "-1"});
}

TEST_F(Safetensors, RefusesADimensionThatIsNotAnInteger) {
  for (const std::string dim : {"2.0", R"("2")", "true", "18446744073709551616"}) {
    SCOPED_TRACE(dim);
    const std::string header =
        R"({"w":{"dtype":"U8","shape":[)" + dim + R"(],"data_offsets":[0,2]}})";
    expect_mentions(read_error(file_bytes(header, "ab")), {"'w'", "shape[0]"});
  }
}

TEST_F(Safetensors, RefusesAnElementCountThatOverflows) {
  const std::string header =
      R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})";
  expect_mentions(read_error(file_bytes(header)), {"'w'", "overflows"});
}

TEST_F(Safetensors, RefusesMalformedDataOffsets) {
  for (const std::string offsets : {"[0]", "[0,4,8]", "[-4,0]", "[4,0]", "[0,4.0]", R"("0,4")"}) {
    SCOPED_TRACE(offsets);
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[1],"data_offsets":)" + offsets + "}}";
    expect_mentions(read_error(file_bytes(header, "1234")), {"'w'", "data_offsets"});
  }
}

TEST_F(Safetensors, RefusesOffsetsThatDisagreeWithTheShape) {
  expect_mentions(
      read_error(file_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})",
                            std::string(12, 'x'))),
      {"'w'", "12 bytes", "F32[2]", "8"});
}

TEST_F(Safetensors, NamesTheTensorThatRunsPastTheEndOfATruncatedFile) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})";
  expect_mentions(read_error(file_bytes(header, std::string(20, 'x'))),
                  {"'b'", "runs past the end", "20 bytes"});
}

TEST_F(Safetensors, RefusesOverlappingTensors) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_mentions(read_error(file_bytes(header, std::string(12, 'x'))),
                  {"'a'", "'b'", "overlaps"});
}

TEST_F(Safetensors, RefusesAHoleInTheDataSection) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  expect_mentions(read_error(file_bytes(header, std::string(12, 'x'))), {"'b'", "[4, 8)"});
}

TEST_F(Safetensors, RefusesBytesAfterTheLastTensor) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  expect_mentions(read_error(file_bytes(header, std::string(8, 'x'))), {"8 bytes", "byte 4"});
}

TEST_F(Safetensors, RefusesADuplicateTensorName) {
  const std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  expect_mentions(read_error(file_bytes(header, "xy")), {"'a'", "twice"});
}

TEST_F(Safetensors, RefusesMetadataThatIsNotStrings) {
  expect_mentions(read_error(file_bytes(R"({"__metadata__":{"epoch":3}})")),
                  {"__metadata__", "'epoch'"});
  expect_mentions(read_error(file_bytes(R"({"__metadata__":["pt"]})")), {"__metadata__"});
}

TEST_F(Safetensors, RefusesADirectory) {
  expect_mentions(error_from([&] { read_safetensors(dir_.string()); }), {dir_.string()});
}

// Writing.

TEST_F(Safetensors, WriteLeavesOnlyTheFileBehind) {
  write_safetensors(path("model.safetensors"), {{"x", stored<float>({1}, {1})}});
  write_safetensors(path("model.safetensors"), {{"y", stored<float>({1}, {2})}});
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(read_safetensors(path("model.safetensors")).names(), std::vector<std::string>{"y"});
}

TEST_F(Safetensors, WriteRefusesBadNamesAndKeepsTheOldFile) {
  write_safetensors(path("model.safetensors"), {{"x", stored<float>({1}, {1})}});
  const std::string before = read_file("model.safetensors");
  const StoredTensor one = stored<float>({1}, {1});
  for (const Tensors& tensors : {Tensors{{"", one}}, Tensors{{"w", one}, {"w", one}},
                                 Tensors{{"__metadata__", one}}}) {
    expect_mentions(error_from([&] { write_safetensors(path("model.safetensors"), tensors); }),
                    {path("model.safetensors")});
  }
  EXPECT_EQ(read_file("model.safetensors"), before);
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(Safetensors, WriteRefusesBytesThatDisagreeWithTheShape) {
  StoredTensor short_one = make_stored(DType::F32, {4});
  short_one.bytes.resize(12);
  expect_mentions(error_from([&] { write_safetensors(path("x.safetensors"), {{"w", short_one}}); }),
                  {path("x.safetensors"), "'w'", "12 bytes"});
}

TEST_F(Safetensors, WriteRefusesATensorOnTheDevice) {
  float data[1] = {};
  const Tensor device(data, {1}, DType::F32, Device::cuda(0));
  expect_mentions(error_from([&] { write_safetensors(path("x.safetensors"), {{"w", device}}); }),
                  {path("x.safetensors"), "'w'", "cuda:0"});
}

TEST_F(Safetensors, WriteIntoAMissingFolderNamesThePath) {
  const std::string target = path("no/such/folder/model.safetensors");
  expect_mentions(error_from([&] { write_safetensors(target, {{"x", stored<float>({1}, {1})}}); }),
                  {target, "No such file"});
  EXPECT_TRUE(files_in_dir().empty());
}

TEST_F(Safetensors, WriteThatFailsAtTheRenameRemovesItsTemporaryFile) {
  // A non-empty folder where the file should go: everything succeeds up to the rename.
  fs::create_directories(path("model.safetensors/keep"));
  expect_mentions(error_from([&] {
                    write_safetensors(path("model.safetensors"), {{"x", stored<float>({1}, {1})}});
                  }),
                  {path("model.safetensors")});
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"model.safetensors"});
  EXPECT_TRUE(fs::is_directory(path("model.safetensors/keep")));
}

// A regular file where the folder should be: creating the temporary file fails for every user,
// root included (a read-only folder would not stop root).
TEST_F(Safetensors, WriteWhereTheFolderIsAFileNamesThePath) {
  std::ofstream(path("not_a_folder")) << "x";
  const std::string target = path("not_a_folder/model.safetensors");
  const std::string message =
      error_from([&] { write_safetensors(target, {{"x", stored<float>({1}, {1})}}); });
  expect_mentions(message, {target});
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"not_a_folder"});
}

}  // namespace
}  // namespace r50
