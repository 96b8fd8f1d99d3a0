#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "api/Http.hpp"

namespace callrec::api {

struct HttpLimits {
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // Fields in one request's head: each is a separate allocation in the parser,
  // so a head of many tiny fields is refused before its body is read.
  std::size_t max_header_fields = 100;
  std::chrono::seconds idle_timeout{60};
  // TLS only: a client must finish its handshake within this, and a closing
  // connection waits this long at most for the peer's close_notify.
  std::chrono::seconds handshake_timeout{10};
};

// HTTP/1.1 with keep-alive over Boost.Beast. Reads one request at a time per
// connection, hands it to the handler, and writes the response whenever the
// handler answers (possibly from another thread, e.g. after a durable commit).
// Oversized or malformed requests get an AWS-style error and the connection
// closes; the handler is told (`Refused`) so it can count them.
// With a TLS context the listener speaks HTTPS only: the handshake is done
// asynchronously under `handshake_timeout` (a silent or slow client holds no
// thread), and plain HTTP sent to it gets a 400 saying to use https://.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             RequestHandler& handler, HttpLimits limits,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();

  boost::asio::ip::tcp::endpoint LocalEndpoint() const;
  void Stop();
  // Exceptions the handler threw (the barrier's count).
  std::uint64_t handler_exceptions() const;

 private:
  class Listener;
  std::shared_ptr<Listener> listener_;
};

}  // namespace callrec::api
