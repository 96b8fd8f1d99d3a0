#pragma once

#include <map>
#include <string>

#include "flow/ContactData.hpp"
#include "flow/Flow.hpp"

namespace callrec::flow {

// The attributes an inbound flow sets on a new contact: its
// UpdateContactAttributes blocks (TargetContact Current) in the order the
// flow reaches them from StartAction, following NextAction past blocks that
// act on the call (prompts, queues, recording behaviour), deciding Compare
// blocks on what is known, and stopping at a ShowView, a Lambda or the end.
// $.InitialContactId and the like resolve against `contact`.
std::map<std::string, std::string> InboundAttributes(const Flow& inbound,
                                                     const ContactData& contact);

// What flows/inbound-recording.json sets, for servers started without
// --inbound-flow: initialContactId, callRecordingStatus OFF, the red NOT
// RECORDING badge, and "Recording has not been started."
std::map<std::string, std::string> DefaultInboundAttributes(const ContactData& contact);

}  // namespace callrec::flow
