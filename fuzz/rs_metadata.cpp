// RFC 7865 recording metadata (and the pre-RFC Oracle/Acme form): ParseRsMetadata
// on libxml2, then MapTracks against an offer with one audio stream per label
// the metadata names (and one unlabelled), and DeriveIdentity from it.
#include <cstddef>
#include <cstdint>

#include "SiprecChecks.hpp"

using namespace callrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = sip::ParseRsMetadata(fuzz::AsText(data, size));
  if (!parsed) {
    CALLREC_FUZZ_CHECK(parsed.error().status == 400 || parsed.error().status == 413);
    CALLREC_FUZZ_CHECK(!parsed.error().warning.empty());
    return 0;
  }
  const sip::RsMetadata& metadata = *parsed;
  sip::Offer offer;
  offer.origin_session_id = "1";
  for (const auto& [stream_id, label] : metadata.stream_labels) {
    if (offer.streams.size() + 1 == sip::kMaxOfferedStreams) break;
    sip::OfferedStream stream;
    stream.media = "audio";
    stream.label = label;
    stream.address = "192.0.2.9";
    stream.port = static_cast<std::uint16_t>(20000 + 2 * offer.streams.size());
    stream.protocol = "RTP/AVP";
    stream.codecs = {{0, "PCMU", 8000}};
    stream.formats = {"0"};
    offer.streams.push_back(std::move(stream));
  }
  sip::OfferedStream unlabelled;
  unlabelled.media = "audio";
  unlabelled.address = "192.0.2.9";
  unlabelled.port = 30000;
  unlabelled.protocol = "RTP/AVP";
  unlabelled.codecs = {{8, "PCMA", 8000}};
  unlabelled.formats = {"8"};
  offer.streams.push_back(std::move(unlabelled));

  fuzz::MapAndCheck(offer, metadata);
  fuzz::CheckIdentity(metadata, std::nullopt, std::nullopt, "call-1@192.0.2.9");
  return 0;
}
