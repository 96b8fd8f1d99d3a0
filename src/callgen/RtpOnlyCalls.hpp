#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "callgen/RtpSocket.hpp"
#include "core/Result.hpp"

namespace callrec::callgen {

// One call of --rtp-only: its name (the report's call id) and where its two
// streams go.
struct RtpOnlyCall {
  std::string name;
  UdpAddress customer;
  UdpAddress agent;
};

// The --rtp-only file: one call a line, `NAME CUSTOMER_DEST AGENT_DEST`
// separated by blanks, DEST being IP:PORT or [IPv6]:PORT with a numeric
// address; blank lines and lines starting with # are skipped. The first bad
// line's number and what is wrong with it when refused; names are unique and
// at least one call is listed.
core::Result<std::vector<RtpOnlyCall>, std::string> ParseRtpOnlyCalls(std::istream& text);
core::Result<std::vector<RtpOnlyCall>, std::string> ReadRtpOnlyCalls(const std::string& path);

}  // namespace callrec::callgen
