#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "sip/RsMetadata.hpp"
#include "sip/SdpOffer.hpp"

namespace callrec::sip {

enum class TrackSide { kCustomer, kAgent, kNone };

struct TrackPlan {
  std::vector<TrackSide> stream_sides;  // one per Offer::streams entry
  std::optional<Participant> customer, agent;
  std::string agent_id;          // user part of the agent's AoR; "" when no agent is known
  std::string rule;              // which rule decided, see MapTracks
  bool by_stream_order = false;  // streams were given to participants by order, not by <send>
};

// Which offered stream records which side (PRODUCT.md 4.6). A stream belongs to
// the participant that sends it: participantstreamassoc <send> (or pre-RFC
// <send>) -> metadata stream id -> <label> -> the m-line with that a=label.
// Label 1 is never assumed to be the caller.
//
// The agent is decided by, in order (`rule` says which):
//  "agent-match"        `agent_match` (std::regex_search) matches a participant's
//                       AoR or name: that one is the agent; the customer is the
//                       calling party if hinted, else the first other participant.
//  "agent-not-present"  `agent_match` is set and matches nobody: the agent has not
//                       joined yet (a later re-INVITE re-maps). The customer is the
//                       calling party if hinted, else the first participant; every
//                       other participant's stream is the agent side, but `agent`
//                       is nullopt and `agent_id` "" so the contact waits.
//  "calling-party"      Oracle/Acme apkt:callingParty=true is the customer (an
//                       inbound contact centre: the caller is the customer).
//  "call-data"          Ribbon/Sonus callData: the participant whose AoR user part
//                       is the From's is the customer, the To's is the agent.
//  "default"            the first participant in document order is the customer,
//                       the second the agent (SRCs list the calling side first).
//  "no-metadata"        no metadata or no participants: the first audio m-line is
//                       the customer, the second the agent.
//  "single-stream"      one audio m-line whose sender is unknown: the customer.
// Without any <send> (Connectel), streams go to participants by order: the
// first audio m-line is the first participant's (`by_stream_order`). A stream
// whose label matches no sent stream takes a side still free (customer first).
// One stream per side is recorded: a further stream of a side already taken,
// a third participant's stream, non-audio and port-0 streams are kNone (the
// caller declines them with port 0).
TrackPlan MapTracks(const Offer& offer, const std::optional<RsMetadata>& metadata,
                    const std::optional<std::regex>& agent_match);

// The user part of an AoR or a From/To header value: "sip:1002@host" -> "1002",
// "1002@host" -> "1002", "tel:+4930123;phone-context=x" -> "+4930123",
// "\"Name\" <sip:1002@host>;tag=x" -> "1002", "1002" -> "1002".
std::string AorUser(std::string_view aor);

}  // namespace callrec::sip
