#include "sip/SourceAllowlist.hpp"

#include <gtest/gtest.h>

namespace callrec::sip {
namespace {

SourceAllowlist Parsed(std::vector<std::string> cidrs) {
  auto list = SourceAllowlist::Parse(cidrs);
  EXPECT_TRUE(list.ok()) << (list.ok() ? "" : list.error());
  return std::move(list).value();
}

TEST(SourceAllowlistTest, Ipv4NetworksAndHosts) {
  const SourceAllowlist list = Parsed({"10.20.0.0/16", "192.0.2.7", "198.51.100.128/25"});
  EXPECT_TRUE(list.Allows("10.20.0.1"));
  EXPECT_TRUE(list.Allows("10.20.255.254"));
  EXPECT_FALSE(list.Allows("10.21.0.1"));
  EXPECT_TRUE(list.Allows("192.0.2.7"));
  EXPECT_FALSE(list.Allows("192.0.2.8"));
  EXPECT_TRUE(list.Allows("198.51.100.200"));
  EXPECT_FALSE(list.Allows("198.51.100.127"));
  EXPECT_TRUE(list.Allows("::ffff:10.20.3.4")) << "an IPv4-mapped source is its IPv4 address";
  EXPECT_FALSE(list.Allows("2001:db8::1"));
  EXPECT_FALSE(list.Allows("sbc.example.com")) << "a name is not an address";
  EXPECT_FALSE(list.Allows(""));
}

TEST(SourceAllowlistTest, Ipv6Networks) {
  const SourceAllowlist list = Parsed({"2001:db8:10::/48", "::1"});
  EXPECT_TRUE(list.Allows("2001:db8:10:ffff::5"));
  EXPECT_FALSE(list.Allows("2001:db8:11::5"));
  EXPECT_TRUE(list.Allows("::1"));
  EXPECT_FALSE(list.Allows("127.0.0.1"));
}

TEST(SourceAllowlistTest, OddPrefixesAndTheWholeSpace) {
  EXPECT_TRUE(Parsed({"10.0.0.0/9"}).Allows("10.127.1.1"));
  EXPECT_FALSE(Parsed({"10.0.0.0/9"}).Allows("10.128.1.1"));
  EXPECT_TRUE(Parsed({"0.0.0.0/0"}).Allows("203.0.113.9"));
  EXPECT_FALSE(Parsed({"0.0.0.0/0"}).Allows("2001:db8::1"));
  EXPECT_TRUE(Parsed({"::ffff:10.0.0.0/104"}).Allows("10.1.2.3")) << "a mapped network is IPv4";
}

TEST(SourceAllowlistTest, BadEntriesAreNamed) {
  for (const char* bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129", "sbc.example.com", "10.0.0/8", ""}) {
    auto list = SourceAllowlist::Parse({bad});
    ASSERT_FALSE(list.ok()) << bad;
    EXPECT_NE(list.error().find(std::string("--sip-allow ") + bad), std::string::npos)
        << list.error();
  }
}

TEST(SourceAllowlistTest, LoopbackIsTheDefault) {
  const SourceAllowlist list = SourceAllowlist::Loopback();
  EXPECT_TRUE(list.Allows("127.0.0.1"));
  EXPECT_TRUE(list.Allows("127.0.0.2"));
  EXPECT_TRUE(list.Allows("::1"));
  EXPECT_FALSE(list.Allows("10.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("192.0.2.1"));
}

}  // namespace
}  // namespace callrec::sip
