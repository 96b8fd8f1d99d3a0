#include "sip/SdpOffer.hpp"

#include <sofia-sip/sdp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <utility>

#include "core/Text.hpp"
#include "sip/SiprecBody.hpp"

namespace callrec::sip {
namespace {

struct ParserDeleter {
  void operator()(sdp_parser_t* parser) const { sdp_parser_free(parser); }
};

// The last direction attribute in a list (RFC 4566 allows one; the last wins if
// a client repeats them).
std::optional<Direction> DirectionOf(const sdp_attribute_t* attributes) {
  std::optional<Direction> found;
  for (const sdp_attribute_t* a = attributes; a != nullptr; a = a->a_next) {
    const std::string name = core::AsciiLower(a->a_name == nullptr ? "" : a->a_name);
    if (name == "sendrecv") found = Direction::kSendRecv;
    if (name == "sendonly") found = Direction::kSendOnly;
    if (name == "recvonly") found = Direction::kRecvOnly;
    if (name == "inactive") found = Direction::kInactive;
  }
  return found;
}

std::string LabelOf(const sdp_attribute_t* attributes) {
  for (const sdp_attribute_t* a = attributes; a != nullptr; a = a->a_next) {
    if (a->a_name != nullptr && core::AsciiLower(a->a_name) == "label") {
      return a->a_value == nullptr ? "" : a->a_value;
    }
  }
  return "";
}

bool IsTokenChar(char c) {  // RFC 4566 token-char
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x27) || u == 0x2a || u == 0x2b || u == 0x2d ||
         u == 0x2e || (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) ||
         (u >= 0x5e && u <= 0x7e);
}

bool IsToken(std::string_view field, std::string_view also = {}) {
  return !field.empty() && std::all_of(field.begin(), field.end(), [also](char c) {
    return IsTokenChar(c) || also.find(c) != std::string_view::npos;
  });
}

// RFC 4566 proto = token *("/" token): "RTP/AVP", never "/t" or "RTP//AVP"
// (sofia-sip takes those, and an answer echoing them does not parse: found by
// fuzz/sdp_offer).
bool IsProto(std::string_view field) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = field.find('/', start);
    if (!IsToken(field.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// Checks every m= line against RFC 4566 before sofia-sip sees it: sofia-sip
// 1.12.11 allocates without end on a non-RTP format that is not a token
// ("m=audio 1 TCP <x"). Records are split as sofia-sip splits them (at CR or
// LF, leading blanks skipped). Returns what is wrong, or nullopt.
std::optional<std::string> CheckMediaLines(std::string_view sdp) {
  if (sdp.find('\0') != std::string_view::npos) return "SDP contains a NUL byte";
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || !line.substr(first).starts_with("m=")) continue;
    // RFC 4566 separates the fields with SP only; sofia-sip also allocates
    // without end on tabs after a non-RTP protocol ("m=audio 1 udp\t\t", found
    // by fuzz/sdp_offer).
    if (line.find('\t', first) != std::string_view::npos) {
      return "SDP m-line not valid: '" + std::string(line.substr(0, 80)) + "'";
    }
    std::vector<std::string_view> fields;
    std::string_view rest = line.substr(first + 2);
    while (!rest.empty()) {
      const std::size_t start = rest.find_first_not_of(" \t");
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      const std::size_t stop = std::min(rest.find_first_of(" \t"), rest.size());
      fields.push_back(rest.substr(0, stop));
      rest.remove_prefix(stop);
    }
    const std::string what = "SDP m-line not valid: '" + std::string(line.substr(0, 80)) + "'";
    if (fields.size() < 3 || !IsToken(fields[0]) || !IsProto(fields[2])) return what;
    const std::string_view port = fields[1];
    const std::size_t slash = port.find('/');
    const auto digits = [](std::string_view d) {
      return !d.empty() && d.size() <= 5 &&
             std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!digits(port.substr(0, slash)) ||
        (slash != std::string_view::npos && !digits(port.substr(slash + 1)))) {
      return what;
    }
    for (std::size_t i = 3; i < fields.size(); ++i) {
      if (!IsToken(fields[i])) return what;
    }
  }
  return std::nullopt;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         core::AsciiUpper(text.substr(0, prefix.size())) == core::AsciiUpper(prefix);
}

std::optional<int> PayloadType(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > 127) {
    return std::nullopt;
  }
  return value;
}

