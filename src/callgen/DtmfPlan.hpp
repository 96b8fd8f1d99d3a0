#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/G711.hpp"

namespace callrec::callgen {

// How keyed digits reach the recorder: as Q.23 tones in the customer's audio
// (a phone's keypad), as RFC 4733 telephone-event packets in place of that
// audio (an SBC that strips in-band DTMF), or both.
enum class DtmfMode { kInband, kRfc4733, kBoth };

const char* DtmfModeName(DtmfMode mode);
std::optional<DtmfMode> ParseDtmfMode(std::string_view name);
inline bool SendsTones(DtmfMode mode) {
  return mode != DtmfMode::kRfc4733;
}
inline bool SendsEvents(DtmfMode mode) {
  return mode != DtmfMode::kInband;
}

// The payload type offered for telephone-event/8000 on the customer stream.
inline constexpr std::uint8_t kTelephoneEventPayloadType = 101;

// One --dtmf DIGITS@SECONDS: digits keyed one after the other from `at`
// seconds after the call's first 200 OK.
struct DtmfSequence {
  std::string digits;  // 0-9 * # A-D; sensitive: never logged without --verbose
  double at = 0;
};

// Parses DIGITS@SECONDS; the reason when it is not one.
std::optional<DtmfSequence> ParseDtmfSequence(std::string_view text, std::string& reason);

struct DtmfOptions {
  std::vector<DtmfSequence> sequences;
  DtmfMode mode = DtmfMode::kInband;
  double level_dbm0 = -10;  // per tone
  int duration_ms = 80;
  int gap_ms = 80;
};

// The RFC 4733 event code of a key (0-9, * 10, # 11, A-D 12-15), or -1.
int DtmfEventCode(char key);
// The Q.23 (low, high) frequencies of an event code 0-15.
struct DtmfFrequencies {
  double low;
  double high;
};
DtmfFrequencies FrequenciesOf(int event_code);

// One key press on the call's timeline: samples from the first 200 OK at 8 kHz.
struct DtmfKeyPress {
  int event = 0;  // RFC 4733 event code
  std::int64_t start = 0;
  std::int64_t samples = 0;

  std::int64_t end() const { return start + samples; }
};

// Every key press of the options, in time order (a digit starts
// duration + gap after the one before it; the offset is rounded to a sample).
std::vector<DtmfKeyPress> PlanKeyPresses(const DtmfOptions& options);

// Where each key press starts, in seconds from the first 200 OK.
std::vector<double> KeyPressOffsets(const DtmfOptions& options);

// What a customer stream does with the key presses: built once per call,
// shared (read-only) with the media thread.
struct DtmfSchedule {
  DtmfMode mode = DtmfMode::kInband;
  std::vector<DtmfKeyPress> presses;
  double amplitude = 0;     // of each tone, in 16-bit linear
  std::uint8_t volume = 0;  // RFC 4733 volume: the level in -dBm0
};

// The peak of a 0 dBm0 sine in 16-bit linear (22662 for µ-law): G.711's
// full-load sine is +3.17 dBm0 (µ-law) or +3.14 dBm0 (A-law).
double ZeroDbm0Amplitude(media::Codec codec);

DtmfSchedule MakeDtmfSchedule(const DtmfOptions& options, media::Codec codec);

}  // namespace callrec::callgen
