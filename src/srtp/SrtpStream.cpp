#include "srtp/SrtpStream.hpp"

#include <srtp2/srtp.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace callrec::srtp {
namespace {

// Late packets are recorded as long as RecordingSession still wants them:
// libsrtp's default window of 128 packets (2.5 s of 20 ms audio) is widened.
constexpr unsigned long kReplayWindow = 1024;

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (srtp_init() != srtp_err_status_ok) throw std::runtime_error("libsrtp2 failed to start");
  });
}

void SetPolicy(Suite suite, srtp_crypto_policy_t* rtp, srtp_crypto_policy_t* rtcp) {
  switch (suite) {
    case Suite::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
      return;
    case Suite::kAesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);  // RFC 4568 6.2.2
      return;
    case Suite::kAes256CmHmacSha1_80:
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
      return;
    case Suite::kAes256CmHmacSha1_32:
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
      return;
  }
}

}  // namespace

struct SrtpStream::Session {
  srtp_t context = nullptr;
  ~Session() {
    if (context != nullptr) srtp_dealloc(context);
  }
};

core::Result<std::unique_ptr<SrtpStream::Session>, std::string> SrtpStream::Create(
    const SdesCrypto& key, bool inbound) {
  InitLibrary();
  if (key.key_salt.size() != KeySaltLength(key.suite)) {
    return std::string("SRTP key of the wrong length for ") + std::string(SuiteName(key.suite));
  }
  srtp_policy_t policy{};
  SetPolicy(key.suite, &policy.rtp, &policy.rtcp);
  policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  // libsrtp copies the key into the session; the policy does not keep it.
  std::vector<std::uint8_t> key_copy = key.key_salt;
  policy.key = key_copy.data();
  policy.window_size = kReplayWindow;
  policy.allow_repeat_tx = 0;
  auto session = std::make_unique<SrtpStream::Session>();
  const srtp_err_status_t status = srtp_create(&session->context, &policy);
  std::fill(key_copy.begin(), key_copy.end(), 0);
  if (status != srtp_err_status_ok) {
    session->context = nullptr;
    return "libsrtp2 refused the " + std::string(SuiteName(key.suite)) + " key (error " +
           std::to_string(static_cast<int>(status)) + ")";
  }
  return session;
}

SrtpStream::SrtpStream(std::unique_ptr<Session> session, Suite suite)
    : session_(std::move(session)), suite_(suite) {}
SrtpStream::SrtpStream(SrtpStream&&) noexcept = default;
SrtpStream& SrtpStream::operator=(SrtpStream&&) noexcept = default;
SrtpStream::~SrtpStream() = default;

core::Result<SrtpStream, std::string> SrtpStream::Inbound(const SdesCrypto& key) {
  auto session = Create(key, true);
  if (!session) return session.error();
  return SrtpStream(std::move(session).value(), key.suite);
}

core::Result<SrtpStream, std::string> SrtpStream::Outbound(const SdesCrypto& key) {
  auto session = Create(key, false);
  if (!session) return session.error();
  return SrtpStream(std::move(session).value(), key.suite);
}

core::Result<std::size_t, Refusal> SrtpStream::Unprotect(std::span<std::uint8_t> packet) {
  if (packet.size() < 12 || packet.size() > 0x7fffffff) return Refusal::kMalformed;
  int length = static_cast<int>(packet.size());
  switch (srtp_unprotect(session_->context, packet.data(), &length)) {
    case srtp_err_status_ok:
      return static_cast<std::size_t>(length);
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Refusal::kReplay;
    case srtp_err_status_auth_fail:
      return Refusal::kAuthentication;
    default:
      return Refusal::kMalformed;
  }
}

core::Result<std::size_t, std::string> SrtpStream::Protect(std::span<std::uint8_t> buffer,
                                                           std::size_t length) {
  if (length < 12 || length + kMaxTrailer > buffer.size()) {
    return std::string("no room for the SRTP trailer");
  }
  int n = static_cast<int>(length);
  const srtp_err_status_t status = srtp_protect(session_->context, buffer.data(), &n);
  if (status != srtp_err_status_ok) {
    return "libsrtp2 could not protect a packet (error " +
           std::to_string(static_cast<int>(status)) + ")";
  }
  return static_cast<std::size_t>(n);
}

}  // namespace callrec::srtp
