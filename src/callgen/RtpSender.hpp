#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "callgen/Lateness.hpp"
#include "callgen/RtpPacketizer.hpp"
#include "callgen/RtpSocket.hpp"
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
  bool sending_ = false;
  bool stopped_ = false;
  RtpStreamStats stats_;
};

// The one media thread that sends every stream of every session, each packet
// at its slot on an absolute steady-clock schedule (never "sleep 20 ms", which
// drifts). Control calls (any thread) are queued and applied by the media
// thread before its next packet. Late packets are still sent, in order, and
// their lateness is recorded.
class RtpSender {
 public:
  // `realtime`: ask for SCHED_FIFO for the media thread (refused without
  // CAP_SYS_NICE; the thread then runs at normal priority).
  explicit RtpSender(bool realtime = false);
  ~RtpSender();
  RtpSender(const RtpSender&) = delete;
  RtpSender& operator=(const RtpSender&) = delete;

  // Sends slot `first_slot` onwards of a schedule starting at `origin` to
  // `destination`, the clip from sample `clip_start` at `first_slot`.
  void Start(std::shared_ptr<OutboundStream> stream, UdpAddress destination, SteadyTime origin,
             std::int64_t first_slot, std::int64_t clip_start = 0);
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

 private:
  struct Command {
    enum class Kind { kStart, kSend, kPause, kFinish } kind;
    std::shared_ptr<OutboundStream> stream;
    UdpAddress destination;
    SteadyTime origin;
    std::int64_t first_slot;
    std::int64_t clip_start;
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
  static void SendOne(OutboundStream& stream, SteadyTime due);

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
  std::thread thread_;
};

}  // namespace callrec::callgen
