#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "core/Contact.hpp"

namespace callrec::api {

// A contact as /v1 shows it: {ContactId, InitialContactId, InstanceId, AgentId,
// Codec, State, RecordingState, Track, AgentJoined, CreatedAt, UpdatedAt}.
boost::json::object ContactToJson(const core::Contact& contact);
boost::json::array AuditTrailToJson(const std::vector<core::AuditEntry>& trail);
// Milliseconds since the epoch as ISO 8601 UTC with milliseconds.
std::string FormatTimestamp(std::int64_t epoch_ms);

}  // namespace callrec::api
