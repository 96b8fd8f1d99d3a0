#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "callgen/Lateness.hpp"
#include "callgen/RtpPacketizer.hpp"
#include "callgen/RtpSocket.hpp"
#include "callgen/UringBatch.hpp"
#include "srtp/SrtpStream.hpp"

namespace callrec::callgen {

// What one stream sent. Written by the media thread only; read it once the
// sender has stopped (RtpSender::Stop returned).
struct RtpStreamStats {
  std::uint64_t packets = 0;  // telephone events included
  std::uint64_t events = 0;   // RFC 4733 telephone-event packets
  std::uint64_t bytes = 0;    // RTP payload bytes, headers excluded
  std::uint64_t send_errors = 0;
  Lateness lateness;
};

// One outgoing RTP stream: its socket, its packetizer and its statistics.
// Created by the signalling side (the socket's port goes into the offer),
// then handed to the RtpSender.
class OutboundStream {
 public:
  // `srtp`: every packet is protected with it before it is sent.
  OutboundStream(RtpSocket socket, RtpPacketizer packetizer,
                 std::optional<srtp::SrtpStream> srtp = std::nullopt)
      : socket_(std::move(socket)), packetizer_(std::move(packetizer)), srtp_(std::move(srtp)) {}

  std::uint16_t local_port() const { return socket_.port(); }
  const RtpIdentity& identity() const { return packetizer_.identity(); }
  const RtpStreamStats& stats() const { return stats_; }
  // The stream reached the end slot it was started with (any thread).
  bool ended() const { return ended_.load(std::memory_order_acquire); }
  // Key presses on this stream (see RtpPacketizer); before RtpSender::Start.
  void set_dtmf(std::shared_ptr<const DtmfSchedule> schedule,
                std::optional<std::uint8_t> event_payload_type) {
    packetizer_.set_dtmf(std::move(schedule), event_payload_type);
  }

 private:
  friend class RtpSender;
  RtpSocket socket_;
  RtpPacketizer packetizer_;
  std::optional<srtp::SrtpStream> srtp_;  // used by the media thread only
  // Owned by the media thread once the stream is started.
  UdpAddress destination_;
  SteadyTime origin_{};
  std::int64_t next_slot_ = 0;
  std::int64_t end_slot_ = 0;
  bool sending_ = false;
  bool stopped_ = false;
  std::atomic<bool> ended_{false};
  RtpStreamStats stats_;
};

// How the media thread hands packets to the kernel. kUring: every packet due
// at a wake-up goes out with one io_uring_enter (a SENDMSG per packet, each on
// its stream's socket); kOff: one sendto per packet; kAuto: kUring when the
// kernel allows io_uring, else kOff.
enum class SendBatch { kAuto, kUring, kOff };

// The one media thread that sends every stream of every session, each packet
// at its slot on an absolute steady-clock schedule (never "sleep 20 ms", which
// drifts). Control calls (any thread) are queued and applied by the media
// thread before its next packet. Late packets are still sent, in order, and
// their lateness is recorded.
class RtpSender {
 public:
  // `realtime`: ask for SCHED_FIFO for the media thread (refused without
  // CAP_SYS_NICE; the thread then runs at normal priority).
  explicit RtpSender(bool realtime = false, SendBatch batch = SendBatch::kAuto);
  ~RtpSender();
  RtpSender(const RtpSender&) = delete;
  RtpSender& operator=(const RtpSender&) = delete;

  // Sends slot `first_slot` onwards of a schedule starting at `origin` to
  // `destination`, the clip from sample `clip_start` at `first_slot`, up to
  // (not including) `end_slot`, where the stream ends by itself (ended()).
  void Start(std::shared_ptr<OutboundStream> stream, UdpAddress destination, SteadyTime origin,
             std::int64_t first_slot, std::int64_t clip_start = 0,
             std::int64_t end_slot = std::numeric_limits<std::int64_t>::max());
  // Pausing skips slots (nothing is sent, the timestamp keeps running).
  void SetSending(const std::shared_ptr<OutboundStream>& stream, bool sending);
  // Sends nothing more; the stream is released by the sender. Returns once the
  // media thread has applied it: no packet of the stream leaves afterwards, so
  // a BYE sent next cannot overtake the stream's last packet.
  void Finish(const std::shared_ptr<OutboundStream>& stream);
  // Ends the media thread (idempotent). Statistics are stable afterwards.
  void Stop();
  // Whether the media thread runs with SCHED_FIFO (valid once it started).
  bool realtime() const { return realtime_granted_; }
  // Whether packets go out in io_uring batches; when SendBatch::kAuto or
  // kUring fell back to one send per packet, why (empty otherwise).
  bool batching() const { return batch_ != nullptr; }
  const std::string& batch_unavailable() const { return batch_unavailable_; }

 private:
  struct Command {
    enum class Kind { kStart, kSend, kPause, kFinish } kind;
    std::shared_ptr<OutboundStream> stream;
    UdpAddress destination;
    SteadyTime origin;
    std::int64_t first_slot;
    std::int64_t clip_start;
    std::int64_t end_slot;
  };
  struct Due {
    SteadyTime at;
    std::shared_ptr<OutboundStream> stream;
    bool operator>(const Due& other) const { return at > other.at; }
  };

  // Returns the command's ticket: applied once applied_ reaches it.
  std::uint64_t Post(Command command);
  void Run();
  void Apply(std::vector<Command>& commands, std::vector<Due>& heap);
  // Sends (or, batching, queues) the packets of the stream's next slot.
  void SendSlot(const std::shared_ptr<OutboundStream>& stream, SteadyTime due);
  static void SendOne(OutboundStream& stream, SteadyTime due);
  void QueueSlot(const std::shared_ptr<OutboundStream>& stream, SteadyTime due);
  // Sends what QueueSlot queued and records each packet's outcome.
  void FlushBatch();

  // A queued packet's stream and what its statistics need.
  struct Queued {
    std::shared_ptr<OutboundStream> stream;
    SteadyTime due;
    std::size_t rtp_size;
    bool event;
  };

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Command> pending_;
  std::uint64_t posted_ = 0;   // commands posted so far
  std::uint64_t applied_ = 0;  // commands the media thread has applied
  std::condition_variable applied_cv_;
  bool stopping_ = false;
  bool stopped_ = false;  // the media thread has ended
  bool realtime_wanted_;
  std::atomic<bool> realtime_granted_{false};
  std::unique_ptr<UringBatch> batch_;  // null: one send per packet
  std::string batch_unavailable_;
  std::vector<Queued> queued_;  // parallel to batch_'s packets
  std::thread thread_;
};

}  // namespace callrec::callgen
