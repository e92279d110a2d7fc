#include "model/safetensors.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace r50 {
namespace {

// Tensor bytes go between file and memory unchanged, which is right only on a little-endian host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian and is copied as host memory: a big-endian host "
              "needs byte swapping in safetensors.cpp");

// Far above any real header (ResNet-50's is about 30 KB), low enough that a corrupt length cannot
// make the reader allocate gigabytes; the Rust reference implementation stops at 100 MB.
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr std::uint64_t kLengthBytes = 8;
const char* const kMetadataKey = "__metadata__";

// Keeps the header's key order, which is the file order names() promises.
using Json = nlohmann::ordered_json;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string errno_text() { return std::strerror(errno); }

std::string tensor_context(const std::string& path, const std::string& name) {
  return path + ": tensor '" + name + "'";
}

std::string describe(DType dtype, const Shape& shape) { return dtype_name(dtype) + shape.str(); }

void read_exactly(std::FILE* file, void* into, std::size_t bytes, const std::string& context) {
  if (bytes == 0) return;
  const std::size_t got = std::fread(into, 1, bytes, file);
  R50_CHECK(got == bytes, context, ": ",
            std::ferror(file) ? errno_text()
                              : "the file ended " + std::to_string(bytes - got) +
                                    " bytes early (was it truncated while read?)");
}

// The header as JSON. nlohmann keeps the last of repeated keys without a word, so they are caught
// here: a repeated tensor name would otherwise hide a tensor.
Json parse_header(const std::string& path, const std::string& text) {
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string tensor;  // the top-level key being parsed, for messages
  const auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == Json::parse_event_t::object_end) open_objects.pop_back();
    if (event == Json::parse_event_t::key) {
      const std::string key = parsed.get<std::string>();
      if (depth == 1) tensor = key;
      const bool fresh = open_objects.back().insert(key).second;
      R50_CHECK(fresh || depth != 1, path, ": the header names '", key, "' twice");
      R50_CHECK(fresh || tensor != kMetadataKey, path, ": ", kMetadataKey, " has key '", key,
                "' twice");
      R50_CHECK(fresh, tensor_context(path, tensor), ": key '", key, "' appears twice");
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, on_event);
  } catch (const Json::exception& error) {
    R50_THROW(path, ": the header is not valid JSON: ", error.what());
  }
  R50_CHECK(header.is_object(), path, ": the header is a JSON ", header.type_name(),
            ", not an object");
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const Json& value) {
  R50_CHECK(value.is_object(), path, ": ", kMetadataKey, " is a JSON ", value.type_name(),
            ", not an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, text] : value.items()) {
    R50_CHECK(text.is_string(), path, ": ", kMetadataKey, " entry '", key,
              "' must be a string, got ", text.dump());
    metadata[key] = text.get<std::string>();
  }
  return metadata;
}

