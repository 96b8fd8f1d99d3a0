#include "upload/ObjectKeys.hpp"

#include <chrono>
#include <cstdio>

namespace callrec::upload {

std::string ConnectRecordingKey(const std::string& prefix, const std::string& contact_id,
                                std::int64_t start_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> when{milliseconds(start_ms)};
  const auto day = floor<days>(when);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<minutes>(when - day)};
  char date[16], time[8];
  std::snprintf(date, sizeof date, "%04d%02u%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  std::snprintf(time, sizeof time, "%02d:%02d", int(hms.hours().count()),
                int(hms.minutes().count()));
  std::string key = prefix.empty() ? "" : prefix + "/";
  key += "CallRecordings/";
  key += std::string(date, 4) + "/" + std::string(date + 4, 2) + "/" + std::string(date + 6, 2);
  key += "/" + contact_id + "_" + date + "T" + time + "_UTC.wav";
  return key;
}

std::string MetadataKeyFor(const std::string& wav_key) {
  return wav_key.substr(0, wav_key.size() - 4) + ".json";
}

}  // namespace callrec::upload
