#include "sip/SourceAllowlist.hpp"

#include <charconv>

namespace callrec::sip {
namespace {

namespace ip = boost::asio::ip;

ip::address Canonical(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

// The first `prefix` bits of a and b agree (both of one family).
bool SamePrefix(const ip::address& a, const ip::address& b, unsigned prefix) {
  auto compare = [prefix](const auto& x, const auto& y) {
    for (unsigned bit = 0; bit < prefix; bit += 8) {
      const unsigned keep = prefix - bit >= 8 ? 8 : prefix - bit;
      const auto mask = static_cast<unsigned char>(0xff << (8 - keep));
      if ((x[bit / 8] & mask) != (y[bit / 8] & mask)) return false;
    }
    return true;
  };
  if (a.is_v4()) return compare(a.to_v4().to_bytes(), b.to_v4().to_bytes());
  return compare(a.to_v6().to_bytes(), b.to_v6().to_bytes());
}

}  // namespace

core::Result<SourceAllowlist, std::string> SourceAllowlist::Parse(
    const std::vector<std::string>& cidrs) {
  SourceAllowlist list;
  for (const std::string& entry : cidrs) {
    const std::size_t slash = entry.find('/');
    boost::system::error_code ec;
    const ip::address base = ip::make_address(entry.substr(0, slash), ec);
    if (ec) return "--sip-allow " + entry + ": not an IPv4 or IPv6 address or network";
    const unsigned width = base.is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (slash != std::string::npos) {
      const std::string_view text = std::string_view(entry).substr(slash + 1);
      const auto parsed = std::from_chars(text.data(), text.data() + text.size(), prefix);
      if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size() ||
          prefix > width) {
        return "--sip-allow " + entry + ": the prefix length must be 0 to " + std::to_string(width);
      }
    }
    const ip::address canonical = Canonical(base);
    if (canonical.is_v4() && base.is_v6()) prefix = prefix >= 96 ? prefix - 96 : 0;
    list.networks_.push_back({canonical, prefix});
  }
  return list;
}

SourceAllowlist SourceAllowlist::Loopback() {
  SourceAllowlist list;
  list.networks_.push_back({ip::make_address("127.0.0.0"), 8});
  list.networks_.push_back({ip::make_address("::1"), 128});
  return list;
}

bool SourceAllowlist::Allows(std::string_view address) const {
  boost::system::error_code ec;
  const ip::address parsed = ip::make_address(std::string(address), ec);
  return !ec && Allows(parsed);
}

bool SourceAllowlist::Allows(const ip::address& address) const {
  const ip::address source = Canonical(address);
  for (const Network& network : networks_) {
    if (network.base.is_v4() == source.is_v4() &&
        SamePrefix(network.base, source, network.prefix)) {
      return true;
    }
  }
  return false;
}

std::string SourceAllowlist::Describe() const {
  std::string out;
  for (const Network& network : networks_) {
    if (!out.empty()) out += ", ";
    out += network.base.to_string() + "/" + std::to_string(network.prefix);
  }
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(host), ec);
  return !ec && Canonical(address).is_loopback();
}

}  // namespace callrec::sip
