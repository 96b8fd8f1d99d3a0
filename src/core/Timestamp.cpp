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

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, used = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) <
          6 ||
      used != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (rest.size() == 5 && rest[0] == '.') {
    for (char c : rest.substr(1, 3)) {
      if (c < '0' || c > '9') return std::nullopt;
      ms = ms * 10 + (c - '0');
    }
    rest.remove_prefix(4);
  }
  if (rest != "Z") return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto time = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + milliseconds(ms);
  return duration_cast<milliseconds>(time.time_since_epoch()).count();
}

}  // namespace callrec::core
