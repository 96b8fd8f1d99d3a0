#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "media/G711.hpp"

#include "core/Text.hpp"

namespace callrec::callgen {

// One m-line of the offer: a stream the recording client sends.
struct OfferedStream {
  std::string label;      // a=label, matched against the answer and the metadata
  std::string stream_id;  // rs-metadata stream_id
  std::uint16_t port = 0;
  std::string crypto;  // a=crypto value (SDES): offered RTP/SAVP; empty: RTP/AVP
  // RFC 4733 events offered too (kTelephoneEventPayloadType, events 0-16).
  bool telephone_events = false;
};

// The SDP offer of a recording session (RFC 7866 section 8): one m=audio per
// stream, each a=sendonly (a=inactive while the client pauses) with its label.
struct SdpOffer {
  std::string local_ip;  // IPv4 or IPv6, for o= and c=
  std::uint64_t session_id = 0;
  std::uint64_t version = 0;  // o= version: one more for each re-INVITE
  media::Codec codec = media::Codec::kPcmu;
  bool inactive = false;
  std::vector<OfferedStream> streams;
};

std::string BuildSdp(const SdpOffer& offer);

// A participant of the recorded call (RFC 7865 section 6.5), with the streams
// (indexes into RsMetadata::streams) it sends and receives.
struct MetadataParticipant {
  std::string participant_id;
  std::string aor;
  std::string name;
  std::vector<std::size_t> sends;
  std::vector<std::size_t> receives;
};

// A complete rs-metadata document (RFC 7865, <datamode>complete</datamode>).
struct RsMetadata {
  std::string group_id;
  std::string session_id;
  std::string sip_session_id;  // optional <sipSessionID>
  std::string start_time;      // ISO 8601 UTC, e.g. 2024-05-01T10:00:00Z
  std::vector<MetadataParticipant> participants;
  std::vector<OfferedStream> streams;
};

std::string BuildRsMetadata(const RsMetadata& metadata);

// A MIME body part with its headers (without the trailing blank line).
struct BodyPart {
  std::string headers;  // e.g. "Content-Type: application/sdp"
  std::string content;
};

// multipart/mixed (RFC 2046): parts separated by --boundary, CRLF line ends.
std::string BuildMultipart(const std::vector<BodyPart>& parts, const std::string& boundary);

// The INVITE body of a recording session: the SDP and the metadata (with
// Content-Disposition: recording-session) as multipart/mixed.
struct SiprecBody {
  std::string content_type;  // multipart/mixed;boundary=...
  std::string body;
};
SiprecBody BuildSiprecBody(const std::string& sdp, const std::string& metadata,
                           const std::string& boundary);

// RFC 7865 identifiers are the base64 form of a 128-bit UUID.
std::string RandomMetadataId(std::mt19937& random);
// Escapes &, <, >, " and ' for XML text and attribute values.
inline std::string XmlEscape(const std::string& text) {
  return core::EscapeMarkup(text);
}

}  // namespace callrec::callgen
