#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace callrec::bench {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Clock = std::chrono::steady_clock;

// Fills `out` (a fresh request) with the next request of connection `connection`;
// returns false when that connection has nothing more to send. Called on a client
// thread, never concurrently for the same connection.
using NextRequest = std::function<bool(std::size_t connection, Request& out)>;

struct Scenario {
  NextRequest next;
  unsigned expect_status = 200;  // any other answer is an error
  // Timed run: `warmup`, then `measure` during which completions are recorded; each
  // connection stops after its first completion past the window. Untimed run
  // (measure == 0): until every connection's `next` returns false, all recorded.
  Clock::duration warmup{};
  Clock::duration measure{};
  // Called on a client thread when the measured window opens and closes (timed runs).
  std::function<void()> at_window_start;
  std::function<void()> at_window_end;
};

struct RunResult {
  std::vector<std::int64_t> latencies_ns;  // completions in the window, sorted
  double window_seconds = 0;
  std::uint64_t requests = 0;              // answers received, warm-up included
  std::uint64_t errors = 0;                // wrong status or broken connection, warm-up included
  std::vector<std::string> error_samples;  // the first few, for the report
  // The same latencies by the server port their connection talked to (several
  // servers: which node answered), each sorted.
  std::map<std::uint16_t, std::vector<std::int64_t>> latencies_by_port;

  double OpsPerSecond() const;
  // Nearest-rank percentile in milliseconds, q in [0, 1]; 0 if nothing was recorded.
  double PercentileMs(double q) const;
  static double PercentileMs(const std::vector<std::int64_t>& sorted_ns, double q);
};

// The benchmark's load client: `connections` keep-alive HTTP/1.1 connections, each
// closed-loop (one request in flight, the next sent when the answer is read), on
// one io_context run by `threads` threads. With several ports (several servers),
// connection i talks to ports[i % ports.size()].
class LoadClient {
 public:
  LoadClient(std::string host, std::uint16_t port, std::size_t connections, unsigned threads);
  LoadClient(std::string host, std::vector<std::uint16_t> ports, std::size_t connections,
             unsigned threads);
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  void Connect();  // throws on failure
  RunResult Run(const Scenario& scenario);

  std::size_t Connections() const { return connections_.size(); }
  // "HOST:PORT", the Host header every request of connection 0 (of `connection`)
  // must carry.
  const std::string& HostHeader() const { return host_headers_.front(); }
  const std::string& HostHeader(std::size_t connection) const {
    return host_headers_[connection % host_headers_.size()];
  }
  std::uint16_t Port(std::size_t connection) const { return ports_[connection % ports_.size()]; }

 private:
  class Connection;
  void Issue(Connection& connection);
  void Complete(Connection& connection, Clock::time_point done);
  void Fail(Connection& connection, std::string what);

  std::string host_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::string> host_headers_;
  unsigned threads_;
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<Connection>> connections_;

  // Set by Run before the client threads start, read-only while they run.
  const Scenario* scenario_ = nullptr;
  bool timed_ = false;
  Clock::time_point window_start_{};
  Clock::time_point window_end_{};
};

}  // namespace callrec::bench
