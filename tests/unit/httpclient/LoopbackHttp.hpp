#pragma once

// A scripted HTTP/1.1 server on 127.0.0.1 for the client-side tests (the HTTP
// client, the CLI): each connection carries one request, which is kept, and
// the script's answer is written back as raw bytes, so a test can answer
// anything a broken or hostile server might (bad JSON, a cut-off reply, none).

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace callrec::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

using SeenRequest = http::request<http::string_body>;

// The bytes of a whole reply.
inline std::string Reply(unsigned status, std::string body,
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
  std::string text = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return text + body;
}

// Answers no bytes at all and holds the connection until the server stops.
inline const std::string kStall = "\x01stall";

class LoopbackHttp {
 public:
  using Script = std::function<std::string(const SeenRequest&)>;

  explicit LoopbackHttp(Script script)
      : script_(std::move(script)), acceptor_(io_, tcp::endpoint(tcp::v4(), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackHttp() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }

  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      beast::flat_buffer buffer;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      http::read(socket, buffer, parser, ec);
      if (ec) continue;
      SeenRequest request = parser.release();
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const std::string answer = script_(request);
      if (answer == kStall) {
        while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return;
      }
      boost::asio::write(socket, boost::asio::buffer(answer), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  Script script_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::thread thread_;
};

}  // namespace callrec::testing
