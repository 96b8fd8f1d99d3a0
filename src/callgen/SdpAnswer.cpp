#include "callgen/SdpAnswer.hpp"
#include "core/Text.hpp"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace callrec::callgen {
namespace {

// The boundary parameter of a multipart Content-Type, quotes removed.
std::optional<std::string> Boundary(std::string_view content_type) {
  const std::string lower = core::AsciiLower(content_type);
  const auto at = lower.find("boundary=");
  if (at == std::string::npos) return std::nullopt;
  std::string_view value = content_type.substr(at + 9);
  value = value.substr(0, value.find(';'));
  value = core::Trim(value, " \t\r");
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty()) return std::nullopt;
  return std::string(value);
}

}  // namespace

core::Result<std::vector<AnsweredStream>, std::string> ParseAnswerSdp(std::string_view sdp) {
  std::unique_ptr<su_home_t, decltype(&su_home_unref)> home(su_home_create(), &su_home_unref);
  if (!home) return std::string("out of memory");
  sdp_parser_t* parser =
      sdp_parse(home.get(), sdp.data(), static_cast<issize_t>(sdp.size()), sdp_f_anynet);
  std::unique_ptr<sdp_parser_t, decltype(&sdp_parser_free)> owner(parser, &sdp_parser_free);
  if (const char* error = sdp_parsing_error(parser)) {
    return std::string("answer SDP does not parse: ") + error;
  }
  sdp_session_t* session = sdp_session(parser);
  if (session == nullptr || session->sdp_media == nullptr) {
    return std::string("answer SDP has no m-line");
  }
  std::vector<AnsweredStream> streams;
  for (const sdp_media_t* m = session->sdp_media; m != nullptr; m = m->m_next) {
    AnsweredStream stream;
    if (m->m_proto_name != nullptr) stream.protocol = m->m_proto_name;
    if (const sdp_attribute_t* crypto = sdp_attribute_find(m->m_attributes, "crypto")) {
      if (crypto->a_value != nullptr) stream.crypto = crypto->a_value;
    }
    if (const sdp_attribute_t* label = sdp_attribute_find(m->m_attributes, "label")) {
      if (label->a_value != nullptr) stream.label = label->a_value;
    }
    for (const sdp_rtpmap_t* map = m->m_rtpmaps; map != nullptr; map = map->rm_next) {
      if (map->rm_encoding != nullptr && core::AsciiLower(map->rm_encoding) == "telephone-event" &&
          map->rm_rate == 8000 && !stream.telephone_event_pt) {
        stream.telephone_event_pt = static_cast<std::uint8_t>(map->rm_pt);
      }
    }
    if (const sdp_connection_t* c = sdp_media_connections(m); c && c->c_address) {
      stream.address = c->c_address;
    }
    stream.port = m->m_rejected || m->m_port > 65535 ? 0 : static_cast<std::uint16_t>(m->m_port);
    switch (m->m_mode) {
      case sdp_inactive:
        stream.direction = MediaDirection::kInactive;
        break;
      case sdp_sendonly:
        stream.direction = MediaDirection::kSendOnly;
        break;
      case sdp_recvonly:
        stream.direction = MediaDirection::kRecvOnly;
        break;
      default:
        stream.direction = MediaDirection::kSendRecv;
    }
    streams.push_back(std::move(stream));
  }
  return streams;
}

std::optional<AnsweredStream> FindAnswer(const std::vector<AnsweredStream>& answer,
                                         const std::string& label, std::size_t offer_index) {
  const bool any_label =
      std::any_of(answer.begin(), answer.end(), [](const auto& s) { return !s.label.empty(); });
  if (any_label) {
    const auto it =
        std::find_if(answer.begin(), answer.end(), [&](const auto& s) { return s.label == label; });
    if (it == answer.end()) return std::nullopt;
    return *it;
  }
  if (offer_index < answer.size()) return answer[offer_index];
  return std::nullopt;
}

std::optional<std::string> SdpOfBody(std::string_view content_type, std::string_view body) {
  const std::string type =
      core::AsciiLower(core::Trim(content_type.substr(0, content_type.find(';')), " \t\r"));
  if (type == "application/sdp") return std::string(body);
  if (type.rfind("multipart/", 0) != 0) return std::nullopt;
  const auto boundary = Boundary(content_type);
  if (!boundary) return std::nullopt;
  const std::string delimiter = "--" + *boundary;
  std::size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    std::size_t start = body.find('\n', at);
    if (start == std::string_view::npos) break;
    ++start;
    const std::size_t next = body.find(delimiter, start);
    if (next == std::string_view::npos) break;
    std::string_view part = body.substr(start, next - start);
    // Headers end at the first empty line (CRLF or LF).
    std::size_t headers_end = part.find("\r\n\r\n");
    std::size_t content_start = headers_end == std::string_view::npos ? 0 : headers_end + 4;
    if (headers_end == std::string_view::npos) {
      headers_end = part.find("\n\n");
      content_start = headers_end == std::string_view::npos ? 0 : headers_end + 2;
    }
    if (headers_end != std::string_view::npos) {
      const std::string headers = core::AsciiLower(part.substr(0, headers_end));
      if (headers.find("content-type: application/sdp") != std::string::npos ||
          headers.find("content-type:application/sdp") != std::string::npos) {
        std::string_view content = part.substr(content_start);
        // The CRLF before the delimiter belongs to the delimiter (RFC 2046).
        if (content.size() >= 2 && content.substr(content.size() - 2) == "\r\n") {
          content.remove_suffix(2);
        } else if (!content.empty() && content.back() == '\n') {
          content.remove_suffix(1);
        }
        return std::string(content) + "\r\n";
      }
    }
    at = next;
  }
  return std::nullopt;
}

}  // namespace callrec::callgen