// "a=rtpmap:<pt> <name>/<rate>[/<channels>]" for this payload type.
std::optional<std::pair<std::string, unsigned long>> RtpMapAttribute(
    const sdp_attribute_t* attributes, int payload_type) {
  for (const sdp_attribute_t* a = attributes; a != nullptr; a = a->a_next) {
    if (a->a_name == nullptr || a->a_value == nullptr || core::AsciiLower(a->a_name) != "rtpmap") {
      continue;
    }
    const std::string_view value(a->a_value);
    const std::size_t space = value.find(' ');
    if (space == std::string_view::npos || PayloadType(value.substr(0, space)) != payload_type) {
      continue;
    }
    const std::string_view map = value.substr(space + 1);
    const std::size_t slash = map.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view rate = map.substr(slash + 1, map.find('/', slash + 1) - slash - 1);
    unsigned long clock_rate = 0;
    const auto [end, error] = std::from_chars(rate.data(), rate.data() + rate.size(), clock_rate);
    if (error != std::errc() || end != rate.data() + rate.size()) return std::nullopt;
    return std::pair{std::string(map.substr(0, slash)), clock_rate};
  }
  return std::nullopt;
}

void AddCodec(OfferedStream& stream, int payload_type, std::string_view name,
              unsigned long clock_rate) {
  if (name.empty() || clock_rate > 1000000) return;  // a payload type without a known codec
  Codec codec{payload_type, core::AsciiUpper(name), static_cast<int>(clock_rate)};
  if (codec.name == "TELEPHONE-EVENT" && codec.clock_rate == 8000 && !stream.telephone_event_pt) {
    stream.telephone_event_pt = payload_type;
  }
  stream.codecs.push_back(std::move(codec));
}

OfferedStream ToStream(const sdp_media_t& m, const sdp_session_t& session,
                       std::string_view signalling_source_address) {
  OfferedStream stream;
  stream.media = core::AsciiLower(m.m_type_name == nullptr ? "" : m.m_type_name);
  stream.label = LabelOf(m.m_attributes);
  for (const sdp_attribute_t* a = m.m_attributes; a != nullptr; a = a->a_next) {
    if (a->a_name != nullptr && a->a_value != nullptr && core::AsciiLower(a->a_name) == "crypto" &&
        stream.crypto.size() < kMaxCryptoPerStream) {
      stream.crypto.emplace_back(a->a_value);
    }
  }
  // An empty c= address (sofia-sip makes "" of "c=IN IP4 /04 ...", found by
  // fuzz/sdp_offer) counts as none.
  const auto usable = [](const sdp_connection_t* c) {
    return c != nullptr && c->c_address != nullptr && c->c_address[0] != '\0';
  };
  if (usable(m.m_connections)) {
    stream.address = m.m_connections->c_address;
  } else if (usable(session.sdp_connection)) {
    stream.address = session.sdp_connection->c_address;
  } else {
    stream.address = std::string(signalling_source_address);
  }
  stream.port = static_cast<std::uint16_t>(m.m_port);
  stream.protocol = m.m_proto_name == nullptr ? "" : m.m_proto_name;
  stream.direction =
      DirectionOf(m.m_attributes)
          .value_or(DirectionOf(session.sdp_attributes).value_or(Direction::kSendRecv));
  // sofia-sip turns the formats of the RTP profiles it knows (RTP/AVP,
  // RTP/SAVP) into m_rtpmaps, in m-line order, well-known static types filled
  // in and unknown ones with an empty name.
  for (const sdp_rtpmap_t* map = m.m_rtpmaps; map != nullptr; map = map->rm_next) {
    const int pt = static_cast<int>(map->rm_pt);
    stream.formats.push_back(std::to_string(pt));
    if (map->rm_encoding != nullptr) {
      AddCodec(stream, pt, map->rm_encoding, static_cast<unsigned long>(map->rm_rate));
    }
  }
  // Other profiles (RTP/AVPF, ...) keep plain formats and a=rtpmap attributes.
  const bool other_rtp = m.m_rtpmaps == nullptr && StartsWithNoCase(stream.protocol, "RTP/");
  for (const sdp_list_t* f = m.m_format; f != nullptr; f = f->l_next) {
    if (f->l_text == nullptr) continue;
    stream.formats.emplace_back(f->l_text);
    const std::optional<int> pt = other_rtp ? PayloadType(f->l_text) : std::nullopt;
    if (!pt) continue;
    if (auto mapped = RtpMapAttribute(m.m_attributes, *pt)) {
      AddCodec(stream, *pt, mapped->first, mapped->second);
    } else if (const sdp_rtpmap_t* known = sdp_rtpmap_well_known[*pt]) {
      AddCodec(stream, *pt, known->rm_encoding, known->rm_rate);
    }
  }
  return stream;
}

}  // namespace

