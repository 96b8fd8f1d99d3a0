#include "sip/StalledConnections.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace callrec::sip {
namespace {

using namespace std::chrono_literals;

// A listener on 127.0.0.1 and a client connected to it, both ends open.
struct Pair {
  int listener = -1, client = -1, accepted = -1;
  std::uint16_t port = 0;
  Pair() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener, 4);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
    accepted = ::accept(listener, nullptr, nullptr);
  }
  ~Pair() {
    for (int fd : {listener, client, accepted}) ::close(fd);
  }
  // Whether the client sees the end of the stream (the server end shut down).
  bool ClientSeesEnd() const {
    timeval wait{0, 200'000};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    char byte;
    return ::recv(client, &byte, 1, 0) == 0;
  }
};

TEST(StalledConnections, ASilentConnectionIsShutDownAfterTheLimit) {
  Pair pair;
  ASSERT_GE(pair.accepted, 0);
  StalledConnections stalled({pair.port}, 10s);
  const auto t0 = StalledConnections::Clock::now();
  EXPECT_EQ(stalled.Sweep(t0), 0u);
  EXPECT_EQ(stalled.Sweep(t0 + 9s), 0u);
  EXPECT_FALSE(pair.ClientSeesEnd());
  // Data from the client changes nothing: only what we send back counts.
  ASSERT_EQ(::send(pair.client, "\x16\x03", 2, 0), 2);
  EXPECT_EQ(stalled.Sweep(t0 + 10s), 1u);
  EXPECT_TRUE(pair.ClientSeesEnd());
}

TEST(StalledConnections, AConnectionWeAnsweredIsLeftAlone) {
  Pair pair;
  ASSERT_GE(pair.accepted, 0);
  ASSERT_EQ(::send(pair.accepted, "SIP/2.0 200 OK\r\n", 16, 0), 16);
  usleep(20'000);  // the kernel counts it once it left
  StalledConnections stalled({pair.port}, 10s);
  const auto t0 = StalledConnections::Clock::now();
  EXPECT_EQ(stalled.Sweep(t0), 0u);
  EXPECT_EQ(stalled.Sweep(t0 + 60s), 0u);
}

TEST(StalledConnections, OtherPortsAreNotItsBusiness) {
  Pair pair;
  ASSERT_GE(pair.accepted, 0);
  StalledConnections stalled({static_cast<std::uint16_t>(pair.port + 1)}, 10s);
  const auto t0 = StalledConnections::Clock::now();
  EXPECT_EQ(stalled.Sweep(t0), 0u);
  EXPECT_EQ(stalled.Sweep(t0 + 60s), 0u);
  EXPECT_FALSE(pair.ClientSeesEnd());
}

}  // namespace
}  // namespace callrec::sip
