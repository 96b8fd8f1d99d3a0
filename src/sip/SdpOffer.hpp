#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"
#include "sip/SipError.hpp"

namespace callrec::sip {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };

// "sendrecv", "sendonly", "recvonly", "inactive".
std::string_view DirectionName(Direction direction);

struct Codec {
  int payload_type = 0;
  std::string name;  // upper-case: PCMU, PCMA, TELEPHONE-EVENT, G729, ...
  int clock_rate = 8000;
};

// One m-line of an SRC's offer.
struct OfferedStream {
  std::string media;       // "audio", "video", ... (lower-case)
  std::string label;       // a=label value ("" when absent)
  std::string address;     // m-line c=, else session c=, else the signalling source address
  std::uint16_t port = 0;  // 0: the SRC disabled the stream
  std::string protocol;    // RTP/AVP, RTP/SAVP, ...
  Direction direction = Direction::kSendRecv;  // media-level attribute, else session-level
  std::vector<Codec> codecs;  // in offer order; static PTs (0, 8, 18, ...) known without rtpmap
  std::optional<int> telephone_event_pt;  // telephone-event/8000
  std::vector<std::string> formats;       // the m-line's formats as sent (for a declining answer)
  std::vector<std::string> crypto;        // a=crypto values (SDES, RFC 4568), in offer order
};

// How a stream's media travels: RTP/AVP(F) is plain RTP, RTP/SAVP(F) is SRTP
// keyed by the stream's a=crypto; anything else (DTLS-SRTP's UDP/TLS/RTP/SAVP,
// non-RTP) callrec cannot record.
enum class MediaProfile { kPlainRtp, kSrtp, kOther };
MediaProfile ProfileOf(const OfferedStream& stream);

struct Offer {
  std::string origin_session_id;  // o= sess-id
  std::uint64_t origin_version = 0;
  std::vector<OfferedStream> streams;  // in m-line order
};

inline constexpr std::size_t kMaxOfferedStreams = 16;
inline constexpr std::size_t kMaxCryptoPerStream = 8;  // more a=crypto lines are ignored

// Parses an SDP offer with sofia-sip's SDP parser. Tolerates what real SRCs
// send: no session-level c= (or no c= at all: Connectel), no t=, unknown
// attributes. `signalling_source_address` is the media address when the SDP
// has no c= at all. Garbage, no o= line, a port over 65535, or more than
// kMaxOfferedStreams m-lines -> 400; larger than 32 KiB -> 413.
core::Result<Offer, SipError> ParseOffer(std::string_view sdp,
                                         std::string_view signalling_source_address);

}  // namespace callrec::sip
