#include "core/Timestamp.hpp"

#include <chrono>
#include <cstdio>

namespace callrec::core {

std::string FormatTimestamp(std::int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(epoch_ms)};
  const auto days = floor<std::chrono::days>(time);
  const year_month_day ymd{days};
  const hh_mm_ss hms{time - days};
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buffer;
}

}  // namespace callrec::core
