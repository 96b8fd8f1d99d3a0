#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/Registry.hpp"

namespace callrec::api {

// The HTTP APIs' metrics: requests by status, Connect operations and their
// latency, refused signatures, and exceptions stopped at every edge's barrier.
class Metrics {
 public:
  Metrics() { handler_exceptions_.Preset({"http"}); }

  // One Connect operation: e.g. ("START", "OK") or ("PAUSE", "InvalidRequestException").
  void CountOperation(const std::string& operation, const std::string& result,
                      std::chrono::steady_clock::duration took);
  void CountRequest(unsigned status);
  void CountAuthFailure(const std::string& type);
  // An exception stopped at an edge's barrier (edge: "http", "loop", ...).
  void CountHandlerException(const std::string& edge);
  // Edges whose barrier keeps its own count (SIP, media): read at each scrape.
  // Set up before requests arrive.
  void AddHandlerExceptionSource(std::string edge, std::function<std::uint64_t()> count) {
    exception_sources_.emplace_back(std::move(edge), std::move(count));
  }

  // Its families, into the server's registry (which this outlives).
  void Register(metrics::Registry& registry) const;

 private:
  std::vector<std::pair<std::string, std::function<std::uint64_t()>>> exception_sources_;
  metrics::CounterFamily handler_exceptions_{{"edge"}};
  metrics::CounterFamily operations_{{"operation", "result"}};
  metrics::CounterFamily requests_by_status_{{"code"}};
  metrics::CounterFamily auth_failures_{{"type"}};
  metrics::Histogram latency_{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0}};
};

}  // namespace callrec::api
