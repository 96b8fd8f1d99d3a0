#pragma once

#include <optional>
#include <string_view>

namespace callrec::media {

// What a recording does with in-band DTMF (a keyed card number), --dtmf-policy:
//   record: keeps the tones (unsafe for card data);
//   mask:   replaces each digit's tone by silence, the recording goes on;
//   pause:  masks the first digit and pauses the recording from its first
//           sample, as an agent's PAUSE would (principal policy:dtmf); the
//           policy resumes it once no digit was heard for a while.
enum class DtmfPolicy { kRecord, kMask, kPause };

inline std::optional<DtmfPolicy> ParseDtmfPolicy(std::string_view text) {
  if (text == "record") return DtmfPolicy::kRecord;
  if (text == "mask") return DtmfPolicy::kMask;
  if (text == "pause") return DtmfPolicy::kPause;
  return std::nullopt;
}

inline std::string_view ToString(DtmfPolicy policy) {
  switch (policy) {
    case DtmfPolicy::kRecord:
      return "record";
    case DtmfPolicy::kMask:
      return "mask";
    case DtmfPolicy::kPause:
      return "pause";
  }
  return "mask";
}

}  // namespace callrec::media
