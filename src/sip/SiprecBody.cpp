#include "sip/SiprecBody.hpp"
#include "core/Text.hpp"

#include <algorithm>
#include <cctype>

namespace callrec::sip {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// One line of the body without its terminator (LF or CRLF).
std::string_view LineAt(std::string_view body, std::size_t pos, std::size_t* next) {
  const std::size_t newline = body.find('\n', pos);
  const std::size_t end = newline == std::string_view::npos ? body.size() : newline;
  *next = newline == std::string_view::npos ? std::string_view::npos : newline + 1;
  std::string_view line = body.substr(pos, end - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

enum class LineKind { kContent, kDelimiter, kCloseDelimiter };

// RFC 2046 5.1.1: "--" boundary, then "--" for the close delimiter, then only
// transport padding (spaces and tabs) up to the end of the line.
LineKind Classify(std::string_view line, std::string_view dash_boundary) {
  if (!line.starts_with(dash_boundary)) return LineKind::kContent;
  std::string_view rest = line.substr(dash_boundary.size());
  const bool close = rest.starts_with("--");
  if (close) rest.remove_prefix(2);
  for (const char c : rest) {
    if (c != ' ' && c != '\t') return LineKind::kContent;
  }
  return close ? LineKind::kCloseDelimiter : LineKind::kDelimiter;
}

struct Part {
  std::string content_type;  // lower-case media type; "text/plain" when absent (RFC 2046 5.1)
  std::string_view body;
};

// Headers up to the first empty line (folded lines joined), then the body.
Part ParsePart(std::string_view raw) {
  Part part{"text/plain", {}};
  std::string current;  // the header being unfolded
  auto finish_header = [&part](const std::string& header) {
    const std::size_t colon = header.find(':');
    if (colon == std::string::npos) return;
    const std::string name =
        core::AsciiLower(core::Trim(std::string_view(header).substr(0, colon)));
    if (name == "content-type" || name == "c") {
      part.content_type = MediaType(std::string_view(header).substr(colon + 1));
    }
  };
  std::size_t pos = 0;
  while (pos != std::string_view::npos && pos < raw.size()) {
    std::size_t next = 0;
    const std::string_view line = LineAt(raw, pos, &next);
    if (line.empty()) {
      part.body = next == std::string_view::npos ? std::string_view() : raw.substr(next);
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !current.empty()) {
      current += ' ';
      current += core::Trim(line);
    } else {
      finish_header(current);
      current = std::string(line);
    }
    pos = next;
  }
  finish_header(current);
  return part;
}

}  // namespace

std::string MediaType(std::string_view content_type) {
  const std::size_t semicolon = content_type.find(';');
  return core::AsciiLower(core::Trim(content_type.substr(0, semicolon)));
}

std::optional<std::string> HeaderParameter(std::string_view header_value, std::string_view name) {
  const std::string wanted = core::AsciiLower(name);
  std::size_t pos = header_value.find(';');
  while (pos != std::string_view::npos && pos < header_value.size()) {
    ++pos;  // past ';'
    const std::size_t equals = header_value.find_first_of("=;", pos);
    if (equals == std::string_view::npos || header_value[equals] == ';') {
      pos = equals;  // a parameter without value
      continue;
    }
    const std::string key = core::AsciiLower(core::Trim(header_value.substr(pos, equals - pos)));
    std::size_t cursor = equals + 1;
    while (cursor < header_value.size() && IsSpace(header_value[cursor])) ++cursor;
    std::string value;
    if (cursor < header_value.size() && header_value[cursor] == '"') {
      ++cursor;
      while (cursor < header_value.size() && header_value[cursor] != '"') {
        if (header_value[cursor] == '\\' && cursor + 1 < header_value.size()) ++cursor;
        value += header_value[cursor++];
      }
      pos = header_value.find(';', cursor);
    } else {
      const std::size_t end = header_value.find(';', cursor);
      value = std::string(core::Trim(header_value.substr(
          cursor, end == std::string_view::npos ? std::string_view::npos : end - cursor)));
      pos = end;
    }
    if (key == wanted) return value;
  }
  return std::nullopt;
}

core::Result<SiprecBody, SipError> SplitBody(std::string_view content_type, std::string_view body) {
  if (body.size() > kMaxBodyBytes) {
    return TooLarge("body of " + std::to_string(body.size()) + " bytes exceeds " +
                    std::to_string(kMaxBodyBytes));
  }
  const std::string type = MediaType(content_type);
  if (core::Trim(body).empty()) return BadRequest("empty body: SIPREC needs an SDP offer");
  if (type == "application/sdp") {
    if (body.size() > kMaxSdpBytes) return TooLarge("SDP larger than 32 KiB");
    return SiprecBody{std::string(body), std::nullopt, false, {}};
  }
  if (type != "multipart/mixed") {
    return UnsupportedMediaType("content type '" + std::string(type.empty() ? "(none)" : type) +
                                "' is neither multipart/mixed nor application/sdp");
  }
  const std::optional<std::string> boundary = HeaderParameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) {
    return BadRequest("multipart/mixed without a usable boundary parameter");
  }
  const std::string dash_boundary = "--" + *boundary;

  // Cut the body at delimiter lines. The line break before a delimiter belongs
  // to the delimiter, not to the part.
  std::vector<std::string_view> raw_parts;
  std::optional<std::size_t> part_start;
  bool closed = false;
  std::size_t pos = 0;
  while (pos != std::string_view::npos && pos <= body.size()) {
    std::size_t next = 0;
    const std::string_view line = LineAt(body, pos, &next);
    const LineKind kind = Classify(line, dash_boundary);
    if (kind != LineKind::kContent) {
      if (part_start) {
        std::size_t end = pos;
        if (end > *part_start && body[end - 1] == '\n') --end;
        if (end > *part_start && body[end - 1] == '\r') --end;
        raw_parts.push_back(body.substr(*part_start, end - *part_start));
        if (raw_parts.size() > kMaxBodyParts) return BadRequest("too many multipart parts");
      }
      if (kind == LineKind::kCloseDelimiter) {
        closed = true;
        break;
      }
      part_start = next == std::string_view::npos ? body.size() : next;
    }
    if (next == std::string_view::npos) break;
    pos = next;
  }
  if (!part_start && !closed) {
    return BadRequest("multipart body has no delimiter line '" + dash_boundary + "'");
  }
  if (!closed && part_start) raw_parts.push_back(body.substr(*part_start));
  if (raw_parts.empty()) return BadRequest("multipart body has no parts");

  SiprecBody result;
  result.multipart = true;
  bool have_sdp = false;
  for (std::size_t i = 0; i < raw_parts.size(); ++i) {
    const Part part = ParsePart(raw_parts[i]);
    const bool last_unclosed = !closed && i + 1 == raw_parts.size();
    if (part.content_type == "application/sdp") {
      if (last_unclosed) {
        return BadRequest("multipart body ends inside the SDP part: no closing delimiter '" +
                          dash_boundary + "--' (truncated?)");
      }
      if (have_sdp) return BadRequest("two application/sdp parts");
      if (part.body.size() > kMaxSdpBytes) return TooLarge("SDP part larger than 32 KiB");
      result.sdp = std::string(part.body);
      have_sdp = true;
    } else if (part.content_type == "application/rs-metadata+xml" ||
               part.content_type == "application/rs-metadata") {
      if (result.metadata_xml) return BadRequest("two rs-metadata parts");
      if (part.body.size() > kMaxMetadataPartBytes) {
        return TooLarge("rs-metadata part larger than 64 KiB");
      }
      result.metadata_xml = std::string(part.body);
    } else {
      result.other_parts.push_back(part.content_type);
    }
  }
  if (!have_sdp) return UnsupportedMediaType("no application/sdp part in the multipart body");
  return result;
}

}  // namespace callrec::sip
