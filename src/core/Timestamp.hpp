#pragma once

#include <cstdint>
#include <string>

namespace callrec::core {

// Milliseconds since the Unix epoch as ISO 8601 UTC with milliseconds
// (2026-11-24T08:00:00.123Z). Pure formatting: core reads no clock.
std::string FormatTimestamp(std::int64_t epoch_ms);

}  // namespace callrec::core
