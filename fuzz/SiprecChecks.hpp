#pragma once

// The SIPREC chain of sip::SiprecServer (SplitBody, ParseOffer, ParseRsMetadata,
// MapTracks, DeriveIdentity, BuildAnswer) with the properties it must keep on
// any input. Shared by the sip_message, siprec_body, sdp_offer and rs_metadata
// targets.

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzCheck.hpp"
#include "sip/ContactIdentity.hpp"
#include "sip/RsMetadata.hpp"
#include "sip/SdpAnswer.hpp"
#include "sip/SdpOffer.hpp"
#include "sip/SiprecBody.hpp"
#include "sip/TrackMapping.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::fuzz {

// A refusal names a 4xx status that agrees with its phrase, and says why.
inline void CheckRefusal(const sip::SipError& error) {
  CALLREC_FUZZ_CHECK(error.status == 400 || error.status == 413 || error.status == 415);
  CALLREC_FUZZ_CHECK(!error.reason.empty());
  CALLREC_FUZZ_CHECK(!error.warning.empty());
}

// The answer callrec sends must itself be SDP callrec (and so the client) can
// parse, with one m-line per offered stream, ports and labels as answered.
inline void CheckAnswer(const sip::Offer& offer) {
  std::vector<sip::AnsweredStream> answered(offer.streams.size());
  for (std::size_t i = 0; i < offer.streams.size(); ++i) {
    const sip::OfferedStream& stream = offer.streams[i];
    const std::optional<int> codec = sip::ChooseAudioCodec(stream);
    if (!codec || stream.port == 0) continue;
    CALLREC_FUZZ_CHECK(*codec >= 0 && *codec < 128);
    answered[i].port = static_cast<std::uint16_t>(40000 + 2 * i);
    answered[i].payload_type = *codec;
    answered[i].telephone_event_pt = stream.telephone_event_pt;
    // SDES: a line that parses formats to itself; the answer carries a key of ours.
    for (const std::string& line : stream.crypto) {
      const auto key = srtp::ParseCrypto(line);
      if (!key) {
        CALLREC_FUZZ_CHECK(!key.error().empty());
        continue;
      }
      CALLREC_FUZZ_CHECK(key->key_salt.size() == srtp::KeySaltLength(key->suite));
      const auto again = srtp::ParseCrypto(srtp::FormatCrypto(*key));
      CALLREC_FUZZ_CHECK(again.ok() && again->key_salt == key->key_salt && again->tag == key->tag &&
                         again->suite == key->suite);
      if (!answered[i].crypto) answered[i].crypto = srtp::FormatCrypto(*key);
    }
  }
  const std::string answer = sip::BuildAnswer(offer, answered, "192.0.2.1", 42, 1);
  const auto reparsed = sip::ParseOffer(answer, "192.0.2.1");
  if (!reparsed) {
    std::fprintf(stderr, "answer refused (%s):\n%s\n", reparsed.error().warning.c_str(),
                 answer.c_str());
  }
  CALLREC_FUZZ_CHECK(reparsed.ok());
  CALLREC_FUZZ_CHECK(reparsed->streams.size() == offer.streams.size());
  for (std::size_t i = 0; i < offer.streams.size(); ++i) {
    CALLREC_FUZZ_CHECK(reparsed->streams[i].port == answered[i].port);
    CALLREC_FUZZ_CHECK(reparsed->streams[i].label == offer.streams[i].label);
    CALLREC_FUZZ_CHECK(reparsed->streams[i].media == offer.streams[i].media);
    if (answered[i].crypto && answered[i].port != 0) {
      CALLREC_FUZZ_CHECK(reparsed->streams[i].crypto.size() == 1 &&
                         reparsed->streams[i].crypto.front() == *answered[i].crypto);
    }
  }
}

// One stream per side at most, and only recordable audio streams get a side.
inline void CheckPlan(const sip::Offer& offer, const sip::TrackPlan& plan) {
  CALLREC_FUZZ_CHECK(plan.stream_sides.size() == offer.streams.size());
  int customers = 0;
  int agents = 0;
  for (std::size_t i = 0; i < plan.stream_sides.size(); ++i) {
    const sip::TrackSide side = plan.stream_sides[i];
    if (side == sip::TrackSide::kNone) continue;
    CALLREC_FUZZ_CHECK(offer.streams[i].media == "audio" && offer.streams[i].port != 0);
    (side == sip::TrackSide::kCustomer ? customers : agents) += 1;
  }
  CALLREC_FUZZ_CHECK(customers <= 1 && agents <= 1);
  CALLREC_FUZZ_CHECK(!plan.rule.empty());
  if (!plan.agent) CALLREC_FUZZ_CHECK(plan.agent_id.empty());
}

inline void CheckIdentity(const std::optional<sip::RsMetadata>& metadata,
                          std::optional<std::string_view> contact_header,
                          std::optional<std::string_view> initial_header,
                          std::string_view call_id) {
  const sip::ContactIdentity identity =
      sip::DeriveIdentity(contact_header, initial_header, metadata, call_id);
  CALLREC_FUZZ_CHECK(sip::IsValidContactId(identity.contact_id));
  CALLREC_FUZZ_CHECK(sip::IsValidContactId(identity.initial_contact_id));
}

inline const std::regex& AgentMatch() {
  static const std::regex match("agent|1002", std::regex::icase);
  return match;
}

// Maps the offer with and without --agent-match, checking each plan.
inline void MapAndCheck(const sip::Offer& offer, const std::optional<sip::RsMetadata>& metadata) {
  CheckPlan(offer, sip::MapTracks(offer, metadata, std::nullopt));
  CheckPlan(offer, sip::MapTracks(offer, metadata, AgentMatch()));
}

// What SiprecServer does with an INVITE's body, and the checks above.
inline void PlanSession(std::string_view content_type, std::string_view body,
                        std::string_view source_address,
                        std::optional<std::string_view> contact_header = std::nullopt,
                        std::optional<std::string_view> initial_header = std::nullopt,
                        std::string_view call_id = "call-1@192.0.2.9") {
  const auto split = sip::SplitBody(content_type, body);
  if (!split) return CheckRefusal(split.error());
  CALLREC_FUZZ_CHECK(body.size() <= sip::kMaxBodyBytes);
  CALLREC_FUZZ_CHECK(split->sdp.size() <= body.size());
  const auto offer = sip::ParseOffer(split->sdp, source_address);
  if (!offer) return CheckRefusal(offer.error());
  CALLREC_FUZZ_CHECK(!offer->streams.empty() && offer->streams.size() <= sip::kMaxOfferedStreams);
  std::optional<sip::RsMetadata> metadata;
  if (split->metadata_xml) {
    auto parsed = sip::ParseRsMetadata(*split->metadata_xml);
    if (!parsed) return CheckRefusal(parsed.error());
    metadata = std::move(parsed).value();
  }
  MapAndCheck(*offer, metadata);
  CheckIdentity(metadata, contact_header, initial_header, call_id);
  CheckAnswer(*offer);
}

}  // namespace callrec::fuzz
