#include "api/Metrics.hpp"

#include <map>

namespace callrec::api {

void Metrics::CountOperation(const std::string& operation, const std::string& result,
                             std::chrono::steady_clock::duration took) {
  operations_.Add({operation, result});
  latency_.Observe(std::chrono::duration<double>(took).count());
}

void Metrics::CountRequest(unsigned status) {
  requests_by_status_.Add({std::to_string(status)});
}

void Metrics::CountAuthFailure(const std::string& type) {
  auth_failures_.Add({type});
}

void Metrics::CountHandlerException(const std::string& edge) {
  handler_exceptions_.Add({edge});
}

void Metrics::Register(metrics::Registry& registry) const {
  registry.Add("callrec_http_requests_total", "HTTP requests answered, by status code.",
               requests_by_status_);
  registry.Add("callrec_recording_operations_total",
               "Recording operations, by operation and result.", operations_);
  registry.Add("callrec_auth_failures_total", "Refused Connect API signatures, by error type.",
               auth_failures_);
  registry.Add("callrec_recording_operation_seconds", "Time from request to durable answer.",
               latency_);
  registry.Add("callrec_handler_exceptions_total",
               "Unexpected exceptions stopped at an edge's barrier (logged as "
               "<edge>.handler_failed); the request was answered 500 and the server went on.",
               metrics::Type::kCounter, [this] {
                 std::map<std::string, std::uint64_t> counts;
                 for (const auto& [values, count] : handler_exceptions_.Values()) {
                   counts[values.front()] += count;
                 }
                 for (const auto& [edge, count] : exception_sources_) counts[edge] += count();
                 std::vector<metrics::Sample> samples;
                 samples.reserve(counts.size());
                 for (const auto& [edge, count] : counts) {
                   samples.push_back({{{"edge", edge}}, count, ""});
                 }
                 return samples;
               });
}

}  // namespace callrec::api
