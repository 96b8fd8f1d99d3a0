#include "httpclient/HttpClient.hpp"

#include <gtest/gtest.h>

#include "LoopbackHttp.hpp"

namespace callrec::httpclient {
namespace {

using testing::LoopbackHttp;
using testing::Reply;

Endpoint Local(const LoopbackHttp& server) {
  return {"127.0.0.1", std::to_string(server.port()), false};
}

TEST(EndpointUrlTest, HostsPortsAndSchemes) {
  struct Case {
    const char* url;
    const char* host;
    const char* port;
    bool tls;
  };
  for (const Case& c : {Case{"http://127.0.0.1:8080", "127.0.0.1", "8080", false},
                        Case{"http://localhost", "localhost", "80", false},
                        Case{"https://connect.us-east-1.amazonaws.com",
                             "connect.us-east-1.amazonaws.com", "443", true},
                        Case{"http://[::1]:9000", "::1", "9000", false},
                        Case{"https://[::1]", "::1", "443", true}}) {
    const auto endpoint = ParseEndpointUrl(c.url);
    ASSERT_TRUE(endpoint) << c.url << ": " << endpoint.error();
    EXPECT_EQ(endpoint->host, c.host) << c.url;
    EXPECT_EQ(endpoint->port, c.port) << c.url;
    EXPECT_EQ(endpoint->tls, c.tls) << c.url;
  }
}

TEST(EndpointUrlTest, RefusesWhatIsNotAnHttpUrl) {
  for (const char* url :
       {"", "127.0.0.1:8080", "ftp://host", "http://", "http://[::1", "http://host:port",
        "http://host:99999", "http://host:0", "http://[::1]x"}) {
    EXPECT_FALSE(ParseEndpointUrl(url)) << url;
  }
}

TEST(SendHttpTest, SendsTheCallAndReadsTheReply) {
  LoopbackHttp server([](const testing::SeenRequest& request) {
    return Reply(201, "made:" + request.body(), {{"X-Amzn-ErrorType", "none"}, {"ETag", "\"e\""}});
  });
  const auto reply =
      SendHttp(Local(server), {"PUT", "/a/b?c=d", {{"Host", "h:1"}, {"X-Custom", "v"}}, "payload"});
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->status, 201u);
  EXPECT_EQ(reply->body, "made:payload");
  EXPECT_EQ(reply->Header("etag"), "\"e\"");  // any case
  EXPECT_EQ(reply->Header("x-amzn-errortype"), "none");
  EXPECT_EQ(reply->Header("missing"), "");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method_string(), "PUT");
  EXPECT_EQ(seen[0].target(), "/a/b?c=d");
  EXPECT_EQ(seen[0]["X-Custom"], "v");
  EXPECT_EQ(seen[0][testing::http::field::content_length], "7");
}

TEST(SendHttpTest, AHeadHasNoBodyWhateverItsLengthSays) {
  LoopbackHttp server([](const testing::SeenRequest&) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nConnection: close\r\n\r\n";
  });
  const auto reply = SendHttp(Local(server), {"HEAD", "/object", {{"Host", "h"}}, ""});
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->Header("Content-Length"), "123456");
  EXPECT_TRUE(reply->body.empty());
}

TEST(SendHttpTest, ReadsBodiesLargerThanBeastsDefaultLimit) {
  const std::string big(9u << 20, 'r');  // 9 MiB: over Beast's 8 MB default
  LoopbackHttp server([&big](const testing::SeenRequest&) { return Reply(200, big); });
  const auto reply = SendHttp(Local(server), {"GET", "/recording.wav", {{"Host", "h"}}, ""});
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->body.size(), big.size());
}

TEST(SendHttpTest, GivesUpOnAServerThatNeverAnswers) {
  LoopbackHttp server([](const testing::SeenRequest&) { return testing::kStall; });
  const auto started = std::chrono::steady_clock::now();
  const auto reply =
      SendHttp(Local(server), {"GET", "/", {{"Host", "h"}}, ""}, std::chrono::milliseconds(300));
  EXPECT_FALSE(reply);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(SendHttpTest, ABrokenReplyIsAnErrorNotAnException) {
  for (const std::string& answer :
       {std::string("garbage\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), std::string()}) {
    LoopbackHttp server([&answer](const testing::SeenRequest&) { return answer; });
    const auto reply =
        SendHttp(Local(server), {"GET", "/", {{"Host", "h"}}, ""}, std::chrono::seconds(5));
    EXPECT_FALSE(reply) << answer;
    if (!reply) {
      EXPECT_FALSE(reply.error().empty());
    }
  }
}

TEST(SendHttpTest, NobodyListeningIsAnError) {
  unsigned short port = 0;
  {
    LoopbackHttp server([](const testing::SeenRequest&) { return Reply(200, ""); });
    port = server.port();
  }
  const auto reply = SendHttp({"127.0.0.1", std::to_string(port), false},
                              {"GET", "/", {{"Host", "h"}}, ""}, std::chrono::seconds(5));
  ASSERT_FALSE(reply);
  EXPECT_FALSE(reply.error().empty());
}

}  // namespace
}  // namespace callrec::httpclient
