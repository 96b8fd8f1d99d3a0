#include "api/HttpServer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace callrec::api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Answers every request with a stream and hands its sink to the test.
class StreamingHandler : public RequestHandler {
 public:
  void Handle(HttpRequest&&, Respond, OpenStream open_stream) override {
    HttpResponse head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream");
    open_stream(std::move(head),
                [this](std::shared_ptr<StreamSink> sink) { sink_.set_value(std::move(sink)); });
  }
  std::shared_ptr<StreamSink> WaitForSink() {
    auto future = sink_.get_future();
    if (future.wait_for(10s) != std::future_status::ready) return nullptr;
    return future.get();
  }

 private:
  std::promise<std::shared_ptr<StreamSink>> sink_;
};

// A server on its own io_context and thread, and one client whose stream is open.
class OpenStreamTest : public testing::Test {
 protected:
  void SetUp() override {
    io_ = std::make_unique<asio::io_context>();
    server_ = std::make_unique<HttpServer>(
        *io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), handler_, HttpLimits{});
    thread_ = std::thread([this] { io_->run(); });
    client_.connect(server_->LocalEndpoint());
    asio::write(client_,
                asio::buffer(std::string("GET /v1/events HTTP/1.1\r\nHost: test\r\n\r\n")));
    sink_ = handler_.WaitForSink();
    ASSERT_NE(sink_, nullptr);
    ASSERT_TRUE(sink_->Send("data: one\n\n"));
    ASSERT_NE(ReadUntil("data: one\n\n").find("HTTP/1.1 200"), std::string::npos);
  }

  void TearDown() override {
    if (thread_.joinable()) StopServer();
  }

  // As callrec-server stops: the listener closes, the io_context stops with
  // the stream's handlers still pending, and is destroyed.
  void StopServer() {
    server_->Stop();
    io_->stop();
    thread_.join();
    server_.reset();
    io_.reset();
  }

  std::string ReadUntil(const std::string& end) {
    std::size_t n = asio::read_until(client_, asio::dynamic_buffer(received_), end);
    std::string head = received_.substr(0, n);
    received_.erase(0, n);
    return head;
  }

  StreamingHandler handler_;
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  asio::io_context client_io_;
  tcp::socket client_{client_io_};
  std::string received_;
  std::shared_ptr<StreamSink> sink_;
};

TEST_F(OpenStreamTest, SinkCarriesBytesInOrder) {
  ASSERT_TRUE(sink_->Send("data: two\n\n"));
  ASSERT_TRUE(sink_->Send("data: three\n\n"));
  EXPECT_EQ(ReadUntil("three\n\n"), "data: two\n\ndata: three\n\n");
}

