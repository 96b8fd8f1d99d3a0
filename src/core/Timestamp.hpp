#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callrec::core {

// Milliseconds since the Unix epoch as ISO 8601 UTC with milliseconds
// (2026-11-24T08:00:00.123Z). Pure formatting: core reads no clock.
std::string FormatTimestamp(std::int64_t epoch_ms);
// The inverse, for what FormatTimestamp wrote (milliseconds optional); nullopt
// for anything else.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

}  // namespace callrec::core
