#include "api/HttpServer.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <iterator>
#include <optional>
#include <type_traits>

#include "log/Barrier.hpp"
#include "log/Log.hpp"

namespace callrec::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: `Stream` is beast::tcp_stream (HTTP) or TlsStream (HTTPS).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... StreamArgs>
  Session(RequestHandler& handler, std::shared_ptr<log::ExceptionBarrier> barrier,
          const HttpLimits& limits, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        handler_(handler),
        barrier_(std::move(barrier)),
        limits_(limits) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->DetectTls();
      } else {
        self->Read();
      }
    });
  }

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  // HTTPS: the first bytes say whether the client speaks TLS at all; the whole
  // handshake must be over within handshake_timeout.
  void DetectTls() {
    Tcp().expires_after(limits_.handshake_timeout);
    beast::async_detect_ssl(
        Tcp(), buffer_, [self = shared_from_this()](beast::error_code ec, bool is_tls) {
          if (ec) return self->CloseSocket();
          if (!is_tls) return self->RefusePlainHttp();
          // The bytes detect_ssl read are the handshake's start. (Boost 1.81
          // checks this handler against void(error_code) but calls it with
          // (error_code, bytes used): a variadic lambda takes both.)
          self->stream_.async_handshake(
              asio::ssl::stream_base::server, self->buffer_.data(),
              [self](beast::error_code ec, auto... used) {
                if (ec) {
                  log::Debug("http.tls_handshake_failed", {{"error", ec.message()}});
                  return self->CloseSocket();
                }
                self->buffer_.consume((std::size_t{0} + ... + used));
                self->tls_up_ = true;
                self->Read();
              });
        });
  }

  // Plain HTTP on the HTTPS port: one clear answer in plain text, then close.
  void RefusePlainHttp() {
    HttpResponse response = ErrorResponse(aws::AwsError::InvalidRequest(
        "This port speaks HTTPS only (TLS); use https:// to reach it."));
    handler_.Refused(response.result_int());
    response.version(11);
    response.keep_alive(false);
    response.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(response));
    http::async_write(Tcp(), *response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        self->response_.reset();
                        self->CloseSocket();
                      });
  }

  // The head first: its fields are counted before the body is read.
  void Read() {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    Tcp().expires_after(limits_.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& head = parser_->get().base();
    const auto fields = static_cast<std::size_t>(std::distance(head.begin(), head.end()));
    if (fields > limits_.max_header_fields) {
      return Refuse({431, "RequestHeaderFieldsTooLargeException",
                     "Request has " + std::to_string(fields) + " header fields; at most " +
                         std::to_string(limits_.max_header_fields) + " are allowed."});
    }
    if (parser_->is_done()) return OnRead(ec);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::ssl::error::stream_truncated ||
        ec.category() == asio::error::get_ssl_category()) {
      // A TLS peer that closes cleanly sends close_notify: answer it. Anything
      // else (a reset, a timeout, a TLS error) leaves nothing to say.
      return ec == http::error::end_of_stream ? Close() : CloseSocket();
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
      return Refuse(error);
    }
    HttpRequest request = parser_->release();
    // For the log only: never the query or a header (they may carry tokens).
    const std::string_view target = request.target();
    const std::string what = std::string(request.method_string()) + " " +
                             std::string(target.substr(0, target.find('?')));
    auto answer =
        std::make_shared<Answer>(shared_from_this(), request.keep_alive(), request.version());
    Tcp().expires_never();
    try {
      handler_.Handle(
          std::move(request),
          [answer](HttpResponse response) {
            if (!answer->Take()) return;  // answered already (the barrier's 500)
            answer->Send(std::move(response));
          },
          [answer](HttpResponse head, StreamStarted started) {
            if (!answer->Take()) return;
            auto self = answer->session;
            asio::post(self->stream_.get_executor(),
                       [self, head = std::move(head), started = std::move(started)]() mutable {
                         self->StartStream(std::move(head), std::move(started));
                       });
          });
    } catch (...) {
      barrier_->Caught({{"request", what}});
      handler_.Failed();
      if (answer->Take()) answer->SendInternalError();
    }
  }

  // One request's answer, given once: by the handler, or by the server when
  // the handler threw. A handler that drops it unanswered while an exception
  // unwinds (its continuation threw on an io thread, where that loop's own
  // barrier logs it) gets the same 500, so the client is never left waiting.
  struct Answer {
    Answer(std::shared_ptr<Session> s, bool keep, unsigned v)
        : session(std::move(s)), keep_alive(keep), version(v) {}
    ~Answer() {
      if (given.load() || std::uncaught_exceptions() == 0) return;
      try {
        SendInternalError();
      } catch (...) {
        // Out of memory while unwinding: the idle timeout closes the connection.
      }
    }
    bool Take() { return !given.exchange(true); }
    void Send(HttpResponse response) {
      asio::post(session->stream_.get_executor(), [self = session, keep = keep_alive, v = version,
                                                   response = std::move(response)]() mutable {
        self->Send(std::move(response), keep, v);
      });
    }
    void SendInternalError() {
      session->handler_.Refused(500);
      Send(ErrorResponse(aws::AwsError::InternalService(
          "The server failed while handling this request (logged); nothing else was "
          "affected. Try again.")));
    }

    std::shared_ptr<Session> session;
    const bool keep_alive;
    const unsigned version;
    std::atomic<bool> given{false};
  };

  // A streamed answer: the head without a length (the body ends when the
  // connection does), then whatever the sink is given, in order. A read that
  // completes (EOF, or a client that sends anything) closes the stream.
  // The sink does not own the session: the pending read that watches the
  // client does. An owning sink made a cycle (session -> sink -> session) that
  // nothing broke when the server stopped with a stream open: every such
  // session and its buffers leaked.
  class Sink final : public StreamSink {
   public:
    explicit Sink(std::weak_ptr<Session> session) : session_(std::move(session)) {}
    bool Send(std::string bytes) override {
      if (!open_) return false;
      std::shared_ptr<Session> session = session_.lock();
      if (!session) return false;  // its io_context is gone (server stopped)
      asio::post(session->stream_.get_executor(), [session, bytes = std::move(bytes)]() mutable {
        session->QueueStreamBytes(std::move(bytes));
      });
      return true;
    }
    bool open() const override { return open_ && !session_.expired(); }
    void Close() { open_ = false; }

   private:
    std::weak_ptr<Session> session_;
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
    sink_ = std::make_shared<Sink>(this->weak_from_this());
    Tcp().expires_never();
    QueueStreamBytes(std::move(text));
    // Watch for the client going away (TLS allows this read beside the writes).
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
    asio::async_write(stream_, asio::buffer(outbox_.front()),
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
    // A write may still be pending (a client not reading): no TLS goodbye.
    CloseSocket();
    sink_.reset();
  }

  // Answered here, never handed on: the connection closes after the answer.
  void Refuse(const aws::AwsError& error) {
    handler_.Refused(static_cast<unsigned>(error.status));
    Send(ErrorResponse(error), false, 11);
  }

  void Send(HttpResponse response, bool keep_alive, unsigned version) {
    response.version(version);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    response_ = std::make_shared<HttpResponse>(std::move(response));
    Tcp().expires_after(limits_.idle_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        self->response_.reset();
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  // Closes after a complete exchange (nothing else pending). Over TLS the
  // close_notify goes first, so a client reading to the end knows it got all.
  void Close() {
    if constexpr (kTls) {
      if (tls_up_) {
        tls_up_ = false;
        Tcp().expires_after(limits_.handshake_timeout);
        stream_.async_shutdown(
            [self = shared_from_this()](beast::error_code) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().close();
  }

  Stream stream_;
  RequestHandler& handler_;
  const std::shared_ptr<log::ExceptionBarrier> barrier_;
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
  bool tls_up_ = false;  // handshake done, no close_notify sent yet
};

}  // namespace

class HttpServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const tcp::endpoint& endpoint, RequestHandler& handler,
           HttpLimits limits, std::shared_ptr<asio::ssl::context> tls)
      : io_(io),
        acceptor_(asio::make_strand(io)),
        handler_(handler),
        limits_(limits),
        tls_(std::move(tls)) {
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
        if (self->tls_) {
          std::make_shared<Session<TlsStream>>(self->handler_, self->barrier_, self->limits_,
                                               std::move(socket), *self->tls_)
              ->Start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(self->handler_, self->barrier_,
                                                       self->limits_, std::move(socket))
              ->Start();
        }
      } else {
        log::Warn("http.accept_failed", {{"error", ec.message()}});
      }
      if (self->acceptor_.is_open()) self->Accept();
    });
  }

  tcp::endpoint LocalEndpoint() const { return acceptor_.local_endpoint(); }
  std::uint64_t handler_exceptions() const { return barrier_->caught(); }

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
  std::shared_ptr<asio::ssl::context> tls_;
  const std::shared_ptr<log::ExceptionBarrier> barrier_ =
      std::make_shared<log::ExceptionBarrier>("http.handler_failed");
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, RequestHandler& handler,
                       HttpLimits limits, std::shared_ptr<asio::ssl::context> tls)
    : listener_(std::make_shared<Listener>(io, endpoint, handler, limits, std::move(tls))) {
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

std::uint64_t HttpServer::handler_exceptions() const {
  return listener_->handler_exceptions();
}

}  // namespace callrec::api
