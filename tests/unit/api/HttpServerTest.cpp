#include "api/HttpServer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <memory>
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

}  // namespace
}  // namespace callrec::api
