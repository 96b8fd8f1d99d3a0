#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "control/ContactService.hpp"

namespace callrec::control {

// What a restarted server does with the contacts it finds live. Media lives in
// the process: a restart (kill -9 or SIGTERM alike) loses every RTP port and
// every SIP dialog, so no contact may go on claiming a recording that cannot
// receive a packet.
//  - Recording begun (RECORDING, PAUSED): the file was cut, and is repaired and
//    marked incomplete; a new file for the same contact would overwrite it. The
//    contact is ENDED (audit: END by `server`, "server restart"); its
//    RecordingState keeps what the recording was.
//  - Created by a SIPREC client (any live state): its dialog is gone (the
//    client's re-INVITE or BYE is answered 481), so it is ENDED too.
//  - Other contacts waiting for a recording (NOT_STARTED, WAITING_FOR_AGENT):
//    nothing was recorded yet; they keep their state and are returned to be
//    given new RTP ports (GET /v1/contacts/{id} shows them).
//  - STOPPED and ENDED contacts stay as they are.
struct RestartOutcome {
  std::vector<std::string> ended;
  std::vector<core::Contact> awaiting_media;
  std::vector<std::string> failed;  // could not be ended (the store refused): left as they were
};

inline constexpr const char* kRestartPrincipal = "server";
inline constexpr const char* kRestartReason = "server restart";

// Ends what must end and waits until each end is durable, calling `wait_one`
// (run one pending completion, e.g. io_context::run_one) while any is
// outstanding. `dialog_principals`: who creates contacts whose media is a
// session that dies with the process (SIPREC's "recording-client").
RestartOutcome SettleAfterRestart(ContactService& contacts, const std::function<void()>& wait_one,
                                  const std::set<std::string, std::less<>>& dialog_principals = {
                                      "recording-client"});

}  // namespace callrec::control
