#include "callgen/DtmfPlan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace callrec::callgen {
namespace {

constexpr double kRate = 8000.0;
// Row by row, the keypad as RFC 4733 numbers it (event codes 0-15).
constexpr std::string_view kKeys = "0123456789*#ABCD";

}  // namespace

const char* DtmfModeName(DtmfMode mode) {
  switch (mode) {
    case DtmfMode::kInband:
      return "inband";
    case DtmfMode::kRfc4733:
      return "rfc4733";
    case DtmfMode::kBoth:
      return "both";
  }
  return "?";
}

std::optional<DtmfMode> ParseDtmfMode(std::string_view name) {
  for (const DtmfMode mode : {DtmfMode::kInband, DtmfMode::kRfc4733, DtmfMode::kBoth}) {
    if (name == DtmfModeName(mode)) return mode;
  }
  return std::nullopt;
}

int DtmfEventCode(char key) {
  if (key >= 'a' && key <= 'd') key = static_cast<char>(key - 'a' + 'A');
  const auto at = kKeys.find(key);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

DtmfFrequencies FrequenciesOf(int event_code) {
  static constexpr double kLow[] = {697, 770, 852, 941};
  static constexpr double kHigh[] = {1209, 1336, 1477, 1633};
  // Row and column of each event code on the 4x4 keypad (1 2 3 A / 4 5 6 B /
  // 7 8 9 C / * 0 # D).
  static constexpr int kRow[] = {3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1, 2, 3};
  static constexpr int kColumn[] = {1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 3, 3, 3, 3};
  const auto k = static_cast<std::size_t>(std::clamp(event_code, 0, 15));
  return {kLow[kRow[k]], kHigh[kColumn[k]]};
}

std::optional<DtmfSequence> ParseDtmfSequence(std::string_view text, std::string& reason) {
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) {
    reason = "--dtmf must be DIGITS@SECONDS, e.g. 4111111111111111@3.0";
    return std::nullopt;
  }
  DtmfSequence sequence;
  sequence.digits = std::string(text.substr(0, at));
  for (const char key : sequence.digits) {
    if (DtmfEventCode(key) < 0) {
      reason = "--dtmf digits are 0-9 * # A-D";
      return std::nullopt;
    }
  }
  const std::string_view seconds = text.substr(at + 1);
  const auto [end, error] =
      std::from_chars(seconds.data(), seconds.data() + seconds.size(), sequence.at);
  if (error != std::errc() || end != seconds.data() + seconds.size() || sequence.at < 0 ||
      !std::isfinite(sequence.at)) {
    reason = "--dtmf SECONDS must be a time from the 200 OK, e.g. @3.0";
    return std::nullopt;
  }
  return sequence;
}

std::vector<DtmfKeyPress> PlanKeyPresses(const DtmfOptions& options) {
  std::vector<DtmfKeyPress> presses;
  const std::int64_t samples = options.duration_ms * 8;
  const std::int64_t step = (options.duration_ms + options.gap_ms) * 8;
  for (const auto& sequence : options.sequences) {
    const auto first = static_cast<std::int64_t>(std::llround(sequence.at * kRate));
    for (std::size_t i = 0; i < sequence.digits.size(); ++i) {
      presses.push_back(DtmfKeyPress{DtmfEventCode(sequence.digits[i]),
                                     first + static_cast<std::int64_t>(i) * step, samples});
    }
  }
  std::stable_sort(presses.begin(), presses.end(),
                   [](const auto& a, const auto& b) { return a.start < b.start; });
  return presses;
}

std::vector<double> KeyPressOffsets(const DtmfOptions& options) {
  std::vector<double> offsets;
  for (const auto& press : PlanKeyPresses(options)) {
    offsets.push_back(static_cast<double>(press.start) / kRate);
  }
  return offsets;
}

double ZeroDbm0Amplitude(media::Codec codec) {
  // The overload point in 16-bit linear: 8159 << 2 (µ-law), 4096 << 3 (A-law).
  return codec == media::Codec::kPcmu ? 32636.0 / std::pow(10.0, 3.17 / 20.0)
                                      : 32768.0 / std::pow(10.0, 3.14 / 20.0);
}

DtmfSchedule MakeDtmfSchedule(const DtmfOptions& options, media::Codec codec) {
  DtmfSchedule schedule;
  schedule.mode = options.mode;
  schedule.presses = PlanKeyPresses(options);
  schedule.amplitude = ZeroDbm0Amplitude(codec) * std::pow(10.0, options.level_dbm0 / 20.0);
  schedule.volume =
      static_cast<std::uint8_t>(std::lround(std::clamp(-options.level_dbm0, 0.0, 63.0)));
  return schedule;
}

}  // namespace callrec::callgen
