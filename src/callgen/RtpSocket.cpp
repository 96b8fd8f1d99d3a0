#include "callgen/RtpSocket.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace callrec::callgen {

std::uint16_t UdpAddress::port() const {
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string UdpAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof text);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
              sizeof text);
  }
  return text;
}

std::optional<UdpAddress> MakeUdpAddress(const std::string& ip, std::uint16_t port) {
  UdpAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
    return address;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
    return address;
  }
  return std::nullopt;
}

core::Result<std::string, RouteError> LocalIpToward(const std::string& ip) {
  auto remote = MakeUdpAddress(ip, 9);
  if (!remote) return RouteError{"not a numeric IP address: " + ip};
  const int fd = socket(remote->storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return RouteError{std::string("socket: ") + std::strerror(errno)};
  UdpAddress local;
  local.length = sizeof local.storage;
  const bool ok =
      connect(fd, reinterpret_cast<const sockaddr*>(&remote->storage), remote->length) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&local.storage), &local.length) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return RouteError{"no route to " + ip + ": " + std::strerror(error)};
  return local.ip();
}

core::Result<std::uint16_t, RouteError> FreePort(const std::string& local_ip, int type) {
  auto local = MakeUdpAddress(local_ip, 0);
  if (!local) return RouteError{"not a numeric IP address: " + local_ip};
  const int fd = socket(local->storage.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return RouteError{std::string("socket: ") + std::strerror(errno)};
  UdpAddress bound;
  bound.length = sizeof bound.storage;
  const bool ok =
      bind(fd, reinterpret_cast<const sockaddr*>(&local->storage), local->length) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return RouteError{"bind " + local_ip + ": " + std::strerror(error)};
  return bound.port();
}

core::Result<RtpSocket, std::string> RtpSocket::Open(const std::string& local_ip) {
  auto local = MakeUdpAddress(local_ip, 0);
  if (!local) return "not a numeric IP address: " + local_ip;
  const auto open = [&](std::uint16_t port, std::uint16_t& bound_port) -> int {
    const int fd = socket(local->storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    UdpAddress asked = *MakeUdpAddress(local_ip, port);
    UdpAddress bound;
    bound.length = sizeof bound.storage;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&asked.storage), asked.length) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0) {
      const int error = errno;
      close(fd);
      return -error;
    }
    bound_port = bound.port();
    return fd;
  };
  // Ask the kernel for an ephemeral port; when it is odd, try its even
  // neighbours, then ask again. The odd ones are held meanwhile so the kernel
  // does not hand them out again. (With thousands of streams bound, the
  // kernel's picks are mostly odd ones: the neighbours make it quick.)
  std::vector<int> odd;
  core::Result<RtpSocket, std::string> result = std::string("no even port after 64 tries");
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::uint16_t port = 0;
    const int fd = open(0, port);
    if (fd < 0) {
      result =
          (fd == -EMFILE || fd == -ENFILE ? std::string("socket: ") : "bind " + local_ip + ": ") +
          std::strerror(-fd);
      break;
    }
    if (port % 2 == 0) {
      result = RtpSocket(fd, port);
      break;
    }
    odd.push_back(fd);
    bool found = false;
    for (const int neighbour : {port - 1, port + 1}) {
      if (neighbour < 1024 || neighbour > 65534) continue;
      std::uint16_t even = 0;
      const int even_fd = open(static_cast<std::uint16_t>(neighbour), even);
      if (even_fd >= 0) {
        result = RtpSocket(even_fd, even);
        found = true;
        break;
      }
    }
    if (found) break;
  }
  for (const int fd : odd) close(fd);
  return result;
}

std::optional<std::string> RtpSocket::Connect(const UdpAddress& peer) {
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&peer.storage), peer.length) != 0) {
    return "connect to " + peer.ip() + ": " + std::strerror(errno);
  }
  connected_ = true;
  return std::nullopt;
}

RtpSocket::RtpSocket(RtpSocket&& other) noexcept
    : fd_(other.fd_), port_(other.port_), connected_(other.connected_) {
  other.fd_ = -1;
}

RtpSocket& RtpSocket::operator=(RtpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    port_ = other.port_;
    connected_ = other.connected_;
    other.fd_ = -1;
  }
  return *this;
}

RtpSocket::~RtpSocket() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace callrec::callgen
