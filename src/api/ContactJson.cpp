#include "api/ContactJson.hpp"

#include <boost/json.hpp>

#include "core/Timestamp.hpp"

namespace callrec::api {

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
  out["CreatedAt"] = core::FormatTimestamp(contact.created_ms);
  out["UpdatedAt"] = core::FormatTimestamp(contact.updated_ms);
  return out;
}

}  // namespace callrec::api
