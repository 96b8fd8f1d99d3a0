#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "control/ContactTimes.hpp"
#include "core/Contact.hpp"

namespace callrec::api {

// A contact as /v1 shows it: {ContactId, InitialContactId, InstanceId, AgentId,
// Codec, State, RecordingState, Track, AgentJoined, CreatedAt, UpdatedAt}, and
// with `times`, for a contact not ENDED, Timing: {StateSince (when it entered
// its state), RecordedSeconds (time RECORDING before StateSince),
// PauseOverdue (paused longer than --max-pause)}.
boost::json::object ContactToJson(const core::Contact& contact,
                                  const control::ContactTimes* times = nullptr);

}  // namespace callrec::api