MediaProfile ProfileOf(const OfferedStream& stream) {
  const std::string protocol = core::AsciiLower(stream.protocol);
  if (protocol == "rtp/avp" || protocol == "rtp/avpf") return MediaProfile::kPlainRtp;
  if (protocol == "rtp/savp" || protocol == "rtp/savpf") return MediaProfile::kSrtp;
  return MediaProfile::kOther;
}

std::string_view DirectionName(Direction direction) {
  switch (direction) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

core::Result<Offer, SipError> ParseOffer(std::string_view sdp,
                                         std::string_view signalling_source_address) {
  if (sdp.size() > kMaxSdpBytes) return TooLarge("SDP larger than 32 KiB");
  // Blank lines before v= (a body captured with its separator line) are harmless.
  const std::size_t start = sdp.find_first_not_of(" \t\r\n");
  sdp.remove_prefix(start == std::string_view::npos ? sdp.size() : start);
  if (auto wrong = CheckMediaLines(sdp)) return BadRequest(std::move(*wrong));
  // Flags: no c= required per m-line (Connectel sends none at all), and direction
  // attributes left as attributes (we read them ourselves, media level first).
  const int flags = sdp_f_c_missing | sdp_f_mode_manual;
  std::unique_ptr<sdp_parser_t, ParserDeleter> parser(
      sdp_parse(nullptr, sdp.data(), static_cast<issize_t>(sdp.size()), flags));
  if (!parser) return BadRequest("SDP could not be parsed");
  if (const char* error = sdp_parsing_error(parser.get())) {
    return BadRequest(std::string("SDP not valid: ") + error);
  }
  const sdp_session_t* session = sdp_session(parser.get());
  if (session == nullptr || session->sdp_origin == nullptr) {
    return BadRequest("SDP without o= line");
  }
  Offer offer;
  offer.origin_session_id = std::to_string(session->sdp_origin->o_id);
  offer.origin_version = session->sdp_origin->o_version;
  for (const sdp_media_t* m = session->sdp_media; m != nullptr; m = m->m_next) {
    if (offer.streams.size() == kMaxOfferedStreams) {
      return BadRequest("SDP offers more than " + std::to_string(kMaxOfferedStreams) + " streams");
    }
    if (m->m_port > 65535) return BadRequest("SDP m-line port " + std::to_string(m->m_port));
    offer.streams.push_back(ToStream(*m, *session, signalling_source_address));
  }
  if (offer.streams.empty()) return BadRequest("SDP offers no m-line");
  return offer;
}

}  // namespace callrec::sip
