#include "sip/SessionPlan.hpp"

#include <boost/json.hpp>

#include "log/Log.hpp"
#include "sip/SiprecBody.hpp"

namespace callrec::sip {
namespace {

bool Offers(const OfferedStream& stream, int payload_type, std::string_view name) {
  for (const Codec& codec : stream.codecs) {
    if (codec.payload_type == payload_type && codec.name == name && codec.clock_rate == 8000) {
      return true;
    }
  }
  return false;
}

// One codec for the whole contact: PCMU if every recorded stream offers it,
// else PCMA; G.711 only, with its static payload type.
std::optional<int> CommonCodec(const Offer& offer, const TrackPlan& plan) {
  for (const auto& [payload_type, name] : {std::pair{0, "PCMU"}, std::pair{8, "PCMA"}}) {
    bool all = true, any = false;
    for (std::size_t i = 0; i < offer.streams.size(); ++i) {
      if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
      any = true;
      all = all && Offers(offer.streams[i], payload_type, name);
    }
    if (any && all) return payload_type;
  }
  return std::nullopt;
}

// The SRTP key of each recorded stream: the first a=crypto line callrec can
// honour. SDES keys travel in the SDP, so only a request that came over TLS
// may carry them (RFC 4568 8.3); with --srtp required, plain RTP is refused.
std::optional<SipError> ChooseKeys(const SipRequestView& request, bool srtp_required,
                                   SessionPlan& plan) {
  plan.keys.assign(plan.offer.streams.size(), std::nullopt);
  for (std::size_t i = 0; i < plan.offer.streams.size(); ++i) {
    const OfferedStream& stream = plan.offer.streams[i];
    if (!Recorded(stream, plan.tracks.stream_sides[i])) continue;
    const std::string which =
        "the m-line" + (stream.label.empty() ? "" : " labelled " + stream.label);
    if (ProfileOf(stream) == MediaProfile::kPlainRtp) {
      if (!srtp_required) continue;
      return SipError{488, "Not Acceptable Here",
                      "plain RTP on " + which +
                          " is refused: this recorder requires SRTP (RTP/SAVP with a=crypto, "
                          "over SIP TLS)"};
    }
    if (!request.over_tls) {
      return SipError{488, "Not Acceptable Here",
                      "SRTP keys (a=crypto) over an unencrypted SIP transport are refused: send "
                      "SIPREC over TLS (RFC 4568 section 8.3)"};
    }
    std::string first_reason = "no a=crypto attribute";
    for (const std::string& line : stream.crypto) {
      auto key = srtp::ParseCrypto(line);
      if (key) {
        plan.keys[i] = std::move(key).value();
        break;
      }
      if (&line == &stream.crypto.front()) first_reason = key.error();
    }
    if (!plan.keys[i]) {
      return SipError{488, "Not Acceptable Here",
                      "no usable SRTP key on " + which + ": " + first_reason +
                          " (supported: " + srtp::SupportedSuiteNames() + ")"};
    }
  }
  return std::nullopt;
}

}  // namespace

bool Recorded(const OfferedStream& stream, TrackSide side) {
  return side != TrackSide::kNone && stream.port != 0 && stream.media == "audio" &&
         ProfileOf(stream) != MediaProfile::kOther;
}

// Every recorded stream inactive (or only sending our way): the client paused.
bool ClientPaused(const Offer& offer, const TrackPlan& plan) {
  bool any = false;
  for (std::size_t i = 0; i < offer.streams.size(); ++i) {
    if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    any = true;
    const Direction d = offer.streams[i].direction;
    if (d == Direction::kSendOnly || d == Direction::kSendRecv) return false;
  }
  return any;
}

// The recorder's keys: each side's recorded stream's key.
media::MediaKeys MediaKeysOf(const Offer& offer, const TrackPlan& plan,
                             const std::vector<std::optional<srtp::SdesCrypto>>& stream_keys) {
  media::MediaKeys keys;
  for (std::size_t i = 0; i < offer.streams.size() && i < stream_keys.size(); ++i) {
    if (!stream_keys[i] || !Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    keys[plan.stream_sides[i] == TrackSide::kAgent ? 1 : 0] = stream_keys[i];
  }
  return keys;
}

// The sender each recorded leg's media comes from: the stream's connection
// address (an SBC may send from another port than it named, never from
// another host).
media::OfferedSources SourcesOf(const Offer& offer, const TrackPlan& plan) {
  media::OfferedSources sources;
  for (std::size_t i = 0; i < offer.streams.size() && i < plan.stream_sides.size(); ++i) {
    if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    sources[plan.stream_sides[i] == TrackSide::kAgent ? 1 : 0] =
        media::SenderAddressOf(offer.streams[i].address);
  }
  return sources;
}

core::Result<SessionPlan, SipError> PlanSession(const SipRequestView& request,
                                                const std::optional<RsMetadata>& previous,
                                                const std::optional<std::regex>& agent_match,
                                                bool srtp_required) {
  auto body = SplitBody(request.content_type, request.body);
  if (!body) return body.error();
  SessionPlan plan;
  auto offer = ParseOffer(body->sdp, request.source_address);
  if (!offer) return offer.error();
  plan.offer = std::move(offer).value();
  plan.metadata = previous;
  if (body->metadata_xml) {
    auto metadata = ParseRsMetadata(*body->metadata_xml);
    if (!metadata) return metadata.error();
    plan.metadata = std::move(metadata).value();
  }
  plan.tracks = MapTracks(plan.offer, plan.metadata, agent_match);
  if (log::Enabled(log::Level::kDebug)) {
    boost::json::array streams;
    for (std::size_t i = 0; i < plan.offer.streams.size(); ++i) {
      const OfferedStream& s = plan.offer.streams[i];
      streams.push_back(
          boost::json::object{{"label", s.label},
                              {"media", s.media},
                              {"port", s.port},
                              {"codecs", s.codecs.size()},
                              {"side", i < plan.tracks.stream_sides.size()
                                           ? static_cast<int>(plan.tracks.stream_sides[i])
                                           : -1}});
    }
    log::Debug("sip.session.plan", {{"streams", streams}, {"rule", plan.tracks.rule}});
  }
  const auto codec = CommonCodec(plan.offer, plan.tracks);
  if (!codec) {
    return SipError{488, "Not Acceptable Here",
                    "no recordable audio stream offering PCMU or PCMA (payload type 0 or 8) over "
                    "RTP/AVP or RTP/SAVP"};
  }
  plan.payload_type = *codec;
  if (auto refused = ChooseKeys(request, srtp_required, plan)) return *refused;
  return plan;
}

bool OffersAgentStream(const Offer& offer, const TrackPlan& plan) {
  for (std::size_t i = 0; i < offer.streams.size() && i < plan.stream_sides.size(); ++i) {
    if (plan.stream_sides[i] == TrackSide::kAgent &&
        Recorded(offer.streams[i], TrackSide::kAgent)) {
      return true;
    }
  }
  return false;
}

}  // namespace callrec::sip
