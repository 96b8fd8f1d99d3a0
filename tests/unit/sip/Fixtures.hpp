#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "sip/RsMetadata.hpp"
#include "sip/SdpOffer.hpp"
#include "sip/SiprecBody.hpp"

namespace callrec::sip::fixtures {

// The bytes of tests/fixtures/siprec/<name> (a request body only).
inline std::string ReadSiprecFixture(const std::string& name) {
  std::ifstream in(std::string(CALLREC_FIXTURES_DIR) + "/siprec/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The Content-Type the SRC sent with a fixture: multipart/mixed with the
// boundary of the first "--" line, else application/sdp.
inline std::string ContentTypeOf(const std::string& body) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("--")) return "multipart/mixed;boundary=" + line.substr(2);
    pos = end + 1;
  }
  return "application/sdp";
}

inline SiprecBody SplitFixture(const std::string& name) {
  const std::string body = ReadSiprecFixture(name);
  auto split = SplitBody(ContentTypeOf(body), body);
  if (!split) return {};
  return split.value();
}

inline Offer OfferOf(const std::string& name) {
  auto offer = ParseOffer(SplitFixture(name).sdp, "198.51.100.7");
  return offer ? offer.value() : Offer{};
}

inline std::optional<RsMetadata> MetadataOf(const std::string& name) {
  const SiprecBody body = SplitFixture(name);
  if (!body.metadata_xml) return std::nullopt;
  auto metadata = ParseRsMetadata(*body.metadata_xml);
  if (!metadata) return std::nullopt;
  return metadata.value();
}

}  // namespace callrec::sip::fixtures
