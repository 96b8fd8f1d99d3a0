#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace callrec::aws {

using Digest = std::array<std::uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);
inline std::string_view AsView(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}
std::string Hex(std::string_view bytes);
inline std::string Hex(const Digest& d) {
  return Hex(AsView(d));
}
inline std::string Sha256Hex(std::string_view data) {
  return Hex(Sha256(data));
}

// Compares without an early exit, so timing does not reveal the first difference.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Cryptographically strong random bytes, as lowercase hex or from an alphabet.
std::string RandomToken(std::size_t length, std::string_view alphabet);

}  // namespace callrec::aws