// nlohmann stores non-negative integers as unsigned and negative ones as signed; floats, however
// integral, are refused.
std::optional<std::uint64_t> as_unsigned(const Json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

const Json& field(const std::string& context, const Json& entry, const char* key) {
  const auto found = entry.find(key);
  R50_CHECK(found != entry.end(), context, ": the entry has no \"", key, "\"");
  return *found;
}

DType parse_entry_dtype(const std::string& context, const Json& value) {
  R50_CHECK(value.is_string(), context, ": dtype must be a string, got ", value.dump());
  const std::string name = value.get<std::string>();
  const std::optional<DType> dtype = parse_dtype(name);
  R50_CHECK(dtype, context, ": dtype ", name,
            " is not supported (supported: F32, F64, F16, BF16, I32, I64, U8)");
  return *dtype;
}

Shape parse_entry_shape(const std::string& context, const Json& value) {
  R50_CHECK(value.is_array(), context, ": shape must be an array, got ", value.dump());
  R50_CHECK(value.size() <= static_cast<std::size_t>(Shape::kMaxRank), context, ": shape ",
            value.dump(), " has more than ", Shape::kMaxRank, " dimensions");
  std::vector<std::int64_t> dims;
  std::uint64_t numel = 1;
  constexpr std::uint64_t kMaxNumel = std::numeric_limits<std::int64_t>::max();
  for (std::size_t axis = 0; axis < value.size(); ++axis) {
    const std::optional<std::uint64_t> dim = as_unsigned(value[axis]);
    R50_CHECK(dim, context, ": shape[", axis, "] is ", value[axis].dump(),
              ", not a non-negative integer");
    R50_CHECK(*dim == 0 || numel <= kMaxNumel / *dim, context, ": the element count of shape ",
              value.dump(), " overflows 64 bits");
    numel *= *dim;
    dims.push_back(static_cast<std::int64_t>(*dim));
  }
  return Shape(dims);
}

Entry parse_entry(const std::string& path, const std::string& name, const Json& value,
                  std::uint64_t data_bytes) {
  const std::string context = tensor_context(path, name);
  R50_CHECK(value.is_object(), context, ": the entry must be an object, got ", value.dump());
  Entry entry{name, parse_entry_dtype(context, field(context, value, "dtype")),
              parse_entry_shape(context, field(context, value, "shape")), 0, 0};

  const Json& offsets = field(context, value, "data_offsets");
  const bool pair = offsets.is_array() && offsets.size() == 2;
  const std::optional<std::uint64_t> begin = pair ? as_unsigned(offsets[0]) : std::nullopt;
  const std::optional<std::uint64_t> end = pair ? as_unsigned(offsets[1]) : std::nullopt;
  R50_CHECK(begin && end && *begin <= *end, context,
            ": data_offsets must be [begin, end], non-negative integers with begin <= end, got ",
            offsets.dump());
  entry.begin = *begin;
  entry.end = *end;

  const std::uint64_t numel = static_cast<std::uint64_t>(entry.shape.numel());
  const std::uint64_t size = dtype_size(entry.dtype);
  R50_CHECK(numel <= std::numeric_limits<std::uint64_t>::max() / size, context, ": ",
            describe(entry.dtype, entry.shape), " has more bytes than 64 bits can count");
  R50_CHECK(entry.end - entry.begin == numel * size, context, ": data_offsets ", offsets.dump(),
            " hold ", entry.end - entry.begin, " bytes but ", describe(entry.dtype, entry.shape),
            " needs ", numel * size);
  R50_CHECK(entry.end <= data_bytes, context,
            " runs past the end of the file: its data ends at byte ", entry.end,
            " of the data section, which has only ", data_bytes, " bytes (is the file truncated?)");
  return entry;
}

// The specification asks that the tensors tile the data section exactly: no overlap, no hole, no
// trailing bytes. Returns the entries' indices in data order.
std::vector<std::size_t> check_tiling(const std::string& path, const std::vector<Entry>& entries,
                                      std::uint64_t data_bytes) {
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::make_pair(entries[a].begin, entries[a].end) <
           std::make_pair(entries[b].begin, entries[b].end);
  });
  std::uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (std::size_t index : order) {
    const Entry& entry = entries[index];
    // covered > 0, so there is a previous tensor, whenever this check can fail.
    R50_CHECK(entry.begin >= covered, tensor_context(path, entry.name), " (bytes [", entry.begin,
              ", ", entry.end, ")) overlaps tensor '", previous->name, "' (bytes [",
              previous->begin, ", ", covered, "))");
    R50_CHECK(entry.begin == covered, path, ": bytes [", covered, ", ", entry.begin,
              ") of the data section belong to no tensor (a hole before tensor '", entry.name,
              "')");
    covered = entry.end;
    previous = &entry;
  }
  R50_CHECK(covered == data_bytes, path, ": the data section has ", data_bytes,
            " bytes but its tensors end at byte ", covered, "; the rest belongs to no tensor");
  return order;
}

