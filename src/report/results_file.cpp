#include "report/results_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace r50 {
namespace {

std::string folder_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes all of `text` to `fd` and flushes it to the disk; false with errno set on failure.
bool write_all_and_sync(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0;
}

}  // namespace

void check_results_path(const std::string& path) {
  R50_CHECK(!path.empty(), "--out needs a file name");
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode)) {
    R50_THROW("--out ", path, ": is a folder; name a file in it, e.g. ", path, "/results.json");
  }
  const std::string folder = folder_of(path);
  const std::string probe = folder + "/.r50_out_probe_" + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) R50_THROW("--out ", path, ": cannot write into ", folder, ": ", std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) R50_THROW("cannot write ", temporary, ": ", std::strerror(errno));
  const bool written = write_all_and_sync(fd, text);
  const int write_errno = errno;
  if (::close(fd) != 0 || !written) {
    ::unlink(temporary.c_str());
    R50_THROW("cannot write ", temporary, ": ", std::strerror(written ? errno : write_errno));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temporary.c_str());
    R50_THROW("cannot rename ", temporary, " to ", path, ": ", std::strerror(rename_errno));
  }
  // The rename itself reaches the disk with the folder's entry.
  const int folder = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
}

std::string with_top_level_key(const std::string& object_json, const std::string& key, const std::string& value_json) {
  const std::size_t close = object_json.find_last_of('}');
  R50_CHECK(close != std::string::npos, "not a JSON object: ", object_json.substr(0, 80));
  std::size_t last = object_json.find_last_not_of(" \t\r\n", close - 1);
  R50_CHECK(last != std::string::npos, "not a JSON object: ", object_json.substr(0, 80));
  const bool empty = object_json[last] == '{';
  // Indented one level, as a member; a newline in valid JSON is never inside a string.
  std::string value;
  for (const char c : value_json) value += c == '\n' ? std::string("\n  ") : std::string(1, c);
  return object_json.substr(0, last + 1) + (empty ? "\n" : ",\n") + "  \"" + key + "\": " + value + "\n" +
         object_json.substr(close);
}

}  // namespace r50
