#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace callrec::sip {

// SIP over TCP and TLS connections that never became a SIP conversation: a
// peer that connects and sends nothing, or a TLS ClientHello cut short.
// sofia-sip keeps those for ever (its idle timer starts with the first
// message, its message timeout with the first byte after the handshake), one
// descriptor each. A connection to one of `ports` that has not had a byte
// from us (no SIP response, no TLS ServerHello) for `limit` is shut down;
// sofia-sip then sees the end of stream and frees it.
//
// Sweep() reads this process's descriptors (/proc/self/fd) and the kernel's
// TCP counters (TCP_INFO); it must run on the SIP thread, the only one that
// creates or closes sockets bound to the SIP ports, so a descriptor it checks
// cannot be closed and reused before it is shut down.
class StalledConnections {
 public:
  using Clock = std::chrono::steady_clock;

  StalledConnections(std::vector<std::uint16_t> ports, Clock::duration limit);

  // Returns how many connections it shut down.
  std::size_t Sweep(Clock::time_point now);

 private:
  std::vector<std::uint16_t> ports_;
  Clock::duration limit_;
  std::map<ino_t, Clock::time_point> silent_since_;  // by socket inode
};

}  // namespace callrec::sip
