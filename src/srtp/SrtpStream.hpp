#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/Result.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::srtp {

// Bytes SRTP adds to an RTP packet at most (auth tag; no MKI).
inline constexpr std::size_t kMaxTrailer = 16;

// Why a packet was not unprotected.
enum class Refusal {
  kAuthentication,  // the tag does not match: wrong key, or altered in transit
  kReplay,          // a packet already seen, or older than the replay window
  kMalformed,       // too short to be SRTP
};

// One direction of one RTP stream keyed by SDES, through libsrtp2: every SSRC
// the peer sends on the stream shares the key (a recording client that
// changes SSRC mid-call is still decrypted). Not thread-safe: one thread at a
// time per stream.
class SrtpStream {
 public:
  // Receiving: Unprotect() authenticates and decrypts in place.
  static core::Result<SrtpStream, std::string> Inbound(const SdesCrypto& key);
  // Sending: Protect() encrypts in place and appends the tag.
  static core::Result<SrtpStream, std::string> Outbound(const SdesCrypto& key);

  SrtpStream(SrtpStream&&) noexcept;
  SrtpStream& operator=(SrtpStream&&) noexcept;
  ~SrtpStream();

  // `packet` holds one SRTP packet; on success its first N bytes are the RTP
  // packet and N is returned. The bytes are garbage after a refusal.
  core::Result<std::size_t, Refusal> Unprotect(std::span<std::uint8_t> packet);
  // `buffer` holds an RTP packet of `length` bytes and has room for
  // kMaxTrailer more; returns the SRTP packet's length.
  core::Result<std::size_t, std::string> Protect(std::span<std::uint8_t> buffer,
                                                 std::size_t length);

  Suite suite() const { return suite_; }

 private:
  struct Session;
  static core::Result<std::unique_ptr<Session>, std::string> Create(const SdesCrypto& key,
                                                                    bool inbound);
  SrtpStream(std::unique_ptr<Session> session, Suite suite);
  std::unique_ptr<Session> session_;
  Suite suite_;
};

}  // namespace callrec::srtp
