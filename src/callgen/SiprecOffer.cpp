#include "callgen/SiprecOffer.hpp"

#include <array>

#include "callgen/DtmfPlan.hpp"

namespace callrec::callgen {
namespace {

std::string Base64(const std::uint8_t* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t chunk = static_cast<std::uint32_t>(data[i]) << 16 |
                                (i + 1 < size ? static_cast<std::uint32_t>(data[i + 1]) << 8 : 0) |
                                (i + 2 < size ? static_cast<std::uint32_t>(data[i + 2]) : 0);
    out += kAlphabet[chunk >> 18 & 63];
    out += kAlphabet[chunk >> 12 & 63];
    out += i + 1 < size ? kAlphabet[chunk >> 6 & 63] : '=';
    out += i + 2 < size ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

}  // namespace

std::string BuildSdp(const SdpOffer& offer) {
  const char* family = offer.local_ip.find(':') == std::string::npos ? "IP4" : "IP6";
  const bool pcmu = offer.codec == media::Codec::kPcmu;
  const std::string payload_type = pcmu ? "0" : "8";
  std::string sdp;
  sdp += "v=0\r\n";
  sdp += "o=callgen " + std::to_string(offer.session_id) + " " + std::to_string(offer.version) +
         " IN " + family + " " + offer.local_ip + "\r\n";
  sdp += "s=callrec-callgen\r\n";
  sdp += std::string("c=IN ") + family + " " + offer.local_ip + "\r\n";
  sdp += "t=0 0\r\n";
  for (const auto& stream : offer.streams) {
    const char* profile = stream.crypto.empty() ? " RTP/AVP " : " RTP/SAVP ";
    const std::string events = std::to_string(kTelephoneEventPayloadType);
    sdp += "m=audio " + std::to_string(stream.port) + profile + payload_type +
           (stream.telephone_events ? " " + events : "") + "\r\n";
    sdp += "a=rtpmap:" + payload_type + (pcmu ? " PCMU/8000\r\n" : " PCMA/8000\r\n");
    if (stream.telephone_events) {
      sdp += "a=rtpmap:" + events + " telephone-event/8000\r\n";
      sdp += "a=fmtp:" + events + " 0-16\r\n";
    }
    if (!stream.crypto.empty()) sdp += "a=crypto:" + stream.crypto + "\r\n";
    sdp += "a=ptime:20\r\n";
    sdp += "a=label:" + stream.label + "\r\n";
    sdp += offer.inactive ? "a=inactive\r\n" : "a=sendonly\r\n";
  }
  return sdp;
}

std::string BuildRsMetadata(const RsMetadata& m) {
  std::string x;
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n";
  x += "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\r\n";
  x += "  <datamode>complete</datamode>\r\n";
  x += "  <group group_id=\"" + XmlEscape(m.group_id) + "\">\r\n";
  if (!m.start_time.empty()) {
    x += "    <associate-time>" + XmlEscape(m.start_time) + "</associate-time>\r\n";
  }
  x += "  </group>\r\n";
  x += "  <session session_id=\"" + XmlEscape(m.session_id) + "\">\r\n";
  x += "    <group-ref>" + XmlEscape(m.group_id) + "</group-ref>\r\n";
  if (!m.sip_session_id.empty()) {
    x += "    <sipSessionID>" + XmlEscape(m.sip_session_id) + "</sipSessionID>\r\n";
  }
  if (!m.start_time.empty()) {
    x += "    <start-time>" + XmlEscape(m.start_time) + "</start-time>\r\n";
  }
  x += "  </session>\r\n";
  for (const auto& p : m.participants) {
    x += "  <participant participant_id=\"" + XmlEscape(p.participant_id) + "\">\r\n";
    x += "    <nameID aor=\"" + XmlEscape(p.aor) + "\">\r\n";
    x += "      <name xml:lang=\"en\">" + XmlEscape(p.name) + "</name>\r\n";
    x += "    </nameID>\r\n";
    x += "  </participant>\r\n";
    x += "  <participantsessionassoc participant_id=\"" + XmlEscape(p.participant_id) +
         "\" session_id=\"" + XmlEscape(m.session_id) + "\">\r\n";
    if (!m.start_time.empty()) {
      x += "    <associate-time>" + XmlEscape(m.start_time) + "</associate-time>\r\n";
    }
    x += "  </participantsessionassoc>\r\n";
  }
  for (const auto& s : m.streams) {
    x += "  <stream stream_id=\"" + XmlEscape(s.stream_id) + "\" session_id=\"" +
         XmlEscape(m.session_id) + "\">\r\n";
    x += "    <label>" + XmlEscape(s.label) + "</label>\r\n";
    x += "  </stream>\r\n";
  }
  for (const auto& p : m.participants) {
    x += "  <participantstreamassoc participant_id=\"" + XmlEscape(p.participant_id) + "\">\r\n";
    for (const std::size_t i : p.sends) {
      x += "    <send>" + XmlEscape(m.streams.at(i).stream_id) + "</send>\r\n";
    }
    for (const std::size_t i : p.receives) {
      x += "    <recv>" + XmlEscape(m.streams.at(i).stream_id) + "</recv>\r\n";
    }
    x += "  </participantstreamassoc>\r\n";
  }
  x += "</recording>\r\n";
  return x;
}

std::string BuildMultipart(const std::vector<BodyPart>& parts, const std::string& boundary) {
  std::string body;
  for (const auto& part : parts) {
    body += "--" + boundary + "\r\n";
    body += part.headers + "\r\n\r\n";
    body += part.content;
    if (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0) body += "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

SiprecBody BuildSiprecBody(const std::string& sdp, const std::string& metadata,
                           const std::string& boundary) {
  return SiprecBody{"multipart/mixed;boundary=" + boundary,
                    BuildMultipart({BodyPart{"Content-Type: application/sdp", sdp},
                                    BodyPart{"Content-Type: application/rs-metadata+xml\r\n"
                                             "Content-Disposition: recording-session",
                                             metadata}},
                                   boundary)};
}

std::string RandomMetadataId(std::mt19937& random) {
  std::array<std::uint8_t, 16> uuid;
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : uuid) b = static_cast<std::uint8_t>(byte(random));
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0F) | 0x40);  // version 4
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Base64(uuid.data(), uuid.size());
}

}  // namespace callrec::callgen
