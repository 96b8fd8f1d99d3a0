#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"

namespace callrec::callgen {

enum class MediaDirection { kInactive, kSendOnly, kRecvOnly, kSendRecv };

// One m-line of the recorder's answer.
struct AnsweredStream {
  std::string label;       // empty when the m-line has no a=label
  std::string address;     // the m-line's c=, else the session's
  std::uint16_t port = 0;  // 0: the recorder refused this stream
  MediaDirection direction = MediaDirection::kSendRecv;
  std::string protocol;  // RTP/AVP, RTP/SAVP, ...
  std::string crypto;    // the first a=crypto value, "" when none
  // The payload type of telephone-event/8000 when the answer accepts it.
  std::optional<std::uint8_t> telephone_event_pt{};
};

// Parses an SDP answer with sofia-sip's parser. Refuses what does not parse
// or has no m-line.
core::Result<std::vector<AnsweredStream>, std::string> ParseAnswerSdp(std::string_view sdp);

// The answered stream for an offered label: the m-line with the same a=label,
// or, when the answer carries no labels at all, the m-line at the offer's
// position (RFC 3264 keeps the order). nullopt when there is none.
std::optional<AnsweredStream> FindAnswer(const std::vector<AnsweredStream>& answer,
                                         const std::string& label, std::size_t offer_index);

// The SDP of a response body: the body itself for application/sdp, the
// application/sdp part of a multipart body. nullopt when there is none.
std::optional<std::string> SdpOfBody(std::string_view content_type, std::string_view body);

}  // namespace callrec::callgen
