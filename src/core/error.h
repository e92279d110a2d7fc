// defines: Error, R50_THROW, R50_CHECK
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace r50 {

// An error that says where it was raised: what() reads "message (file.cpp:42)".
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);

  const std::string& message() const { return message_; }
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string message_;
  const char* file_;
  int line_;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace r50

// Throws r50::Error with the arguments streamed into its message.
#define R50_THROW(...) throw ::r50::Error(::r50::detail::concat(__VA_ARGS__), __FILE__, __LINE__)

// Throws r50::Error with the arguments as its message when `cond` is false.
#define R50_CHECK(cond, ...)               \
  do {                                     \
    if (!(cond)) R50_THROW(__VA_ARGS__); \
  } while (0)
