// The Recorder's receive path: Asio's reactor (a read per datagram) or the
// batched io_uring path (UringReceiver), and what both share.

#include <netinet/in.h>

#include <cstring>

#include "log/Log.hpp"
#include "media/Recorder.hpp"
#include "media/RecorderCall.hpp"

namespace callrec::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

// How often the io_uring path collects what the kernel received: one kernel
// entry for every datagram of every call that came meanwhile.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

}  // namespace

bool Recorder::WantsUring(const RecorderConfig& config, std::string& why_not) {
  if (config.receive == MediaReceive::kAsio) {
    why_not = "--media-receive asio";
    return false;
  }
  // A probe: the kernel may refuse io_uring or one of its features here; the
  // media thread creates its own ring later.
  auto probe = UringReceiver::Create();
  if (!probe.ok()) {
    why_not = probe.error();
    return false;
  }
  return true;
}

void Recorder::StartReceiving(const std::shared_ptr<Call>& call) {
  if (!uring_mode_) {
    for (Side side : {Side::kCustomer, Side::kAgent}) Receive(call, side);
    return;
  }
  asio::post(io_, [this, call] {
    UringReceiver* uring = Uring();
    for (Side side : {Side::kCustomer, Side::kAgent}) {
      const int s = static_cast<int>(side);
      if (!call->sockets[s].is_open()) continue;  // released already
      if (uring) {
        const std::uint64_t key = ++next_receive_key_;
        auto added = uring->Add(key, call->sockets[s].native_handle());
        if (added.ok()) {
          call->receive_keys[s] = key;
          receive_legs_[key] = {call, side};
          continue;
        }
        log::Error("media.receive_failed", {{"contact", call->id}, {"error", added.error()}});
      }
      Receive(call, side);
    }
  });
}

UringReceiver* Recorder::Uring() {
  if (!uring_ && !uring_failed_) {
    auto created = UringReceiver::Create();
    if (created.ok()) {
      uring_ = std::move(created).value();
    } else {
      uring_failed_ = true;
      log::Error("media.io_uring_failed", {{"error", created.error()}, {"instead", "asio"}});
    }
  }
  return uring_.get();
}

void Recorder::PollUring() {
  if (!uring_) return;
  uring_->Poll([this](std::uint64_t key, const sockaddr_storage& from,
                      std::span<std::uint8_t> bytes, UringReceiver::Clock::time_point arrival) {
    auto it = receive_legs_.find(key);
    if (it == receive_legs_.end()) return;
    Call& call = *it->second.first;
    udp::endpoint sender;
    const std::size_t size =
        from.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::memcpy(sender.data(), &from, size);
    try {
      sender.resize(size);
      OnDatagram(call, it->second.second, sender, bytes, arrival);
    } catch (...) {
      barrier_.Caught({{"contact", call.id}, {"in", "rtp"}});  // the next datagram is read
    }
  });
}

void Recorder::SchedulePoll() {
  if (!uring_mode_) return;
  poll_timer_.expires_after(kPollInterval);
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      if (shut_down_) return;
    }
    try {
      PollUring();
    } catch (...) {
      barrier_.Caught({{"in", "poll"}});
    }
    SchedulePoll();
  });
}

void Recorder::ReleasePorts(const std::shared_ptr<Call>& call) {
  if (!uring_mode_) {
    for (int side = 0; side < 2; ++side) {
      boost::system::error_code ec;
      call->sockets[side].close(ec);
      if (call->ports[side]) free_ports_.insert(call->ports[side]);
      call->ports[side] = 0;
    }
    return;
  }
  // The media thread owns the ring: a socket still in it is closed, and its
  // port reused, only once the kernel has let go of it. Attach waits for
  // ports on their way back (closing_ports_) rather than refuse a call.
  for (int side = 0; side < 2; ++side) closing_ports_ += call->ports[side] ? 1 : 0;
  asio::post(io_, [this, call] {
    for (int side = 0; side < 2; ++side) {
      auto release = [this, call, side] {
        boost::system::error_code ec;
        call->sockets[side].close(ec);
        std::lock_guard lock(mutex_);
        if (call->ports[side]) {
          free_ports_.insert(call->ports[side]);
          --closing_ports_;
        }
        call->ports[side] = 0;
        ports_returned_.notify_all();
      };
      const std::uint64_t key = std::exchange(call->receive_keys[side], 0);
      if (key && uring_) {
        receive_legs_.erase(key);
        uring_->Remove(key, std::move(release));
      } else {
        release();
      }
    }
    PollUring();  // the cancels complete now: the ports are back at once
  });
}

void Recorder::Receive(const std::shared_ptr<Call>& call, Side side) {
  const int s = static_cast<int>(side);
  if (!call->buffers[s])
    call->buffers[s] = std::make_unique<std::array<std::uint8_t, kDatagramBytes>>();
  call->sockets[s].async_receive_from(
      asio::buffer(*call->buffers[s]), call->senders[s],
      [this, call, side, s](const boost::system::error_code& ec, std::size_t bytes) {
        if (ec == asio::error::operation_aborted || !call->sockets[s].is_open()) return;
        // The datagram buffer is reused for the next packet: nothing of a
        // gated packet outlives this handler.
        try {
          if (!ec) {
            OnDatagram(*call, side, call->senders[s], std::span(call->buffers[s]->data(), bytes),
                       RecordingSession::Clock::now());
          }
        } catch (...) {
          barrier_.Caught({{"contact", call->id}, {"in", "rtp"}});  // the next packet is read
        }
        Receive(call, side);
      });
}

void Recorder::Drain(const std::string& contact_id, std::function<void()> then) {
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return then();
  }
  asio::post(io_, [this, contact_id, then = std::move(then)] {
    if (const std::shared_ptr<Call> call = FindCall(contact_id)) ReadWaiting(*call);
    // Posted, not called: a datagram the reactor had already read into the
    // call's buffer has its handler queued; it runs before the contact ends.
    asio::post(io_, then);
  });
}

void Recorder::ReadWaiting(Call& call) {
  if (uring_) return PollUring();  // every call's, in one go
  // Bounded, so a sender that never stops cannot hold the media thread.
  constexpr int kMaxRead = 4096;
  // Not the call's buffers: a read the reactor completed may sit in them.
  std::array<std::uint8_t, kDatagramBytes> buffer;
  for (Side side : {Side::kCustomer, Side::kAgent}) {
    udp::socket& socket = call.sockets[static_cast<int>(side)];
    if (!socket.is_open()) continue;
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    udp::endpoint sender;
    for (int n = 0; n < kMaxRead && !ec; ++n) {
      const std::size_t bytes = socket.receive_from(asio::buffer(buffer), sender, 0, ec);
      try {
        if (!ec) {
          OnDatagram(call, side, sender, std::span(buffer.data(), bytes),
                     RecordingSession::Clock::now());
        }
      } catch (...) {
        barrier_.Caught({{"contact", call.id}, {"in", "drain"}});
      }
    }
  }
}

}  // namespace callrec::media
