#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "core/Result.hpp"

namespace callrec::media {

// The media thread's batched receive path: one io_uring with a multishot
// recvmsg per RTP socket and a ring of provided buffers, so the kernel places
// every waiting datagram of every socket into user memory and one
// io_uring_enter serves them all (Asio's reactor costs two recvfrom calls and a
// handler per datagram). The ring is created with SINGLE_ISSUER and
// DEFER_TASKRUN: the kernel does the receive work only when Poll asks for it,
// in one batch. Each datagram carries its kernel arrival time (SO_TIMESTAMPNS),
// so reading it a few milliseconds later changes nothing the gate decides.
//
// Not thread-safe: create and use it on one thread (the media thread).
class UringReceiver {
 public:
  using Clock = std::chrono::steady_clock;
  // One datagram: the socket's key, its sender, its bytes (valid during the
  // call only) and when the kernel received it.
  using Handler = std::function<void(std::uint64_t key, const sockaddr_storage& from,
                                     std::span<std::uint8_t> bytes, Clock::time_point arrival)>;

  // Fails when the kernel refuses io_uring (too old, disabled, seccomp): the
  // caller then receives through Asio.
  static core::Result<std::unique_ptr<UringReceiver>, std::string> Create();
  ~UringReceiver();
  UringReceiver(const UringReceiver&) = delete;
  UringReceiver& operator=(const UringReceiver&) = delete;

  // Starts receiving on `fd` (a bound UDP socket) under `key` (unique while
  // the socket is added). The socket must stay open until `Remove`'s callback.
  core::Result<bool, std::string> Add(std::uint64_t key, int fd);
  // Stops receiving on the key's socket; `released` runs (from a later Poll)
  // once the kernel holds no reference to it: then it may be closed and its
  // port reused.
  void Remove(std::uint64_t key, std::function<void()> released);
  // Runs the kernel's pending receive work and hands out every datagram
  // received so far, in arrival order per socket. Returns how many.
  std::size_t Poll(const Handler& handler);
  // Sockets added and not yet released.
  std::size_t sockets() const { return sockets_.size(); }

 private:
  struct Ring;
  struct Socket {
    int fd = -1;
    bool armed = false;     // a multishot receive is in the kernel
    bool removing = false;  // cancelled: released once disarmed
    std::function<void()> released;
  };
  explicit UringReceiver(std::unique_ptr<Ring> ring);
  bool Arm(std::uint64_t key, Socket& socket);
  // Hands out the completions there are; returns how many (counting into
  // `handed` the datagrams).
  std::size_t Reap(const Handler& handler, std::size_t& handed, bool& rearm);

  std::unique_ptr<Ring> ring_;
  std::unordered_map<std::uint64_t, Socket> sockets_;
};

}  // namespace callrec::media
