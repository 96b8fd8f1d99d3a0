#include "api/HttpServer.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <deque>
#include <optional>

#include "log/Log.hpp"

namespace callrec::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, RequestHandler& handler, const HttpLimits& limits)
      : stream_(std::move(socket)), handler_(handler), limits_(limits) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    stream_.expires_after(limits_.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec) {
      aws::AwsError error =
          aws::AwsError::InvalidRequest("Malformed HTTP request: " + ec.message());
      if (ec == http::error::body_limit) {
        error = {413, "RequestEntityTooLargeException",
                 "Request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes."};
      } else if (ec == http::error::header_limit) {
        error = {431, "RequestHeaderFieldsTooLargeException",
                 "Request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes."};
      }
      return Send(ErrorResponse(error), false, 11);
    }
    HttpRequest request = parser_->release();
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    stream_.expires_never();
    handler_.Handle(
        std::move(request),
        [self = shared_from_this(), keep_alive, version](HttpResponse response) {
          asio::post(self->stream_.get_executor(),
                     [self, keep_alive, version, response = std::move(response)]() mutable {
                       self->Send(std::move(response), keep_alive, version);
                     });
        },
        [self = shared_from_this()](HttpResponse head, StreamStarted started) {
          asio::post(self->stream_.get_executor(),
                     [self, head = std::move(head), started = std::move(started)]() mutable {
                       self->StartStream(std::move(head), std::move(started));
                     });
        });
  }

  // A streamed answer: the head without a length (the body ends when the
  // connection does), then whatever the sink is given, in order. A read that
  // completes (EOF, or a client that sends anything) closes the stream.
  class Sink final : public StreamSink {
   public:
    explicit Sink(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    bool Send(std::string bytes) override {
      if (!open_) return false;
      asio::post(session_->stream_.get_executor(),
                 [session = session_, bytes = std::move(bytes)]() mutable {
                   session->QueueStreamBytes(std::move(bytes));
                 });
      return true;
    }
    bool open() const override { return open_; }
    void Close() { open_ = false; }

   private:
    std::shared_ptr<Session> session_;
    std::atomic<bool> open_{true};
  };

  void StartStream(HttpResponse head, StreamStarted started) {
    std::string text =
        "HTTP/1.1 " + std::to_string(head.result_int()) + " " + std::string(head.reason()) + "\r\n";
    for (const auto& field : head.base()) {
      if (field.name() == http::field::content_length || field.name() == http::field::connection) {
        continue;
      }
      text += std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
    }
    text += "Connection: close\r\n\r\n";
    sink_ = std::make_shared<Sink>(shared_from_this());
    stream_.expires_never();
    QueueStreamBytes(std::move(text));
    // Watch for the client going away.
    stream_.async_read_some(
        asio::buffer(watch_byte_),
        [self = shared_from_this()](beast::error_code, std::size_t) { self->EndStream(); });
    started(sink_);
  }

  void QueueStreamBytes(std::string bytes) {
    if (!sink_ || !sink_->open()) return;
    pending_bytes_ += bytes.size();
    if (pending_bytes_ > kMaxPendingStreamBytes) return EndStream();  // a client not reading
    outbox_.push_back(std::move(bytes));
    if (outbox_.size() == 1) WriteNextChunk();
  }

  void WriteNextChunk() {
    asio::async_write(stream_.socket(), asio::buffer(outbox_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->EndStream();
                        self->pending_bytes_ -= self->outbox_.front().size();
                        self->outbox_.pop_front();
                        if (!self->outbox_.empty()) self->WriteNextChunk();
                      });
  }

  void EndStream() {
    if (!sink_ || !sink_->open()) return;
    sink_->Close();
    outbox_.clear();
    pending_bytes_ = 0;
    Close();
    sink_.reset();  // breaks the session <-> sink cycle
  }

  void Send(HttpResponse response, bool keep_alive, unsigned version) {
    response.version(version);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(limits_.idle_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        self->response_.reset();
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  RequestHandler& handler_;
  const HttpLimits limits_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  // Streamed answers only.
  static constexpr std::size_t kMaxPendingStreamBytes = 1 << 20;
  std::shared_ptr<Sink> sink_;
  std::deque<std::string> outbox_;
  std::size_t pending_bytes_ = 0;
  char watch_byte_[1];
};

}  // namespace

class HttpServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const tcp::endpoint& endpoint, RequestHandler& handler,
           HttpLimits limits)
      : io_(io), acceptor_(asio::make_strand(io)), handler_(handler), limits_(limits) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec,
                                                                               tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), self->handler_, self->limits_)->Start();
      } else {
        log::Warn("http.accept_failed", {{"error", ec.message()}});
      }
      if (self->acceptor_.is_open()) self->Accept();
    });
  }

  tcp::endpoint LocalEndpoint() const { return acceptor_.local_endpoint(); }

  void Stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  RequestHandler& handler_;
  HttpLimits limits_;
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, RequestHandler& handler,
                       HttpLimits limits)
    : listener_(std::make_shared<Listener>(io, endpoint, handler, limits)) {
  listener_->Accept();
}

HttpServer::~HttpServer() {
  Stop();
}

tcp::endpoint HttpServer::LocalEndpoint() const {
  return listener_->LocalEndpoint();
}

void HttpServer::Stop() {
  listener_->Stop();
}

}  // namespace callrec::api
