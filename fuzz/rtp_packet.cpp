// RTP/RTCP datagrams as they arrive on a leg's UDP port (media::Recorder::Receive):
// ParseRtp, IsRtcp, and the RFC 4733 telephone-event of the payload.
#include <cstddef>
#include <cstdint>
#include <span>

#include "FuzzCheck.hpp"
#include "media/RtpPacket.hpp"
#include "media/TelephoneEvent.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
