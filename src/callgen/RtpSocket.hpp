#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/Result.hpp"

namespace callrec::callgen {

// An IPv4 or IPv6 UDP address.
struct UdpAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  std::uint16_t port() const;
  std::string ip() const;
};

// Parses a numeric IPv4 or IPv6 address (no names) with a port.
std::optional<UdpAddress> MakeUdpAddress(const std::string& ip, std::uint16_t port);

// Why no local address was found: a distinct type, since the value is a
// string too.
struct RouteError {
  std::string message;
};

// The local address the kernel would send from to reach `ip` (a connected
// UDP socket's name; nothing is sent).
core::Result<std::string, RouteError> LocalIpToward(const std::string& ip);

// A port of `local_ip` free at the time of asking (SOCK_DGRAM or
// SOCK_STREAM): the kernel's choice for port 0, released again.
core::Result<std::uint16_t, RouteError> FreePort(const std::string& local_ip, int type);

// A UDP socket bound on an even port of `local_ip` (RTP takes even ports;
// RTCP would take the odd one above). Owns the descriptor.
class RtpSocket {
 public:
  static core::Result<RtpSocket, std::string> Open(const std::string& local_ip);

  RtpSocket(RtpSocket&& other) noexcept;
  RtpSocket& operator=(RtpSocket&& other) noexcept;
  RtpSocket(const RtpSocket&) = delete;
  RtpSocket& operator=(const RtpSocket&) = delete;
  ~RtpSocket();

  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

  // Fixes the socket's peer: sends then name no address (the kernel keeps the
  // route instead of looking it up per packet), and an ICMP error from the
  // peer fails the next send. The reason when refused.
  std::optional<std::string> Connect(const UdpAddress& peer);
  bool connected() const { return connected_; }

 private:
  RtpSocket(int fd, std::uint16_t port) : fd_(fd), port_(port) {}
  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool connected_ = false;
};

}  // namespace callrec::callgen
