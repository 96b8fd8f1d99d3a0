#pragma once

#include <cstdint>
#include <string>

namespace callrec::sipstack {

// An IP or host name as a SIP URI's host: IPv6 in brackets (RFC 3261 25.1).
std::string UriHost(const std::string& host);

// host:port, the host as UriHost writes it.
std::string HostPort(const std::string& host, std::uint16_t port);

}  // namespace callrec::sipstack
