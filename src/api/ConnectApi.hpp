#pragma once

#include <chrono>
#include <functional>

#include "api/Http.hpp"
#include "api/Metrics.hpp"
#include "aws/SigV4.hpp"
#include "control/ContactService.hpp"

namespace callrec::api {

// Amazon Connect's REST binding of the four recording operations (PRODUCT.md 4.1):
// SigV4 verification, Connect's parameter validation, and AWS rest-json errors.
class ConnectApi {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  ConnectApi(control::ContactService& contacts, const aws::SigV4Verifier& verifier,
             Metrics& metrics, WallClock clock);

  // True if `target` is one of the Connect paths this class serves.
  static bool Serves(std::string_view path);
  void Handle(HttpRequest&& request, Respond respond);

 private:
  control::ContactService& contacts_;
  const aws::SigV4Verifier& verifier_;
  Metrics& metrics_;
  WallClock clock_;
};

}  // namespace callrec::api
