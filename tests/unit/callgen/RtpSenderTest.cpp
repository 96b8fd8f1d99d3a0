#include "callgen/RtpSender.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "media/RtpPacket.hpp"

namespace callrec::callgen {
namespace {

using namespace std::chrono_literals;

// A loopback UDP receiver for the sender's packets.
class Receiver {
 public:
  Receiver() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    address_ = *MakeUdpAddress("127.0.0.1", 0);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address_.storage), address_.length), 0);
    socklen_t length = sizeof address_.storage;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address_.storage), &length);
  }
  ~Receiver() { close(fd_); }

  const UdpAddress& address() const { return address_; }

  // Every packet that arrives within `period` (the sender keeps sending, so
  // waiting for silence would not end while a stream runs).
  std::vector<std::vector<std::uint8_t>> Collect(std::chrono::milliseconds period) {
    std::vector<std::vector<std::uint8_t>> packets;
    const auto end = std::chrono::steady_clock::now() + period;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
      std::vector<std::uint8_t> buffer(2048);
      const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      buffer.resize(static_cast<std::size_t>(n));
      packets.push_back(std::move(buffer));
    }
    return packets;
  }

 private:
  int fd_ = -1;
  UdpAddress address_;
};

std::shared_ptr<OutboundStream> NewStream(std::uint32_t ssrc) {
  auto socket = RtpSocket::Open("127.0.0.1");
  EXPECT_TRUE(socket.ok());
  auto clip = std::make_shared<const AudioClip>(ToneClip(440, 1.0, media::Codec::kPcmu));
  return std::make_shared<OutboundStream>(std::move(socket).value(),
                                          RtpPacketizer(RtpIdentity{ssrc, 10, 1000, 0}, clip, 0));
}

TEST(RtpSocket, BindsAnEvenPortOnTheAskedAddress) {
  for (int i = 0; i < 10; ++i) {
    auto socket = RtpSocket::Open("127.0.0.1");
    ASSERT_TRUE(socket.ok()) << socket.error();
    EXPECT_EQ(socket->port() % 2, 0);
    EXPECT_NE(socket->port(), 0);
  }
  EXPECT_FALSE(RtpSocket::Open("not-an-ip").ok());
}

// Every behaviour holds whether packets leave in io_uring batches or one
// sendto each.
class RtpSenderModes : public testing::TestWithParam<SendBatch> {
 protected:
  void SetUp() override {
    if (GetParam() == SendBatch::kUring && !RtpSender(false, SendBatch::kUring).batching()) {
      GTEST_SKIP() << "io_uring refused here";
    }
  }
};

INSTANTIATE_TEST_SUITE_P(SendBatch, RtpSenderModes,
                         testing::Values(SendBatch::kUring, SendBatch::kOff),
                         [](const testing::TestParamInfo<SendBatch>& info) {
                           return info.param == SendBatch::kUring ? "uring" : "off";
                         });

TEST_P(RtpSenderModes, SendsEveryPacketOfTheScheduleInOrder) {
  Receiver receiver;
  RtpSender sender(false, GetParam());
  auto stream = NewStream(77);
  // Started 200 ms in the past: slots 0..10 are due at once, then one per 20 ms.
  sender.Start(stream, receiver.address(), std::chrono::steady_clock::now() - 200ms, 0);
  auto packets = receiver.Collect(300ms);
  sender.Finish(stream);
  const auto after = receiver.Collect(100ms);
  sender.Stop();
  packets.insert(packets.end(), after.begin(), after.end());

  ASSERT_GE(packets.size(), 20u);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const auto rtp = media::ParseRtp(packets[i]);
    ASSERT_TRUE(rtp.has_value());
    EXPECT_EQ(rtp->ssrc, 77u);
    EXPECT_EQ(rtp->sequence, 10 + i);
    EXPECT_EQ(rtp->timestamp, 1000 + 160 * i);
    EXPECT_EQ(rtp->payload.size(), 160u);
  }
  EXPECT_EQ(stream->stats().packets, packets.size());
  EXPECT_EQ(stream->stats().bytes, 160 * packets.size());
  EXPECT_EQ(stream->stats().lateness.count(), packets.size());
}

