// defines: StoredTensor, make_stored, stored_copy, SafetensorsFile, read_safetensors,
//          read_safetensors_memory, write_safetensors
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace r50 {

// A tensor read from or written to a file: row-major, little-endian, its bytes in host memory.
struct StoredTensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<std::byte> bytes;

  // A CPU view of the bytes. Tensor has no read-only form, so a view of a const StoredTensor
  // must not be written through.
  Tensor view() const;
};

// A zero-filled stored tensor.
StoredTensor make_stored(DType dtype, const Shape& shape);
// A copy of a row-major host tensor's bytes.
StoredTensor stored_copy(const Tensor& host);

// Everything read from one safetensors file, tensors in the order of its header.
class SafetensorsFile {
 public:
  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::vector<std::string> names() const;
  std::size_t size() const { return tensors_.size(); }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }

  // Throws, naming the file and the tensor, when the file has no such tensor.
  const StoredTensor& at(const std::string& name) const&;
  // As at(), and also throws, naming both dtypes and shapes, unless the tensor has `dtype` and
  // `shape`: the check a loader needs before copying a tensor into a parameter.
  const StoredTensor& expect(const std::string& name, DType dtype, const Shape& shape) const&;

  // On a temporary, the tensor is moved out rather than referenced, so that
  // `const StoredTensor& w = read_safetensors(path).at("w");` cannot dangle.
  StoredTensor at(const std::string& name) &&;
  StoredTensor expect(const std::string& name, DType dtype, const Shape& shape) &&;

 private:
  friend SafetensorsFile read_safetensors(const std::string& path);
  friend SafetensorsFile read_safetensors_memory(const std::string& name, const void* data, std::size_t size);

  // The format's one parser, whatever holds the bytes: `read_exactly(into, bytes, context)` copies
  // the next `bytes` bytes of a file of `file_bytes` bytes, or throws naming `context`.
  using ReadExactly = std::function<void(void* into, std::size_t bytes, const std::string& context)>;
  static SafetensorsFile parse(const std::string& path, std::uint64_t file_bytes,
                               const ReadExactly& read_exactly);

  std::size_t index_of(const std::string& name) const;
  std::size_t index_of(const std::string& name, DType dtype, const Shape& shape) const;

  std::string path_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::pair<std::string, StoredTensor>> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Reads and checks a whole file. Anything that breaks the format (see the Hugging Face
// safetensors specification, including its rule that the data section is indexed without holes
// or overlaps) is an Error naming the file and, where there is one, the tensor.
SafetensorsFile read_safetensors(const std::string& path);
// The same from a file's bytes already in memory; `name` stands for the path in messages.
SafetensorsFile read_safetensors_memory(const std::string& name, const void* data, std::size_t size);

// Writes `tensors` in the order given, the header padded so the data starts at a multiple of 8.
// The file appears whole or not at all: it is written beside `path` under a temporary name and
// renamed over it, and an existing file stays as it was when anything fails.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, StoredTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The same from row-major host tensors, without copying them into StoredTensors first.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace r50
