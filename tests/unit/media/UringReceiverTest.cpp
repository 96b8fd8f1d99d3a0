#include "media/UringReceiver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <map>
#include <thread>
#include <vector>

namespace callrec::media {
namespace {

using namespace std::chrono_literals;

// A UDP socket bound to a free loopback port, closed at the end.
struct LoopbackSocket {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  LoopbackSocket() {
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  }
  ~LoopbackSocket() { close(fd); }
  void SendTo(const LoopbackSocket& to, const std::vector<std::uint8_t>& bytes) const {
    ASSERT_EQ(sendto(fd, bytes.data(), bytes.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to.address), sizeof to.address),
              static_cast<ssize_t>(bytes.size()));
  }
  std::uint16_t port() const { return ntohs(address.sin_port); }
};

struct Received {
  std::uint64_t key;
  std::uint16_t from_port;
  std::vector<std::uint8_t> bytes;
  UringReceiver::Clock::time_point arrival;
};

class UringReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = UringReceiver::Create();
    if (!created.ok()) GTEST_SKIP() << "io_uring refused here: " << created.error();
    receiver_ = std::move(created).value();
  }
  // Polls until `count` datagrams came (or 2 s passed).
  std::vector<Received> PollFor(std::size_t count) {
    std::vector<Received> got;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
      receiver_->Poll([&](std::uint64_t key, const sockaddr_storage& from,
                          std::span<std::uint8_t> bytes, UringReceiver::Clock::time_point at) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&from);
        got.push_back({key, ntohs(in->sin_port), {bytes.begin(), bytes.end()}, at});
      });
      if (got.size() < count) std::this_thread::sleep_for(1ms);
    }
    return got;
  }
  std::unique_ptr<UringReceiver> receiver_;
};

TEST_F(UringReceiverTest, HandsOutEveryDatagramWithItsSocketSenderAndArrival) {
  LoopbackSocket a, b, sender;
  ASSERT_TRUE(receiver_->Add(1, a.fd).ok());
  ASSERT_TRUE(receiver_->Add(2, b.fd).ok());
  const auto before = UringReceiver::Clock::now();
  for (std::uint8_t i = 0; i < 5; ++i) {
    sender.SendTo(a, {1, i});
    sender.SendTo(b, {2, i, 0xAA});
  }
  const auto got = PollFor(10);
  ASSERT_EQ(got.size(), 10u);
  std::map<std::uint64_t, std::vector<std::vector<std::uint8_t>>> by_key;
  for (const Received& r : got) {
    EXPECT_EQ(r.from_port, sender.port());
    EXPECT_GE(r.arrival, before - 1ms);
    by_key[r.key].push_back(r.bytes);
  }
  ASSERT_EQ(by_key[1].size(), 5u);
  ASSERT_EQ(by_key[2].size(), 5u);
  for (std::uint8_t i = 0; i < 5; ++i) {
    EXPECT_EQ(by_key[1][i], (std::vector<std::uint8_t>{1, i}));  // in order per socket
    EXPECT_EQ(by_key[2][i], (std::vector<std::uint8_t>{2, i, 0xAA}));
  }
}

TEST_F(UringReceiverTest, TheArrivalIsTheKernelsNotWhenItIsRead) {
  LoopbackSocket a, sender;
  ASSERT_TRUE(receiver_->Add(1, a.fd).ok());
  // The kernel switches receive timestamps on for the whole stack a moment
  // after the first socket asks (deferred work): until then a datagram is
  // stamped when read. A few tries, so a loaded machine's delay is not a failure.
  bool stamped = false;
  for (int attempt = 0; attempt < 5 && !stamped; ++attempt) {
    std::this_thread::sleep_for(20ms);
    const auto sent = UringReceiver::Clock::now();
    sender.SendTo(a, {7});
    std::this_thread::sleep_for(40ms);  // read late
    const auto polled = UringReceiver::Clock::now();
    const auto got = PollFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GE(got[0].arrival, sent - 1ms);
    stamped = got[0].arrival < polled - 30ms;
  }
  EXPECT_TRUE(stamped) << "every datagram had the time it was read as its arrival";
}

TEST_F(UringReceiverTest, MoreDatagramsThanBuffersAreAllReadInOrder) {
  // 12 sockets × 400 datagrams: more than the ring's 4,096 buffers at once, so
  // receives stop for lack of buffers (ENOBUFS) and are armed again.
  constexpr int kSockets = 12, kEach = 400;
  std::vector<std::unique_ptr<LoopbackSocket>> sockets;
  LoopbackSocket sender;
  for (int s = 0; s < kSockets; ++s) {
    sockets.push_back(std::make_unique<LoopbackSocket>());
    const int size = 1 << 20;
    setsockopt(sockets.back()->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ASSERT_TRUE(receiver_->Add(static_cast<std::uint64_t>(s + 1), sockets.back()->fd).ok());
  }
  for (int i = 0; i < kEach; ++i) {
    for (auto& socket : sockets) {
      sender.SendTo(*socket, {static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
    }
  }
  const auto got = PollFor(kSockets * kEach);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kSockets * kEach));
  std::map<std::uint64_t, int> next;
  for (const Received& r : got) {
    const int n = r.bytes[0] << 8 | r.bytes[1];
    EXPECT_EQ(n, next[r.key]++) << "socket " << r.key;
  }
}

TEST_F(UringReceiverTest, OnePollReadsEverythingWaiting) {
  // What a BYE's drain relies on: the kernel hands out a bounded run per
  // socket and turn; one Poll still reads all that waits.
  LoopbackSocket a, b, sender;
  ASSERT_TRUE(receiver_->Add(1, a.fd).ok());
  ASSERT_TRUE(receiver_->Add(2, b.fd).ok());
  for (int i = 0; i < 150; ++i) {
    sender.SendTo(a, {static_cast<std::uint8_t>(i)});
    sender.SendTo(b, {static_cast<std::uint8_t>(i)});
  }
  std::size_t got = 0;
  EXPECT_EQ(receiver_->Poll([&](std::uint64_t, const sockaddr_storage&, std::span<std::uint8_t>,
                                UringReceiver::Clock::time_point) { ++got; }),
            300u);
  EXPECT_EQ(got, 300u);
}

TEST_F(UringReceiverTest, ARemovedSocketIsReleasedAndReadNoMore) {
  LoopbackSocket a, b, sender;
  ASSERT_TRUE(receiver_->Add(1, a.fd).ok());
  ASSERT_TRUE(receiver_->Add(2, b.fd).ok());
  sender.SendTo(a, {1});
  ASSERT_EQ(PollFor(1).size(), 1u);
  bool released = false;
  receiver_->Remove(1, [&] { released = true; });
  sender.SendTo(a, {2});  // not read: the socket is no longer the receiver's
  sender.SendTo(b, {3});
  const auto got = PollFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, 2u);
  for (int i = 0; i < 100 && !released; ++i) PollFor(0);
  EXPECT_TRUE(released);
  EXPECT_EQ(receiver_->sockets(), 1u);
  char byte = 0;
  EXPECT_EQ(recv(a.fd, &byte, 1, MSG_DONTWAIT), 1) << "the datagram waits in the socket";
  EXPECT_EQ(byte, 2);
}

TEST_F(UringReceiverTest, AnUnknownKeyIsReleasedAtOnce) {
  bool released = false;
  receiver_->Remove(42, [&] { released = true; });
  EXPECT_TRUE(released);
}

}  // namespace
}  // namespace callrec::media