TEST_P(RtpSenderModes, SendsNothingWhilePausedAndResumesWithAMarker) {
  Receiver receiver;
  RtpSender sender(false, GetParam());
  auto stream = NewStream(5);
  sender.Start(stream, receiver.address(), std::chrono::steady_clock::now(), 0);
  const auto before = receiver.Collect(100ms);
  sender.SetSending(stream, false);
  receiver.Collect(50ms);  // what was in flight when the pause was applied
  EXPECT_TRUE(receiver.Collect(200ms).empty());
  sender.SetSending(stream, true);
  const auto after = receiver.Collect(100ms);
  sender.Stop();
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(after.empty());
  const auto last_before = media::ParseRtp(before.back());
  const auto first_after = media::ParseRtp(after.front());
  ASSERT_TRUE(last_before && first_after);
  EXPECT_TRUE(first_after->marker);
  // The timestamp covers the pause; the sequence does not.
  EXPECT_GE(first_after->timestamp - last_before->timestamp, 10u * 160);
  EXPECT_LE(static_cast<std::uint16_t>(first_after->sequence - last_before->sequence), 4);
}

TEST_P(RtpSenderModes, FinishedStreamsStopAndOthersGoOn) {
  Receiver a;
  Receiver b;
  RtpSender sender(false, GetParam());
  auto one = NewStream(1);
  auto two = NewStream(2);
  const auto origin = std::chrono::steady_clock::now();
  sender.Start(one, a.address(), origin, 0);
  sender.Start(two, b.address(), origin, 0);
  a.Collect(60ms);
  sender.Finish(one);
  a.Collect(50ms);
  EXPECT_TRUE(a.Collect(100ms).empty());
  EXPECT_FALSE(b.Collect(60ms).empty());
  sender.Stop();
  sender.Stop();  // idempotent
}

// Finish returns once the stream is stopped: what arrives afterwards was sent
// before (a BYE sent next cannot overtake the stream's last packet), and
// finishing after the media thread ended does not wait.
TEST_P(RtpSenderModes, NothingLeavesAfterFinishReturns) {
  Receiver a;
  RtpSender sender(false, GetParam());
  auto one = NewStream(1);
  sender.Start(one, a.address(), std::chrono::steady_clock::now(), 0);
  a.Collect(50ms);
  sender.Finish(one);
  const auto queued = a.Collect(10ms);  // already in the socket's buffer
  EXPECT_LE(queued.size(), 1u);
  EXPECT_TRUE(a.Collect(80ms).empty());
  sender.Stop();
  auto two = NewStream(2);
  sender.Finish(two);
}

