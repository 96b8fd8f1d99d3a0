// RTP/RTCP datagrams as they arrive on a leg's UDP port (media::Recorder::Receive):
// ParseRtp, IsRtcp, and the RFC 4733 telephone-event of the payload; and the
// same bytes as SRTP on a keyed leg (srtp::SrtpStream::Unprotect, in place).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "FuzzCheck.hpp"
#include "media/RtpPacket.hpp"
#include "media/TelephoneEvent.hpp"
#include "srtp/SrtpStream.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    // A fixed key: what arrives is almost never authentic; nothing may be read
    // or written outside the packet, and a success leaves a shorter packet.
    static srtp::SrtpStream leg =
        srtp::SrtpStream::Inbound(srtp::SdesCrypto{1, srtp::Suite::kAesCm128HmacSha1_32,
                                                   std::vector<std::uint8_t>(30, 7)})
            .value();
    std::vector<std::uint8_t> copy(data, data + size);
    const auto length = leg.Unprotect(copy);
    if (length) CALLREC_FUZZ_CHECK(*length <= size);
  }
  const std::span<const std::uint8_t> datagram(data, size);
  const bool rtcp = media::IsRtcp(datagram);
  const auto packet = media::ParseRtp(datagram);
  if (!packet) return 0;
  // RFC 5761: what demultiplexes as RTCP is never taken as RTP.
  CALLREC_FUZZ_CHECK(!rtcp);
  CALLREC_FUZZ_CHECK(size >= 12 && (data[0] >> 6) == 2);
  CALLREC_FUZZ_CHECK(packet->payload_type < 128);
  // The payload is a view inside the datagram, after the fixed header.
  CALLREC_FUZZ_CHECK(packet->payload.size() <= size - 12);
  if (!packet->payload.empty()) {
    CALLREC_FUZZ_CHECK(packet->payload.data() >= data + 12);
    CALLREC_FUZZ_CHECK(packet->payload.data() + packet->payload.size() <= data + size);
  }
  const auto event = media::ParseTelephoneEvent(packet->payload);
  CALLREC_FUZZ_CHECK(event.has_value() == (packet->payload.size() >= 4));
  if (event) CALLREC_FUZZ_CHECK(event->volume <= 63);
  return 0;
}
