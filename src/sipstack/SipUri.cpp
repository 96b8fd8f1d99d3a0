#include "sipstack/SipUri.hpp"

namespace callrec::sipstack {

std::string UriHost(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

std::string HostPort(const std::string& host, std::uint16_t port) {
  return UriHost(host) + ":" + std::to_string(port);
}

}  // namespace callrec::sipstack
