#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <stdexcept>
#include <string>

#include "log/Barrier.hpp"
#include "sip/SipUserAgent.hpp"

namespace callrec::sip {
namespace {

// A listener whose every request handling throws: the SIP barrier must answer
// for it and keep the SIP thread alive (an exception through sofia-sip's C
// callback would end the process).
class ThrowingListener : public SipUserAgent::Listener {
 public:
  void OnSipEvent(nua_event_t event, int, const char*, nua_handle_t*, nua_hmagic_t*, const sip_t*,
                  tagi_t[]) override {
    if (event == nua_i_options || event == nua_i_invite) {
      throw std::runtime_error("the listener failed");
    }
  }
};

// A UDP client on loopback: sends one request, returns the first response.
class UdpClient {
 public:
  UdpClient() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    port_ = ntohs(local.sin_port);
  }
  ~UdpClient() { ::close(fd_); }

  std::string Exchange(std::uint16_t server_port, const std::string& method, int n) {
    const std::string request =
        method + " sip:srs@127.0.0.1:" + std::to_string(server_port) +
        " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(port_) + ";branch=z9hG4bK-b" +
        std::to_string(n) + ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=t" +
        std::to_string(n) + "\r\nTo: <sip:srs@127.0.0.1>\r\nCall-ID: barrier-" + std::to_string(n) +
        "@test\r\nCSeq: 1 " + method + "\r\nContact: <sip:t@127.0.0.1:" + std::to_string(port_) +
        ">\r\nContent-Length: 0\r\n\r\n";
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server.sin_port = htons(server_port);
    ::sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server),
             sizeof server);
    for (;;) {
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, 5000) <= 0) return "";
      char buffer[4096];
      const ssize_t n_read = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n_read <= 0) return "";
      std::string response(buffer, static_cast<std::size_t>(n_read));
      if (response.rfind("SIP/2.0 1", 0) == 0) continue;  // provisional
      return response;
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::uint16_t FreeUdpPort() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  socklen_t length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  ::close(fd);
  return ntohs(local.sin_port);
}

TEST(SipBarrier, RequestWhoseHandlerThrowsGets500WithAWarningAndTheThreadGoesOn) {
  ThrowingListener listener;
  log::ExceptionBarrier barrier("sip.handler_failed");
  const std::uint16_t port = FreeUdpPort();
  SipUserAgent agent("127.0.0.1", port, listener, barrier);
  UdpClient client;

  const std::string first = client.Exchange(port, "OPTIONS", 1);
  EXPECT_EQ(first.rfind("SIP/2.0 500", 0), 0u) << first;
  EXPECT_NE(first.find("Warning: 399"), std::string::npos) << first;
  EXPECT_NE(first.find("the server failed while handling this request"), std::string::npos)
      << first;

  // Posted work that throws is stopped too; the next runs.
  agent.Post([] { throw std::runtime_error("posted work failed"); });
  std::promise<void> ran;
  agent.Post([&ran] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);

  const std::string second = client.Exchange(port, "OPTIONS", 2);
  EXPECT_EQ(second.rfind("SIP/2.0 500", 0), 0u) << second;
  const std::string invite = client.Exchange(port, "INVITE", 3);
  EXPECT_EQ(invite.rfind("SIP/2.0 500", 0), 0u) << invite;
  EXPECT_NE(invite.find("Warning: 399"), std::string::npos) << invite;
  EXPECT_EQ(barrier.caught(), 4u);
  agent.Stop();
}

}  // namespace
}  // namespace callrec::sip
