#include "api/ContactJson.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

namespace callrec::api {

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

boost::json::object ContactToJson(const core::Contact& contact) {
  boost::json::object out;
  out["ContactId"] = contact.contact_id;
  out["InitialContactId"] = contact.initial_contact_id;
  out["InstanceId"] = contact.instance_id;
  out["AgentId"] = contact.agent_id;
  out["Codec"] = contact.codec;
  out["State"] = core::ToString(contact.state());
  // For an ENDED contact, what its recording was when it ended.
  const core::RecordingState recording = contact.state() == core::RecordingState::kEnded
                                             ? contact.recording.final_state
                                             : contact.state();
  out["RecordingState"] = core::ToString(recording);
  if (contact.recording.track == core::Track::kNone) {
    out["Track"] = nullptr;
  } else {
    out["Track"] = core::ToString(contact.recording.track);
  }
  out["AgentJoined"] = contact.recording.agent_joined;
  out["CreatedAt"] = FormatTimestamp(contact.created_ms);
  out["UpdatedAt"] = FormatTimestamp(contact.updated_ms);
  return out;
}

boost::json::array AuditTrailToJson(const std::vector<core::AuditEntry>& trail) {
  boost::json::array out;
  out.reserve(trail.size());
  for (const core::AuditEntry& entry : trail) {
    out.push_back(boost::json::object{{"Time", FormatTimestamp(entry.at_ms)},
                                      {"Operation", entry.operation},
                                      {"Principal", entry.principal},
                                      {"Result", entry.result},
                                      {"Detail", entry.detail}});
  }
  return out;
}

}  // namespace callrec::api
