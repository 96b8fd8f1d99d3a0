#include "callgen/RtpSender.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <functional>

namespace callrec::callgen {

namespace {
// Packets a flush holds at most; a wake-up with more due flushes several times.
constexpr unsigned kBatchCapacity = 1024;
}  // namespace

RtpSender::RtpSender(bool realtime, SendBatch batch) : realtime_wanted_(realtime) {
  if (batch != SendBatch::kOff) {
    auto opened = UringBatch::Open(kBatchCapacity);
    if (opened) {
      batch_ = std::move(opened).value();
      queued_.reserve(kBatchCapacity);
    } else {
      batch_unavailable_ = opened.error();
    }
  }
  thread_ = std::thread([this] { Run(); });
}

RtpSender::~RtpSender() {
  Stop();
}

void RtpSender::Start(std::shared_ptr<OutboundStream> stream, UdpAddress destination,
                      SteadyTime origin, std::int64_t first_slot, std::int64_t clip_start,
                      std::int64_t end_slot) {
  Post(Command{Command::Kind::kStart, std::move(stream), destination, origin, first_slot,
               clip_start, end_slot});
}

void RtpSender::SetSending(const std::shared_ptr<OutboundStream>& stream, bool sending) {
  Post(Command{sending ? Command::Kind::kSend : Command::Kind::kPause, stream, {}, {}, 0, 0, 0});
}

void RtpSender::Finish(const std::shared_ptr<OutboundStream>& stream) {
  const std::uint64_t ticket = Post(Command{Command::Kind::kFinish, stream, {}, {}, 0, 0, 0});
  std::unique_lock lock(mutex_);
  applied_cv_.wait(lock, [&] { return applied_ >= ticket || stopped_; });
}

void RtpSender::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t RtpSender::Post(Command command) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(command));
    ticket = ++posted_;
  }
  wake_.notify_one();
  return ticket;
}

void RtpSender::Apply(std::vector<Command>& commands, std::vector<Due>& heap) {
  for (auto& command : commands) {
    OutboundStream& stream = *command.stream;
    switch (command.kind) {
      case Command::Kind::kStart:
        stream.destination_ = command.destination;
        stream.origin_ = command.origin;
        stream.next_slot_ = command.first_slot;
        stream.end_slot_ = command.end_slot;
        stream.sending_ = true;
        stream.packetizer_.set_audio_offset(command.clip_start -
                                            command.first_slot * kSamplesPerPacket);
        heap.push_back(Due{SlotDue(stream.origin_, stream.next_slot_), command.stream});
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
        break;
      case Command::Kind::kSend:
        stream.sending_ = true;
        break;
      case Command::Kind::kPause:
        stream.sending_ = false;
        break;
      case Command::Kind::kFinish:
        stream.stopped_ = true;
        break;
    }
  }
  commands.clear();
}

void RtpSender::SendOne(OutboundStream& stream, SteadyTime due) {
  // A slot holds one packet, or more when it carries telephone events.
  for (std::size_t index = 0;; ++index) {
    std::array<std::uint8_t, kMaxRtpPacket + srtp::kMaxTrailer> packet;
    const std::uint64_t events_before = stream.packetizer_.events_built();
    const std::size_t rtp_size = stream.packetizer_.Build(stream.next_slot_, index,
                                                          std::span(packet).first<kMaxRtpPacket>());
    if (rtp_size == 0) return;
    const bool event = stream.packetizer_.events_built() != events_before;
    std::size_t size = rtp_size;
    if (stream.srtp_) {
      const auto protected_size = stream.srtp_->Protect(packet, rtp_size);
      if (!protected_size) {
        ++stream.stats_.send_errors;
        continue;
      }
      size = *protected_size;
    }
    const ssize_t sent =
        stream.socket_.connected()
            ? send(stream.socket_.fd(), packet.data(), size, MSG_DONTWAIT)
            : sendto(stream.socket_.fd(), packet.data(), size, MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&stream.destination_.storage),
                     stream.destination_.length);
    stream.stats_.lateness.Record(std::chrono::steady_clock::now() - due);
    if (sent == static_cast<ssize_t>(size)) {
      ++stream.stats_.packets;
      stream.stats_.events += event ? 1 : 0;
      stream.stats_.bytes += rtp_size - kRtpHeaderSize;
    } else {
      ++stream.stats_.send_errors;
    }
  }
}

