// A recording client's SDP offer: sip::ParseOffer (sofia-sip's SDP parser behind
// callrec's own m-line check), the codec choice, and the answer built from it,
// which must parse again. Run with -rss_limit_mb=2048 -malloc_limit_mb=2048:
// sofia-sip 1.12.11 allocates without end on some m-lines ParseOffer must stop.
#include <cstddef>
#include <cstdint>

#include "SiprecChecks.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto offer = sip::ParseOffer(fuzz::AsText(data, size), "192.0.2.9");
  if (!offer) {
    fuzz::CheckRefusal(offer.error());
    return 0;
  }
  CALLREC_FUZZ_CHECK(!offer->streams.empty() && offer->streams.size() <= sip::kMaxOfferedStreams);
  for (const sip::OfferedStream& stream : offer->streams) {
    CALLREC_FUZZ_CHECK(!stream.address.empty());
    for (const sip::Codec& codec : stream.codecs) {
      CALLREC_FUZZ_CHECK(codec.payload_type >= 0 && codec.payload_type < 128);
    }
  }
  fuzz::MapAndCheck(*offer, std::nullopt);
  fuzz::CheckAnswer(*offer);
  return 0;
}
