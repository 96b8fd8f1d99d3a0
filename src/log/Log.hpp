#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace callrec::log {

// Structured logging: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-24T08:00:00.123Z","level":"info","event":"contact.created","contact":"c-1"}
// Callers pass fields, never secrets, DTMF digits or audio.
enum class Level { kDebug, kInfo, kWarn, kError };

void Configure(std::string_view level);  // "debug", "info", "warn", "error"
bool Enabled(Level level);
void Write(Level level, std::string_view event, const boost::json::object& fields = {});

inline void Debug(std::string_view event, const boost::json::object& fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, const boost::json::object& fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, const boost::json::object& fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, const boost::json::object& fields = {}) {
  Write(Level::kError, event, fields);
}

}  // namespace callrec::log
