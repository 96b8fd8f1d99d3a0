#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace callrec::api {

// Counters and a latency histogram for the HTTP APIs, rendered in Prometheus
// text format together with whatever the caller appends (store, contacts).
class Metrics {
 public:
  // One Connect operation: e.g. ("START", "OK") or ("PAUSE", "InvalidRequestException").
  void CountOperation(const std::string& operation, const std::string& result,
                      std::chrono::steady_clock::duration took);
  void CountRequest(unsigned status);
  void CountAuthFailure(const std::string& type);
  // An exception stopped at an edge's barrier (edge: "http", "loop", ...).
  void CountHandlerException(const std::string& edge);
  // Edges whose barrier keeps its own count (SIP, media): read at each render.
  // Set up before requests arrive.
  void AddHandlerExceptionSource(std::string edge, std::function<std::uint64_t()> count) {
    exception_sources_.emplace_back(std::move(edge), std::move(count));
  }

  // Another part of the server's own metrics (e.g. SIPREC), in Prometheus text
  // format; set up before requests arrive.
  void AddSource(std::function<std::string()> render) { sources_.push_back(std::move(render)); }

  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  std::vector<std::function<std::string()>> sources_;
  std::vector<std::pair<std::string, std::function<std::uint64_t()>>> exception_sources_;
  std::map<std::string, std::uint64_t> handler_exceptions_{{"http", 0}};
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> operations_;
  std::map<unsigned, std::uint64_t> requests_by_status_;
  std::map<std::string, std::uint64_t> auth_failures_;
  std::array<std::uint64_t, kBuckets.size() + 1> latency_buckets_{};
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
};

}  // namespace callrec::api
