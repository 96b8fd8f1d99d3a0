#include "cluster/ForwardedOperations.hpp"

#include "cluster/OperationJson.hpp"
#include "log/Log.hpp"

namespace callrec::cluster {

ForwardedOperations::ForwardedOperations(control::ContactService& contacts, std::string_view secret,
                                         Clock clock)
    : contacts_(contacts), signer_(secret), clock_(std::move(clock)) {}

void ForwardedOperations::Handle(api::HttpRequest&& request, api::Respond respond,
                                 api::OpenStream) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != kApplyPath && path != kEndPath) {
    return respond(
        api::Error(404, "UnknownOperationException", "No operation at " + std::string(path) + "."));
  }
  if (request.method() != api::http::verb::post) return respond(api::MethodNotAllowed(request));
  auto header = [&request](const char* name) { return std::string_view(request[name]); };
  const std::string_view node = header(kNodeHeader);
  const std::int64_t now = clock_();
  std::int64_t sent = 0;
  if (auto refusal = signer_.Check(request.method_string(), target, node, header(kTimeHeader),
                                   header(kSignatureHeader), request.body(), now, &sent)) {
    refused_ += 1;
    log::Warn("cluster.forward_refused", {{"from", std::string(node.substr(0, 100))},
                                          {"status", refusal->status},
                                          {"reason", refusal->reason}});
    return respond(
        api::Error(static_cast<int>(refusal->status),
                   refusal->status == 401 ? "UnauthorizedException" : "AccessDeniedException",
                   refusal->reason));
  }
  if (now - sent > kApplyWithinMs) {
    refused_ += 1;
    log::Warn("cluster.forward_too_late", {{"from", std::string(node)}, {"age_ms", now - sent}});
    return respond(api::Error(
        408, "RequestTimeoutException",
        "Arrived " + std::to_string(now - sent) + " ms after it was sent (more than " +
            std::to_string(kApplyWithinMs) + " ms): its sender has given up; not applied."));
  }
  using std::chrono::milliseconds;
  const std::chrono::system_clock::time_point now_at{milliseconds(now)};
  const auto verdict = seen_.Consume(
      header(kSignatureHeader),
      std::chrono::system_clock::time_point{milliseconds(sent + kSignatureWindowMs)}, now_at);
  if (verdict != aws::ReplayGuard::Verdict::kFresh) {
    refused_ += 1;
    const bool full = verdict == aws::ReplayGuard::Verdict::kFull;
    log::Warn("cluster.forward_replayed", {{"from", std::string(node)}, {"full", full}});
    return respond(full ? api::Error(503, "ServiceUnavailableException",
                                     "Too many forwarded operations to remember; try again.")
                        : api::Error(403, "AccessDeniedException",
                                     "This signed request was already received: a replay is "
                                     "never applied."));
  }
  std::string why;
  if (path == kEndPath) {
    auto end = EndFromJson(request.body(), why);
    if (!end) return respond(api::BadRequest("Not a forwarded END: " + why + "."));
    applied_ += 1;
    return contacts_.End(
        end->contact_id, end->principal,
        [respond = std::move(respond)](core::Result<core::Contact, control::ControlError> ended) {
          respond(api::JsonResponse(
              api::http::status::ok,
              AnswerToJson(ended.ok() ? std::nullopt
                                      : std::optional<control::ControlError>(ended.error()))));
        },
        end->reason, std::string(node));
  }
  auto operation = OperationFromJson(request.body(), why);
  if (!operation) return respond(api::BadRequest("Not a forwarded operation: " + why + "."));
  operation->forwarded_from = std::string(node);
  applied_ += 1;
  contacts_.Apply(*operation, [respond = std::move(respond)](
                                  const std::optional<control::ControlError>& error) {
    respond(api::JsonResponse(api::http::status::ok, AnswerToJson(error)));
  });
}

}  // namespace callrec::cluster
