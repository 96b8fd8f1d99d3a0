#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "core/Contact.hpp"

namespace callrec::api {

// A contact as /v1 shows it: {ContactId, InitialContactId, InstanceId, AgentId,
// Codec, State, RecordingState, Track, AgentJoined, CreatedAt, UpdatedAt}.
boost::json::object ContactToJson(const core::Contact& contact);

}  // namespace callrec::api