std::uint64_t read_length(const unsigned char* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// One tensor to write, wherever its bytes live in host memory.
struct Source {
  const std::string& name;
  DType dtype;
  Shape shape;
  const void* data;

  std::size_t bytes() const { return static_cast<std::size_t>(shape.numel()) * dtype_size(dtype); }
};

// The header JSON, padded with spaces so that the data section starts at a multiple of 8.
std::string header_text(const std::string& path, const std::vector<Source>& sources,
                        const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::unordered_set<std::string> seen;
  std::uint64_t offset = 0;
  for (const Source& source : sources) {
    R50_CHECK(!source.name.empty(), path, ": a tensor name must not be empty");
    R50_CHECK(source.name != kMetadataKey, path, ": no tensor may be named ", kMetadataKey,
              ", the key the format keeps for metadata");
    R50_CHECK(seen.insert(source.name).second, path, ": tensor name '", source.name,
              "' is given twice");
    Json entry = Json::object();
    entry["dtype"] = dtype_name(source.dtype);
    entry["shape"] = source.shape.dims();
    entry["data_offsets"] = {offset, offset + source.bytes()};
    header[source.name] = std::move(entry);
    offset += source.bytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception& error) {  // a name or metadata that is not UTF-8
    R50_THROW(path, ": cannot write the header: ", error.what());
  }
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  return text;
}

void write_all(std::FILE* file, const void* data, std::size_t bytes, const std::string& context) {
  if (bytes == 0) return;
  R50_CHECK(std::fwrite(data, 1, bytes, file) == bytes, context, ": ", errno_text());
}

std::string temporary_path(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
}

void write_sources(const std::string& path, const std::vector<Source>& sources,
                   const std::map<std::string, std::string>& metadata) {
  const std::string header = header_text(path, sources, metadata);
  const std::string temp = temporary_path(path);
  // "x": never truncate a file that someone else created under the same name.
  File file(std::fopen(temp.c_str(), "wbx"));
  R50_CHECK(file, path, ": cannot create the temporary file ", temp, " to write it: ",
            errno_text());
  struct RemoveUnlessKept {
    const std::string& path;
    bool keep = false;
    ~RemoveUnlessKept() {
      if (!keep) std::remove(path.c_str());
    }
  } partial{temp};

  const std::string context = path + ": writing " + temp;
  unsigned char length[kLengthBytes];
  for (std::size_t i = 0; i < kLengthBytes; ++i) {
    length[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  }
  write_all(file.get(), length, kLengthBytes, context);
  write_all(file.get(), header.data(), header.size(), context);
  for (const Source& source : sources) {
    write_all(file.get(), source.data, source.bytes(), context + ", tensor '" + source.name + "'");
  }
  // Flushed to the disk before the rename, so that a crash cannot leave an empty file in place of
  // the old one.
  R50_CHECK(std::fflush(file.get()) == 0 && fsync(fileno(file.get())) == 0, context, ": ",
            errno_text());
  R50_CHECK(std::fclose(file.release()) == 0, context, ": ", errno_text());
  R50_CHECK(std::rename(temp.c_str(), path.c_str()) == 0, path, ": cannot replace it with ", temp,
            ": ", errno_text());
  partial.keep = true;
}

}  // namespace

Tensor StoredTensor::view() const {
  const std::size_t expected = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  R50_CHECK(bytes.size() == expected, "stored tensor ", describe(dtype, shape), " holds ",
            bytes.size(), " bytes, expected ", expected);
  return Tensor(const_cast<std::byte*>(bytes.data()), shape, dtype);
}

StoredTensor make_stored(DType dtype, const Shape& shape) {
  return {dtype, shape, std::vector<std::byte>(shape.numel() * dtype_size(dtype))};
}

StoredTensor stored_copy(const Tensor& host) {
  R50_CHECK(host.device().is_cpu() && host.layout() == Layout::RowMajor && host.defined(),
            "stored_copy needs a row-major host tensor, got ", host.str());
  StoredTensor stored = make_stored(host.dtype(), host.shape());
  if (host.nbytes() != 0) std::memcpy(stored.bytes.data(), host.data(), host.nbytes());
  return stored;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, tensor] : tensors_) names.push_back(name);
  return names;
}

std::size_t SafetensorsFile::index_of(const std::string& name) const {
  const auto found = index_.find(name);
  R50_CHECK(found != index_.end(), path_, ": no tensor named '", name, "' among its ",
            tensors_.size(), " tensors");
  return found->second;
}

std::size_t SafetensorsFile::index_of(const std::string& name, DType dtype,
                                      const Shape& shape) const {
  const std::size_t index = index_of(name);
  const StoredTensor& tensor = tensors_[index].second;
  R50_CHECK(tensor.dtype == dtype && tensor.shape == shape, tensor_context(path_, name), " is ",
            describe(tensor.dtype, tensor.shape), " but ", describe(dtype, shape), " was expected");
  return index;
}

const StoredTensor& SafetensorsFile::at(const std::string& name) const& {
  return tensors_[index_of(name)].second;
}

const StoredTensor& SafetensorsFile::expect(const std::string& name, DType dtype,
                                            const Shape& shape) const& {
  return tensors_[index_of(name, dtype, shape)].second;
}

