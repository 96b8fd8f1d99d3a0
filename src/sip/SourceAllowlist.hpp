#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/Result.hpp"

namespace callrec::sip {

// The networks SIPREC may come from (--sip-allow): a recording server takes
// sessions only from its SBCs. IPv4 and IPv6; an IPv4-mapped IPv6 source is
// compared as IPv4.
class SourceAllowlist {
 public:
  // "10.0.0.0/8", "192.0.2.7" (a host: /32), "2001:db8::/32", "::1". An
  // error names the entry and why.
  static core::Result<SourceAllowlist, std::string> Parse(const std::vector<std::string>& cidrs);
  // 127.0.0.0/8 and ::1: the default, so nothing off this host can record.
  static SourceAllowlist Loopback();

  // `address` as the SIP stack reports a request's source (Via received/host,
  // without brackets); anything that is not an IP address is refused.
  bool Allows(std::string_view address) const;
  bool Allows(const boost::asio::ip::address& address) const;
  // The networks, as given (for the log line at start-up).
  std::string Describe() const;

 private:
  struct Network {
    boost::asio::ip::address base;
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
};

// True for 127.0.0.0/8, ::1 and the IPv4-mapped loopback: a listener bound
// there is reachable from this host only.
bool IsLoopbackHost(std::string_view host);

}  // namespace callrec::sip
