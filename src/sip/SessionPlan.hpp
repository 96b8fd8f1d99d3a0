#pragma once

// What callrec makes of a SIPREC offer (INVITE or re-INVITE/UPDATE): which
// streams are recorded on which side, the one G.711 codec, the SRTP keys, the
// senders to latch, and whether the client has paused. Pure functions of the
// request, its metadata and the configuration; SiprecServer acts on them.

#include <optional>
#include <regex>
#include <vector>

#include "core/Result.hpp"
#include "media/Recorder.hpp"
#include "sip/RsMetadata.hpp"
#include "sip/SdpOffer.hpp"
#include "sip/SipError.hpp"
#include "sip/SipMessage.hpp"
#include "sip/TrackMapping.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::sip {

// What the client's offer, the metadata and the configuration make of a session.
struct SessionPlan {
  Offer offer;
  std::optional<RsMetadata> metadata;
  TrackPlan tracks;
  int payload_type = 0;
  std::vector<std::optional<srtp::SdesCrypto>> keys;  // per offered stream
};

// The session a request (with the metadata of the dialog so far) asks for, or
// the refusal to answer it with (488 for no G.711 or unusable SRTP keys).
core::Result<SessionPlan, SipError> PlanSession(const SipRequestView& request,
                                                const std::optional<RsMetadata>& previous,
                                                const std::optional<std::regex>& agent_match,
                                                bool srtp_required);

// A stream callrec records: audio, a port, RTP/AVP or RTP/SAVP, mapped to a side.
bool Recorded(const OfferedStream& stream, TrackSide side);
// Every recorded stream inactive (or only sending our way): the client paused.
bool ClientPaused(const Offer& offer, const TrackPlan& plan);
// The recorder's keys: each side's recorded stream's key.
media::MediaKeys MediaKeysOf(const Offer& offer, const TrackPlan& plan,
                             const std::vector<std::optional<srtp::SdesCrypto>>& stream_keys);
// The sender each recorded leg's media comes from.
media::OfferedSources SourcesOf(const Offer& offer, const TrackPlan& plan);
// A recorded stream will carry the agent's voice.
bool OffersAgentStream(const Offer& offer, const TrackPlan& plan);

}  // namespace callrec::sip