void RtpSender::SendSlot(const std::shared_ptr<OutboundStream>& stream, SteadyTime due) {
  if (batch_) {
    QueueSlot(stream, due);
  } else {
    SendOne(*stream, due);
  }
}

void RtpSender::QueueSlot(const std::shared_ptr<OutboundStream>& stream, SteadyTime due) {
  OutboundStream& s = *stream;
  for (std::size_t index = 0;; ++index) {
    if (batch_->full()) FlushBatch();
    auto packet = batch_->Add(s.socket_.fd(), s.socket_.connected() ? nullptr : &s.destination_);
    const std::uint64_t events_before = s.packetizer_.events_built();
    const std::size_t rtp_size =
        s.packetizer_.Build(s.next_slot_, index, packet.first<kMaxRtpPacket>());
    if (rtp_size == 0) {
      batch_->SetLastSize(0);
      return;
    }
    std::size_t size = rtp_size;
    if (s.srtp_) {
      const auto protected_size = s.srtp_->Protect(packet, rtp_size);
      if (!protected_size) {
        batch_->SetLastSize(0);
        ++s.stats_.send_errors;
        continue;
      }
      size = *protected_size;
    }
    batch_->SetLastSize(size);
    queued_.push_back(Queued{stream, due, rtp_size, s.packetizer_.events_built() != events_before});
  }
}

void RtpSender::FlushBatch() {
  if (queued_.empty()) return;
  batch_->Flush();
  // The packets left during the flush: their lateness is the flush's end.
  const SteadyTime now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < queued_.size(); ++i) {
    Queued& q = queued_[i];
    RtpStreamStats& stats = q.stream->stats_;
    stats.lateness.Record(now - q.due);
    if (batch_->result(i) > 0) {
      ++stats.packets;
      stats.events += q.event ? 1 : 0;
      stats.bytes += q.rtp_size - kRtpHeaderSize;
    } else {
      ++stats.send_errors;
    }
  }
  batch_->Clear();
  queued_.clear();
}

void RtpSender::Run() {
  // Timers fire within 1 µs of their deadline instead of the default 50 µs.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (realtime_wanted_) {
    const sched_param priority{sched_get_priority_min(SCHED_FIFO) + 1};
    realtime_granted_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &priority) == 0;
  }
  std::vector<Due> heap;  // min-heap on due time
  std::vector<Command> commands;
  std::unique_lock lock(mutex_);
  for (;;) {
    commands.swap(pending_);
    Apply(commands, heap);
    if (applied_ != posted_) {
      applied_ = posted_;  // everything posted before the swap
      applied_cv_.notify_all();
    }
    if (stopping_) break;
    if (heap.empty()) {
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      continue;
    }
    const SteadyTime next = heap.front().at;
    if (next > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, next, [this] { return stopping_ || !pending_.empty(); });
      continue;
    }
    lock.unlock();
    const SteadyTime now = std::chrono::steady_clock::now();
    while (!heap.empty() && heap.front().at <= now) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      Due due = std::move(heap.back());
      heap.pop_back();
      OutboundStream& stream = *due.stream;
      if (stream.stopped_) continue;
      if (stream.next_slot_ >= stream.end_slot_) {
        stream.stopped_ = true;
        stream.ended_.store(true, std::memory_order_release);
        continue;
      }
      if (stream.sending_) SendSlot(due.stream, due.at);
      ++stream.next_slot_;
      due.at = SlotDue(stream.origin_, stream.next_slot_);
      heap.push_back(std::move(due));
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
    // Before any command is applied: no packet leaves after Finish returns.
    if (batch_) FlushBatch();
    lock.lock();
  }
  stopped_ = true;
  applied_cv_.notify_all();
}

}  // namespace callrec::callgen