StoredTensor SafetensorsFile::at(const std::string& name) && {
  return std::move(tensors_[index_of(name)].second);
}

StoredTensor SafetensorsFile::expect(const std::string& name, DType dtype, const Shape& shape) && {
  return std::move(tensors_[index_of(name, dtype, shape)].second);
}

SafetensorsFile SafetensorsFile::parse(const std::string& path, std::uint64_t file_bytes,
                                       const ReadExactly& read_exactly) {
  R50_CHECK(file_bytes >= kLengthBytes, path, ": the file has ", file_bytes,
            " bytes, too few for the 8-byte header length a safetensors file starts with");

  unsigned char length[kLengthBytes];
  read_exactly(length, kLengthBytes, path + ": reading the header length");
  const std::uint64_t header_bytes = read_length(length);
  R50_CHECK(header_bytes <= file_bytes - kLengthBytes, path,
            ": header longer than the file: the header length says ", header_bytes,
            " bytes but only ", file_bytes - kLengthBytes, " bytes follow it");
  R50_CHECK(header_bytes <= kMaxHeaderBytes, path, ": the header length ", header_bytes,
            " bytes is over the limit of ", kMaxHeaderBytes, " (is this a safetensors file?)");
  std::string text(header_bytes, '\0');
  read_exactly(text.data(), text.size(), path + ": reading the header");
  const Json header = parse_header(path, text);

  const std::uint64_t data_bytes = file_bytes - kLengthBytes - header_bytes;
  SafetensorsFile result;
  result.path_ = path;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      result.metadata_ = parse_metadata(path, value);
    } else {
      entries.push_back(parse_entry(path, name, value, data_bytes));
    }
  }
  const std::vector<std::size_t> data_order = check_tiling(path, entries, data_bytes);

  result.tensors_.reserve(entries.size());
  for (const Entry& entry : entries) {
    result.index_[entry.name] = result.tensors_.size();
    result.tensors_.emplace_back(entry.name, make_stored(entry.dtype, entry.shape));
  }
  // The tiling check makes the tensors, taken in data order, one sequential read.
  for (std::size_t index : data_order) {
    std::vector<std::byte>& bytes = result.tensors_[index].second.bytes;
    read_exactly(bytes.data(), bytes.size(), tensor_context(path, entries[index].name));
  }
  return result;
}

SafetensorsFile read_safetensors(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  R50_CHECK(file, path, ": cannot open: ", errno_text());
  struct stat info {};
  R50_CHECK(fstat(fileno(file.get()), &info) == 0, path, ": cannot stat: ", errno_text());
  R50_CHECK(S_ISREG(info.st_mode), path, ": not a regular file");
  return SafetensorsFile::parse(
      path, static_cast<std::uint64_t>(info.st_size),
      [&](void* into, std::size_t bytes, const std::string& context) {
        read_exactly(file.get(), into, bytes, context);
      });
}

SafetensorsFile read_safetensors_memory(const std::string& name, const void* data, std::size_t size) {
  std::size_t offset = 0;
  return SafetensorsFile::parse(name, size, [&](void* into, std::size_t bytes, const std::string& context) {
    R50_CHECK(bytes <= size - offset, context, ": the data ended ", bytes - (size - offset), " bytes early");
    if (bytes == 0) return;
    std::memcpy(into, static_cast<const std::byte*>(data) + offset, bytes);
    offset += bytes;
  });
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, StoredTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<Source> sources;
  sources.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    sources.push_back({name, tensor.dtype, tensor.shape, tensor.bytes.data()});
    R50_CHECK(tensor.bytes.size() == sources.back().bytes(), tensor_context(path, name), ": holds ",
              tensor.bytes.size(), " bytes but ", describe(tensor.dtype, tensor.shape), " needs ",
              sources.back().bytes());
  }
  write_sources(path, sources, metadata);
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<Source> sources;
  sources.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    R50_CHECK(tensor.device().is_cpu() && tensor.layout() == Layout::RowMajor && tensor.defined(),
              tensor_context(path, name), ": only a row-major host tensor can be written, got ",
              tensor.str());
    sources.push_back({name, tensor.dtype(), tensor.shape(), tensor.data()});
  }
  write_sources(path, sources, metadata);
}

}  // namespace r50
