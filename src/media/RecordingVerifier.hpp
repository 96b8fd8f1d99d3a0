#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace callrec::media {

// What `callrec verify` found: every check made, and the ones that failed.
struct VerifyReport {
  std::vector<std::string> passed;
  std::vector<std::string> problems;
  std::vector<std::string> notes;  // facts worth saying that are not mismatches
  bool ok() const { return problems.empty(); }
};

// Checks a recording against the <ContactId>.json beside it: format, frame
// count and duration, SHA-256, and that every pause is digital silence in the
// file (silence behaviour; one packet of tolerance at each edge) or a cut
// (skip behaviour).
VerifyReport VerifyRecording(const std::filesystem::path& wav);

}  // namespace callrec::media
