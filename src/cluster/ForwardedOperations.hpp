#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "api/Http.hpp"
#include "aws/ReplayGuard.hpp"
#include "cluster/RequestSigning.hpp"
#include "control/ContactService.hpp"

namespace callrec::cluster {

// The owner's side of forwarding: POST /internal/v1/apply (a Connect
// operation) and /internal/v1/end (/v1's end), signed by another
// node holding the shared secret, applied through this node's ContactService
// (so the answer comes only once the gate is closed and the change is durable,
// as for a local caller) and answered with its outcome. A request without a
// valid signature is refused (401 unsigned, 403 wrong or stale) and never
// applied; the refusal is logged without the signature. A signed request is
// applied once: the same request sent again while its signature is valid (a
// capture replayed on the internal network, e.g. a RESUME after a PAUSE) is
// refused 403.
class ForwardedOperations final : public api::RequestHandler {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix milliseconds

  // A forwarded operation is applied only if it arrives within this long of
  // its sending: the sender waits kForwardTimeout for the answer, so one
  // applied here is answered before the sender has given up (an owner that
  // was frozen does not apply, on waking, what its caller was told failed).
  static constexpr std::int64_t kApplyWithinMs = 2500;
  // Signatures remembered against replays: far more than forwarded operations
  // arrive within a signature's validity.
  static constexpr std::size_t kReplayCapacity = 1 << 18;

  ForwardedOperations(control::ContactService& contacts, std::string_view secret, Clock clock);

  static bool Serves(std::string_view path) { return path.rfind("/internal/", 0) == 0; }
  void Handle(api::HttpRequest&& request, api::Respond respond,
              api::OpenStream open_stream) override;

  std::uint64_t applied() const { return applied_.load(); }
  std::uint64_t refused() const { return refused_.load(); }

 private:
  control::ContactService& contacts_;
  const RequestSigner signer_;
  Clock clock_;
  aws::ReplayGuard seen_{kReplayCapacity};
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace callrec::cluster
