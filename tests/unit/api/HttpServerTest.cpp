#include "api/HttpServer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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

}  // namespace
}  // namespace callrec::api
