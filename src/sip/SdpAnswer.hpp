#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/SdpOffer.hpp"

namespace callrec::sip {

// What callrec answers for one offered stream.
struct AnsweredStream {
  Direction direction = Direction::kRecvOnly;
  std::uint16_t port = 0;  // 0 = declined
  int payload_type = 0;
  std::optional<int> telephone_event_pt;
  std::optional<std::string> crypto;  // our a=crypto value for an SRTP stream
};

// A plain SDP answer (not multipart, CRLF line ends): one m-line per offered
// stream, in the same order, with the same media and protocol; for an accepted
// stream the chosen codec's a=rtpmap (and telephone-event with fmtp 0-15 when
// chosen), a=<direction>, and the offered a=label echoed. A declined stream
// (port 0) carries the offer's first format. `streams` has one entry per
// offered stream (missing entries are declined).
std::string BuildAnswer(const Offer& offer, const std::vector<AnsweredStream>& streams,
                        std::string_view local_address /* IPv4 or IPv6 */, std::uint64_t session_id,
                        std::uint64_t session_version);

// The codec to record a stream with: PCMU preferred, else PCMA (both at 8000
// Hz). nullopt when the stream cannot be recorded (not audio, neither RTP nor
// SDES-keyed SRTP (see ProfileOf), no G.711): the caller declines it, or answers 488 when no
// stream is left.
std::optional<int> ChooseAudioCodec(const OfferedStream& stream);

}  // namespace callrec::sip
