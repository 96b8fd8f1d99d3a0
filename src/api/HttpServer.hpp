#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

#include "api/Http.hpp"

namespace callrec::api {

struct HttpLimits {
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
};

// HTTP/1.1 with keep-alive over Boost.Beast. Reads one request at a time per
// connection, hands it to the handler, and writes the response whenever the
// handler answers (possibly from another thread, e.g. after a durable commit).
// Oversized or malformed requests get an AWS-style error and the connection closes.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             RequestHandler& handler, HttpLimits limits);
  ~HttpServer();

  boost::asio::ip::tcp::endpoint LocalEndpoint() const;
  void Stop();

 private:
  class Listener;
  std::shared_ptr<Listener> listener_;
};

}  // namespace callrec::api
