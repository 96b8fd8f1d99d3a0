#pragma once

// The enumerated options of callrec-server (--srtp, --rtp-source, --dtmf-policy,
// --pause-behavior, --auto-record, --log-level, --s3-sse): each one's names and
// values in one table, used to check the flag, to parse it into its enum, and
// to print it back (--dump-config, the start-up banner).

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/RecordingState.hpp"

namespace callrec::config {

template <typename Value>
struct Choice {
  std::string_view name;
  Value value;
};

enum class PauseBehavior { kSilence, kSkip };
enum class SrtpMode { kOptional, kRequired };
// kDefault: strict for SIPREC, learn for /v1 contacts.
enum class RtpSource { kDefault, kStrict, kLearn, kAny };
enum class DtmfPolicy { kMask, kPause, kRecord };
// --media-receive: how the media thread reads RTP.
enum class MediaReceive { kAuto, kIoUring, kAsio };
enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class S3Encryption { kNone, kAes256, kKms };
// --auto-record: the track a new SIPREC session starts recording (nullopt: off).
using AutoRecord = std::optional<core::Track>;

inline constexpr std::array kPauseBehaviors{
    Choice<PauseBehavior>{"silence", PauseBehavior::kSilence},
    Choice<PauseBehavior>{"skip", PauseBehavior::kSkip}};
inline constexpr std::array kSrtpModes{Choice<SrtpMode>{"optional", SrtpMode::kOptional},
                                       Choice<SrtpMode>{"required", SrtpMode::kRequired}};
inline constexpr std::array kRtpSources{Choice<RtpSource>{"default", RtpSource::kDefault},
                                        Choice<RtpSource>{"strict", RtpSource::kStrict},
                                        Choice<RtpSource>{"learn", RtpSource::kLearn},
                                        Choice<RtpSource>{"any", RtpSource::kAny}};
inline constexpr std::array kDtmfPolicies{Choice<DtmfPolicy>{"mask", DtmfPolicy::kMask},
                                          Choice<DtmfPolicy>{"pause", DtmfPolicy::kPause},
                                          Choice<DtmfPolicy>{"record", DtmfPolicy::kRecord}};
inline constexpr std::array kMediaReceives{Choice<MediaReceive>{"auto", MediaReceive::kAuto},
                                           Choice<MediaReceive>{"io_uring", MediaReceive::kIoUring},
                                           Choice<MediaReceive>{"asio", MediaReceive::kAsio}};
inline constexpr std::array kLogLevels{
    Choice<LogLevel>{"debug", LogLevel::kDebug}, Choice<LogLevel>{"info", LogLevel::kInfo},
    Choice<LogLevel>{"warn", LogLevel::kWarn}, Choice<LogLevel>{"error", LogLevel::kError}};
inline constexpr std::array kS3Encryptions{Choice<S3Encryption>{"none", S3Encryption::kNone},
                                           Choice<S3Encryption>{"AES256", S3Encryption::kAes256},
                                           Choice<S3Encryption>{"aws:kms", S3Encryption::kKms}};
inline constexpr std::array kAutoRecords{Choice<AutoRecord>{"off", std::nullopt},
                                         Choice<AutoRecord>{"ALL", core::Track::kAll},
                                         Choice<AutoRecord>{"TO_AGENT", core::Track::kToAgent},
                                         Choice<AutoRecord>{"FROM_AGENT", core::Track::kFromAgent}};

template <typename Value, std::size_t N>
std::vector<std::string> ChoiceNames(const std::array<Choice<Value>, N>& choices) {
  std::vector<std::string> names;
  names.reserve(N);
  for (const auto& choice : choices) names.emplace_back(choice.name);
  return names;
}

template <typename Value, std::size_t N>
std::optional<Value> ChoiceValue(const std::array<Choice<Value>, N>& choices,
                                 std::string_view name) {
  for (const auto& choice : choices) {
    if (choice.name == name) return choice.value;
  }
  return std::nullopt;
}

// Every value has a name in its table (checked by the unit tests).
template <typename Value, std::size_t N>
std::string_view ChoiceName(const std::array<Choice<Value>, N>& choices, const Value& value) {
  for (const auto& choice : choices) {
    if (choice.value == value) return choice.name;
  }
  return choices.front().name;
}

}  // namespace callrec::config
