#include "api/Router.hpp"

namespace callrec::api {

void Router::Handle(HttpRequest&& request, Respond respond, OpenStream open_stream) {
  // Every answer is counted and carries a request id, as AWS services send one.
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  Respond counted = [this, id, respond = std::move(respond)](HttpResponse response) {
    metrics_.CountRequest(response.result_int());
    response.set("x-amzn-RequestId", "callrec-" + std::to_string(id));
    response.set(http::field::server, "callrec");
    respond(std::move(response));
  };
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (ConnectApi::Serves(path)) return connect_.Handle(std::move(request), std::move(counted));
  if (internal_ != nullptr && path.rfind("/internal/", 0) == 0) {
    return internal_->Handle(std::move(request), std::move(counted), std::move(open_stream));
  }
  if (V1Api::Serves(path)) {
    OpenStream counted_stream = [this, id, open_stream = std::move(open_stream)](
                                    HttpResponse head, StreamStarted started) {
      metrics_.CountRequest(head.result_int());
      head.set("x-amzn-RequestId", "callrec-" + std::to_string(id));
      head.set(http::field::server, "callrec");
      open_stream(std::move(head), std::move(started));
    };
    return v1_.Handle(std::move(request), std::move(counted), std::move(counted_stream));
  }
  const bool read = request.method() == http::verb::get || request.method() == http::verb::head;
  if (pages_ != nullptr && read && StaticFiles::Serves(path)) {
    return counted(pages_->Get(request, path));
  }
  counted(ErrorResponse(
      {404, "UnknownOperationException",
       "No operation at " + std::string(request.method_string()) + " " + std::string(path) + "."}));
}

}  // namespace callrec::api
