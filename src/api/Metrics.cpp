#include "api/Metrics.hpp"

#include <sstream>

namespace callrec::api {

void Metrics::CountOperation(const std::string& operation, const std::string& result,
                             std::chrono::steady_clock::duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  operations_[{operation, result}] += 1;
  latency_buckets_[bucket] += 1;
  latency_sum_ += seconds;
  latency_count_ += 1;
}

void Metrics::CountRequest(unsigned status) {
  std::lock_guard lock(mutex_);
  requests_by_status_[status] += 1;
}

void Metrics::CountAuthFailure(const std::string& type) {
  std::lock_guard lock(mutex_);
  auth_failures_[type] += 1;
}

void Metrics::CountHandlerException(const std::string& edge) {
  std::lock_guard lock(mutex_);
  handler_exceptions_[edge] += 1;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP callrec_http_requests_total HTTP requests answered, by status code.\n"
         "# TYPE callrec_http_requests_total counter\n";
  for (const auto& [status, count] : requests_by_status_) {
    out << "callrec_http_requests_total{code=\"" << status << "\"} " << count << "\n";
  }
  out << "# HELP callrec_recording_operations_total Recording operations, by operation and "
         "result.\n"
         "# TYPE callrec_recording_operations_total counter\n";
  for (const auto& [key, count] : operations_) {
    out << "callrec_recording_operations_total{operation=\"" << key.first << "\",result=\""
        << key.second << "\"} " << count << "\n";
  }
  out << "# HELP callrec_auth_failures_total Refused Connect API signatures, by error type.\n"
         "# TYPE callrec_auth_failures_total counter\n";
  for (const auto& [type, count] : auth_failures_) {
    out << "callrec_auth_failures_total{type=\"" << type << "\"} " << count << "\n";
  }
  out << "# HELP callrec_recording_operation_seconds Time from request to durable answer.\n"
         "# TYPE callrec_recording_operation_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i];
    out << "callrec_recording_operation_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << cumulative
        << "\n";
  }
  cumulative += latency_buckets_[kBuckets.size()];
  out << "callrec_recording_operation_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n";
  out << "callrec_recording_operation_seconds_sum " << latency_sum_ << "\n";
  out << "callrec_recording_operation_seconds_count " << latency_count_ << "\n";
  out << "# HELP callrec_handler_exceptions_total Unexpected exceptions stopped at an edge's "
         "barrier (logged as <edge>.handler_failed); the request was answered 500 and the "
         "server went on.\n"
         "# TYPE callrec_handler_exceptions_total counter\n";
  std::map<std::string, std::uint64_t> exceptions = handler_exceptions_;
  for (const auto& [edge, count] : exception_sources_) exceptions[edge] += count();
  for (const auto& [edge, count] : exceptions) {
    out << "callrec_handler_exceptions_total{edge=\"" << edge << "\"} " << count << "\n";
  }
  for (const auto& source : sources_) out << source();
  return out.str();
}

}  // namespace callrec::api
