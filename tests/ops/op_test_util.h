// defines: cpu, throws_naming
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "core/error.h"
#include "ops/backend.h"

namespace r50 {

// One CPU backend on every core, shared by the tests of this binary.
inline Backend& cpu() {
  static const std::unique_ptr<Backend> backend = make_cpu_backend(0);
  return *backend;
}

// Passes when `call` throws r50::Error and the message contains every one of `parts` (the op, the
// argument, both shapes); otherwise shows the message.
template <typename Call>
::testing::AssertionResult throws_naming(Call&& call, std::initializer_list<std::string> parts) {
  try {
    call();
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      if (message.find(part) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "the message does not name \"" << part << "\": " << message;
      }
    }
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no r50::Error was thrown";
}

}  // namespace r50
