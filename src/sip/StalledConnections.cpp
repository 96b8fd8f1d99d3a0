#include "sip/StalledConnections.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>

namespace callrec::sip {
namespace {

constexpr std::uint8_t kTcpEstablished = 1;  // include/net/tcp_states.h (not in linux/tcp.h)

// The inode of a socket descriptor ("socket:[12345]"), else nullopt.
std::optional<ino_t> SocketInode(int fd) {
  char link[64];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
  if (n <= 8) return std::nullopt;
  link[n] = '\0';
  if (std::string_view(link, static_cast<std::size_t>(n)).substr(0, 8) != "socket:[") {
    return std::nullopt;
  }
  return static_cast<ino_t>(std::strtoull(link + 8, nullptr, 10));
}

// The local port of an accepted (not listening) TCP socket, else nullopt.
std::optional<std::uint16_t> AcceptedTcpPort(int fd) {
  int type = 0, listening = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    return std::nullopt;
  }
  length = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening) {
    return std::nullopt;
  }
  sockaddr_storage local{};
  length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return std::nullopt;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  if (local.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  }
  return std::nullopt;
}

}  // namespace

StalledConnections::StalledConnections(std::vector<std::uint16_t> ports, Clock::duration limit)
    : ports_(std::move(ports)), limit_(limit) {}

std::size_t StalledConnections::Sweep(Clock::time_point now) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::size_t cut = 0;
  std::set<ino_t> seen;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    const auto inode = SocketInode(static_cast<int>(fd));
    if (!inode) continue;
    const auto port = AcceptedTcpPort(static_cast<int>(fd));
    if (!port || std::find(ports_.begin(), ports_.end(), *port) == ports_.end()) continue;
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
        length < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent) {
      continue;  // a kernel without the counter (before 4.19): never cut
    }
    // Anything sent back (a response, a TLS ServerHello) makes it a SIP peer:
    // from then on sofia-sip's own timers apply.
    if (info.tcpi_state != kTcpEstablished || info.tcpi_bytes_sent > 0) continue;
    seen.insert(*inode);
    const auto [it, inserted] = silent_since_.try_emplace(*inode, now);
    if (now - it->second >= limit_) {
      ::shutdown(static_cast<int>(fd), SHUT_RDWR);
      ++cut;
    }
  }
  ::closedir(dir);
  std::erase_if(silent_since_, [&](const auto& entry) { return !seen.count(entry.first); });
  return cut;
}

}  // namespace callrec::sip
