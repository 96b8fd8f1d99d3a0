#include "LoadClient.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <thread>

namespace callrec::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kMaxSamplesPerConnection = 3;
constexpr std::size_t kMaxSamples = 10;
}  // namespace

double RunResult::OpsPerSecond() const {
  return window_seconds > 0 ? static_cast<double>(latencies_ns.size()) / window_seconds : 0;
}

double RunResult::PercentileMs(double q) const {
  return PercentileMs(latencies_ns, q);
}

double RunResult::PercentileMs(const std::vector<std::int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  const auto n = sorted_ns.size();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return static_cast<double>(sorted_ns[rank - 1]) / 1e6;
}

class LoadClient::Connection {
 public:
  Connection(asio::io_context& io, std::size_t index) : socket(io), index(index) {}

  void Reset(std::size_t expected) {
    latencies.clear();
    latencies.reserve(expected);
    requests = errors = 0;
    samples.clear();
  }

  tcp::socket socket;
  const std::size_t index;
  bool alive = true;
  beast::flat_buffer buffer;
  Request request;
  std::optional<http::response_parser<http::string_body>> parser;
  Clock::time_point sent{};

  std::vector<std::int64_t> latencies;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> samples;
};

LoadClient::LoadClient(std::string host, std::uint16_t port, std::size_t connections,
                       unsigned threads)
    : LoadClient(std::move(host), std::vector<std::uint16_t>{port}, connections, threads) {}

LoadClient::LoadClient(std::string host, std::vector<std::uint16_t> ports, std::size_t connections,
                       unsigned threads)
    : host_(std::move(host)),
      ports_(std::move(ports)),
      threads_(std::max(1u, threads)),
      io_(static_cast<int>(threads_)) {
  if (ports_.empty()) throw std::invalid_argument("LoadClient: no port");
  for (const std::uint16_t port : ports_)
    host_headers_.push_back(host_ + ":" + std::to_string(port));
  for (std::size_t i = 0; i < connections; ++i) {
    connections_.push_back(std::make_unique<Connection>(io_, i));
  }
}

LoadClient::~LoadClient() = default;

void LoadClient::Connect() {
  for (auto& connection : connections_) {
    const tcp::endpoint endpoint(asio::ip::make_address(host_), Port(connection->index));
    connection->socket.connect(endpoint);
    connection->socket.set_option(tcp::no_delay(true));
    connection->alive = true;
  }
}

void LoadClient::Fail(Connection& connection, std::string what) {
  connection.errors += 1;
  if (connection.samples.size() < kMaxSamplesPerConnection) {
    connection.samples.push_back("connection " + std::to_string(connection.index) + ": " +
                                 std::move(what));
  }
}

void LoadClient::Issue(Connection& c) {
  if (!c.alive) return;
  c.request = Request{};
  if (!scenario_->next(c.index, c.request)) return;
  c.request.prepare_payload();
  c.sent = Clock::now();
  http::async_write(c.socket, c.request, [this, &c](beast::error_code ec, std::size_t) {
    if (ec) {
      c.alive = false;
      return Fail(c, "write failed: " + ec.message());
    }
    c.parser.emplace();
    c.parser->body_limit(1 << 20);
    http::async_read(c.socket, c.buffer, *c.parser, [this, &c](beast::error_code ec, std::size_t) {
      const Clock::time_point done = Clock::now();
      if (ec) {
        c.alive = false;
        return Fail(c, "read failed: " + ec.message());
      }
      Complete(c, done);
    });
  });
}

void LoadClient::Complete(Connection& c, Clock::time_point done) {
  c.requests += 1;
  const auto& response = c.parser->get();
  if (response.result_int() != scenario_->expect_status) {
    Fail(c, std::string(c.request.method_string()) + " " + std::string(c.request.target()) +
                " -> " + std::to_string(response.result_int()) + " " + response.body());
  }
  if (!response.keep_alive()) {
    c.alive = false;
    Fail(c, "the server closed the connection");
  }
  if (!timed_) {
    c.latencies.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - c.sent).count());
  } else if (done >= window_end_) {
    return;  // this connection is done with the scenario
  } else if (done >= window_start_) {
    c.latencies.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - c.sent).count());
  }
  Issue(c);
}

RunResult LoadClient::Run(const Scenario& scenario) {
  scenario_ = &scenario;
  timed_ = scenario.measure > Clock::duration::zero();
  const std::size_t expected = timed_ ? 1 << 16 : 1 << 10;
  for (auto& connection : connections_) connection->Reset(expected);

  const Clock::time_point started = Clock::now();
  window_start_ = started + scenario.warmup;
  window_end_ = window_start_ + scenario.measure;
  asio::steady_timer opens(io_, window_start_);
  asio::steady_timer closes(io_, window_end_);
  if (timed_) {
    opens.async_wait([&](beast::error_code ec) {
      if (!ec && scenario.at_window_start) scenario.at_window_start();
    });
    closes.async_wait([&](beast::error_code ec) {
      if (!ec && scenario.at_window_end) scenario.at_window_end();
    });
  }
  for (auto& connection : connections_) {
    asio::post(io_, [this, &c = *connection] { Issue(c); });
  }

  io_.restart();
  std::vector<std::thread> helpers;
  for (unsigned i = 1; i < threads_; ++i) helpers.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& helper : helpers) helper.join();
  const Clock::time_point finished = Clock::now();

  RunResult result;
  result.window_seconds =
      std::chrono::duration<double>(timed_ ? scenario.measure : finished - started).count();
  for (auto& connection : connections_) {
    result.latencies_ns.insert(result.latencies_ns.end(), connection->latencies.begin(),
                               connection->latencies.end());
    auto& by_port = result.latencies_by_port[Port(connection->index)];
    by_port.insert(by_port.end(), connection->latencies.begin(), connection->latencies.end());
    result.requests += connection->requests;
    result.errors += connection->errors;
    for (auto& sample : connection->samples) {
      if (result.error_samples.size() < kMaxSamples) result.error_samples.push_back(sample);
    }
  }
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
  for (auto& [port, latencies] : result.latencies_by_port) {
    std::sort(latencies.begin(), latencies.end());
  }
  scenario_ = nullptr;
  return result;
}

}  // namespace callrec::bench
