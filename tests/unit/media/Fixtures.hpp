#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace callrec::media::fixtures {

// The bytes of tests/fixtures/rtp/<name>, written by make_rtp_fixtures.py.
inline std::vector<std::uint8_t> ReadRtpFixture(const std::string& name) {
  std::ifstream in(std::string(CALLREC_FIXTURES_DIR) + "/rtp/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// (start + i) mod 256 for i in [0, length): the payloads of the fixtures.
inline std::vector<std::uint8_t> Pattern(std::size_t length, std::uint8_t start) {
  std::vector<std::uint8_t> bytes(length);
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<std::uint8_t>(start + i);
  return bytes;
}

}  // namespace callrec::media::fixtures
