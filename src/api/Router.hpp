#pragma once

#include <atomic>
#include <cstdint>

#include "api/ConnectApi.hpp"
#include "api/Http.hpp"
#include "api/Metrics.hpp"
#include "api/StaticFiles.hpp"
#include "api/V1Api.hpp"

namespace callrec::api {

// The server's one RequestHandler: sends each request to the API that owns its
// path, counts the answer, and refuses unknown paths the AWS way.
class Router final : public RequestHandler {
 public:
  Router(ConnectApi& connect, V1Api& v1, Metrics& metrics, const StaticFiles* pages = nullptr)
      : connect_(connect), v1_(v1), metrics_(metrics), pages_(pages) {}

  // Requests under /internal/ (between the nodes sharing a store; they sign
  // their own): to `internal`, set once before requests arrive. Without one,
  // those paths are unknown.
  void SetInternal(RequestHandler* internal) { internal_ = internal; }

  void Handle(HttpRequest&& request, Respond respond, OpenStream open_stream) override;
  void Refused(unsigned status) override { metrics_.CountRequest(status); }
  void Failed() override { metrics_.CountHandlerException("http"); }

 private:
  ConnectApi& connect_;
  V1Api& v1_;
  Metrics& metrics_;
  const StaticFiles* pages_;
  RequestHandler* internal_ = nullptr;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace callrec::api