// Many streams, each on its own socket, with several slots of each due at
// once (started in the past): every packet arrives once, in order, with its
// slot's timestamp, and a stream ends by itself at its end slot.
TEST_P(RtpSenderModes, ManyStreamsSendEachPacketOnceInOrderUpToTheirEnd) {
  constexpr int kStreams = 40;
  constexpr std::int64_t kEnd = 15;
  std::vector<std::unique_ptr<Receiver>> receivers;
  std::vector<std::shared_ptr<OutboundStream>> streams;
  RtpSender sender(false, GetParam());
  const auto origin = std::chrono::steady_clock::now() - 100ms;  // slots 0-5 due at once
  for (int i = 0; i < kStreams; ++i) {
    receivers.push_back(std::make_unique<Receiver>());
    streams.push_back(NewStream(1000 + i));
    sender.Start(streams.back(), receivers.back()->address(), origin, 0, 0, kEnd);
  }
  const auto give_up = std::chrono::steady_clock::now() + 2s;
  for (const auto& stream : streams) {
    while (!stream->ended() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(stream->ended());
  }
  sender.Stop();
  for (int i = 0; i < kStreams; ++i) {
    const auto packets = receivers[i]->Collect(20ms);
    ASSERT_EQ(packets.size(), static_cast<std::size_t>(kEnd)) << "stream " << i;
    for (std::size_t k = 0; k < packets.size(); ++k) {
      const auto rtp = media::ParseRtp(packets[k]);
      ASSERT_TRUE(rtp.has_value());
      EXPECT_EQ(rtp->ssrc, 1000u + i);
      EXPECT_EQ(rtp->sequence, 10 + k);
      EXPECT_EQ(rtp->timestamp, 1000 + 160 * k);
    }
    EXPECT_EQ(streams[i]->stats().packets, static_cast<std::uint64_t>(kEnd));
    EXPECT_EQ(streams[i]->stats().send_errors, 0u);
    EXPECT_EQ(streams[i]->stats().lateness.count(), static_cast<std::uint64_t>(kEnd));
  }
}

// A send the kernel refuses is counted, not retried, and the others go on:
// an IPv6 destination from an IPv4 socket.
TEST_P(RtpSenderModes, RefusedSendsAreCountedAsErrors) {
  Receiver good;
  RtpSender sender(false, GetParam());
  auto ok = NewStream(1);
  auto refused = NewStream(2);
  const auto origin = std::chrono::steady_clock::now() - 40ms;
  sender.Start(ok, good.address(), origin, 0, 0, 5);
  sender.Start(refused, *MakeUdpAddress("::1", 9), origin, 0, 0, 5);
  while (!ok->ended() || !refused->ended()) std::this_thread::sleep_for(5ms);
  sender.Stop();
  EXPECT_EQ(good.Collect(20ms).size(), 5u);
  EXPECT_EQ(ok->stats().packets, 5u);
  EXPECT_EQ(refused->stats().packets, 0u);
  EXPECT_EQ(refused->stats().send_errors, 5u);
}

// --rtp-only connects each socket to its destination: packets then name no
// address, and a closed port's ICMP errors come back as send errors.
TEST_P(RtpSenderModes, ConnectedSocketsSendWithoutAnAddress) {
  Receiver open;
  UdpAddress closed;
  {
    Receiver gone;
    closed = gone.address();
  }
  RtpSender sender(false, GetParam());
  const auto origin = std::chrono::steady_clock::now();
  std::shared_ptr<OutboundStream> streams[2];
  const UdpAddress* peers[] = {&open.address(), &closed};
  for (int i = 0; i < 2; ++i) {
    auto socket = RtpSocket::Open("127.0.0.1");
    ASSERT_TRUE(socket.ok());
    ASSERT_FALSE(socket.value().Connect(*peers[i]).has_value());
    EXPECT_TRUE(socket->connected());
    auto clip = std::make_shared<const AudioClip>(ToneClip(440, 1.0, media::Codec::kPcmu));
    streams[i] = std::make_shared<OutboundStream>(
        std::move(socket).value(),
        RtpPacketizer(RtpIdentity{static_cast<std::uint32_t>(i), 0, 0, 0}, clip, 0));
    sender.Start(streams[i], *peers[i], origin, 0, 0, 10);
  }
  while (!streams[0]->ended() || !streams[1]->ended()) std::this_thread::sleep_for(5ms);
  sender.Stop();
  EXPECT_EQ(open.Collect(20ms).size(), 10u);
  EXPECT_EQ(streams[0]->stats().packets, 10u);
  EXPECT_EQ(streams[0]->stats().send_errors, 0u);
  EXPECT_GT(streams[1]->stats().send_errors,
            0u);  // the first send goes, its ICMP error fails the next
}

TEST(RtpSender, OffSendsOnePacketASyscall) {
  RtpSender sender(false, SendBatch::kOff);
  EXPECT_FALSE(sender.batching());
  EXPECT_TRUE(sender.batch_unavailable().empty());
}

}  // namespace
}  // namespace callrec::callgen
