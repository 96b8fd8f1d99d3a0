#include "api/ContactJson.hpp"

#include <boost/json.hpp>

#include "core/Timestamp.hpp"

namespace callrec::api {

boost::json::object ContactToJson(const core::Contact& contact,
                                  const control::ContactTimes* times) {
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
  out["CreatedAt"] = core::FormatTimestamp(contact.created_ms);
  out["UpdatedAt"] = core::FormatTimestamp(contact.updated_ms);
  if (times != nullptr && contact.state() != core::RecordingState::kEnded) {
    const control::ContactTimes::Times t = times->Of(contact);
    out["Timing"] =
        boost::json::object{{"StateSince", core::FormatTimestamp(t.state_since_ms)},
                            {"RecordedSeconds", static_cast<double>(t.recorded_ms) / 1000.0},
                            {"PauseOverdue", t.overdue}};
  }
  return out;
}

}  // namespace callrec::api
