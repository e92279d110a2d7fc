// The safetensors reader (read_safetensors_memory: the parser read_safetensors reads files
// through). Beyond "no crash, no leak", it checks the reader's promises: anything wrong with the
// input is an r50::Error (never another exception), and in a file it accepts every tensor listed
// is reachable by name and holds the bytes its dtype and shape need, together exactly the data
// section.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/safetensors.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  r50::SafetensorsFile file;
  try {
    file = r50::read_safetensors_memory("input.safetensors", data, size);
  } catch (const r50::Error&) {
    return 0;
  }
  const std::vector<std::string> names = file.names();
  FUZZ_CHECK(names.size() == file.size(), "names() and size() disagree");
  std::size_t tensor_bytes = 0;
  for (const std::string& name : names) {
    FUZZ_CHECK(file.contains(name), "a listed tensor cannot be found by name");
    const r50::StoredTensor& tensor = file.at(name);
    const std::size_t expected =
        static_cast<std::size_t>(tensor.shape.numel()) * r50::dtype_size(tensor.dtype);
    FUZZ_CHECK(tensor.bytes.size() == expected, "a tensor holds a different byte count than its shape");
    FUZZ_CHECK(tensor.view().nbytes() == expected, "a tensor's view disagrees with its bytes");
    tensor_bytes += expected;
  }
  // The tensors tile the data section: the bytes after the 8-byte little-endian header length and
  // the header.
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | data[i];
  FUZZ_CHECK(tensor_bytes == size - 8 - header_bytes, "the tensors do not fill the data section");
  return 0;
}
