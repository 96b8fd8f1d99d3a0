#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace callrec::fuzz {

// A property every input must keep. A failed check aborts, which libFuzzer
// reports as a crash and saves the input, like any sanitiser finding.
[[noreturn]] inline void Fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

inline std::string_view AsText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace callrec::fuzz

#define CALLREC_FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::callrec::fuzz::Fail(#condition, __FILE__, __LINE__))