TEST_F(OpenStreamTest, ClientGoingAwayClosesTheSink) {
  client_.close();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (sink_->open() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(sink_->open());
  EXPECT_FALSE(sink_->Send("data: late\n\n"));
}

// Stopping the server with a stream open (an agent's workspace left open)
// releases the session: the sink was its last owner (no session <-> sink cycle).
TEST_F(OpenStreamTest, StoppedServerWithAnOpenStreamLeavesNoSessionAlive) {
  std::weak_ptr<StreamSink> weak = sink_;
  sink_.reset();  // the subscriber list of a stopped EventHub
  StopServer();
  EXPECT_TRUE(weak.expired()) << "the session and its sink outlived the server";
}

// A subscriber that still holds the sink after the server's io_context is gone
// is told the stream is closed; nothing is posted to the dead io_context.
TEST_F(OpenStreamTest, SinkKeptPastTheServerRefusesBytes) {
  StopServer();
  EXPECT_FALSE(sink_->open());
  EXPECT_FALSE(sink_->Send("data: after\n\n"));
}

// Answers every request 200 and counts what the server refused itself.
class CountingHandler : public RequestHandler {
 public:
  void Handle(HttpRequest&&, Respond respond, OpenStream) override {
    handled_ += 1;
    respond(HttpResponse{http::status::ok, 11});
  }
  void Refused(unsigned status) override {
    last_refused_ = status;
    refused_ += 1;
  }
  std::atomic<int> handled_{0};
  std::atomic<int> refused_{0};
  std::atomic<unsigned> last_refused_{0};
};

class HeaderLimitTest : public testing::Test {
 protected:
  void SetUp() override {
    HttpLimits limits;
    limits.max_header_fields = 10;
    server_ = std::make_unique<HttpServer>(
        io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), handler_, limits);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    server_->Stop();
    io_.stop();
    thread_.join();
  }

  // One request on a new connection; everything the server sent until it closed
  // (or the first response, for a kept-alive connection).
  std::string Exchange(int fields, bool keep_alive) {
    asio::io_context client_io;
    tcp::socket client(client_io);
    client.connect(server_->LocalEndpoint());
    std::string request = "POST /x HTTP/1.1\r\nHost: test\r\n";
    for (int i = 1; i < fields - 1; ++i) request += "X-F" + std::to_string(i) + ": v\r\n";
    request += "Content-Length: 2\r\n\r\n{}";
    asio::write(client, asio::buffer(request));
    std::string received;
    boost::system::error_code ec;
    if (keep_alive) {
      asio::read_until(client, asio::dynamic_buffer(received), "\r\n\r\n", ec);
    } else {
      asio::read(client, asio::dynamic_buffer(received), ec);  // until the server closes
    }
    return received;
  }

  asio::io_context io_;
  CountingHandler handler_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HeaderLimitTest, HeadAtTheFieldLimitIsHandled) {
  EXPECT_NE(Exchange(10, true).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(handler_.handled_, 1);
}

TEST_F(HeaderLimitTest, HeadOverTheFieldLimitIs431AndCloses) {
  const std::string reply = Exchange(11, false);
  EXPECT_NE(reply.find("HTTP/1.1 431"), std::string::npos) << reply;
  EXPECT_NE(reply.find("RequestHeaderFieldsTooLargeException"), std::string::npos) << reply;
  EXPECT_NE(reply.find("at most 10"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_EQ(handler_.handled_, 0);
  // The server goes on serving.
  EXPECT_NE(Exchange(3, true).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(handler_.refused_, 1);  // counted before the answer was written
  EXPECT_EQ(handler_.last_refused_, 431u);
}

// The HTTP edge's exception barrier: handlers that throw, now or later.
class ThrowingHandler : public RequestHandler {
 public:
  explicit ThrowingHandler(asio::io_context& io) : io_(io) {}
  void Handle(HttpRequest&& request, Respond respond, OpenStream) override {
    const std::string target(request.target());
    if (target == "/throw") throw std::runtime_error("cannot write /data/agents.json.tmp");
    if (target == "/throw-int") throw 42;  // not a std::exception
    if (target == "/answer-then-throw") {
      respond(HttpResponse{http::status::no_content, 11});
      throw std::runtime_error("after the answer");
    }
    if (target == "/throw-later") {
      // A continuation (a store reply) that throws on an io thread: the
      // Respond it holds is dropped while the exception unwinds.
      asio::post(io_, [respond] { throw std::runtime_error("in a continuation"); });
      return;
    }
    respond(HttpResponse{http::status::ok, 11});
  }
  void Refused(unsigned status) override {
    if (status == 500) refused_500_ += 1;
  }
  void Failed() override { failed_ += 1; }

  std::atomic<int> refused_500_{0};
  std::atomic<int> failed_{0};

 private:
  asio::io_context& io_;
};

class BarrierTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(
        io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), handler_, HttpLimits{});
    // As callrec-server runs its loops: an exception out of a handler is
    // caught and the thread rejoins the loop.
    thread_ = std::thread([this] {
      for (;;) {
        try {
          io_.run();
          return;
        } catch (...) {
          loop_caught_ += 1;
        }
      }
    });
    client_.connect(server_->LocalEndpoint());
  }
  void TearDown() override {
    server_->Stop();
    io_.stop();
    thread_.join();
  }

  // One request on the kept-alive connection, and its whole response.
  http::response<http::string_body> Get(const std::string& target) {
    http::request<http::string_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "test");
    http::write(client_, request);
    http::response<http::string_body> response;
    http::read(client_, buffer_, response);
    return response;
  }

  asio::io_context io_;
  ThrowingHandler handler_{io_};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<int> loop_caught_{0};
  asio::io_context client_io_;
  tcp::socket client_{client_io_};
  boost::beast::flat_buffer buffer_;
};

TEST_F(BarrierTest, HandlerThatThrowsGets500AndTheServerGoesOn) {
  const auto failed = Get("/throw");
  EXPECT_EQ(failed.result_int(), 500u);
  EXPECT_EQ(failed["x-amzn-ErrorType"], "InternalServiceException");
  EXPECT_NE(failed.body().find("\"message\""), std::string::npos) << failed.body();
  // The exception's text is logged, not sent: it may name files.
  EXPECT_EQ(failed.body().find("agents.json"), std::string::npos) << failed.body();
  EXPECT_TRUE(failed.keep_alive());
  // The same connection, and the server, go on.
  EXPECT_EQ(Get("/ok").result_int(), 200u);
  EXPECT_EQ(Get("/throw-int").result_int(), 500u);
  EXPECT_EQ(Get("/ok").result_int(), 200u);
  EXPECT_EQ(server_->handler_exceptions(), 2u);
  EXPECT_EQ(handler_.failed_, 2);
  EXPECT_EQ(handler_.refused_500_, 2);
}

TEST_F(BarrierTest, AnswerGivenBeforeTheThrowStands) {
  EXPECT_EQ(Get("/answer-then-throw").result_int(), 204u);
  EXPECT_EQ(Get("/ok").result_int(), 200u);
  EXPECT_EQ(server_->handler_exceptions(), 1u);
  EXPECT_EQ(handler_.refused_500_, 0);  // nothing answered twice
}

TEST_F(BarrierTest, ContinuationThatThrowsStillAnswers500) {
  const auto failed = Get("/throw-later");
  EXPECT_EQ(failed.result_int(), 500u);
  EXPECT_EQ(failed["x-amzn-ErrorType"], "InternalServiceException");
  EXPECT_EQ(loop_caught_, 1);  // the loop's barrier caught it, not the handler's
  EXPECT_EQ(Get("/ok").result_int(), 200u);
}

}  // namespace
}  // namespace callrec::api
