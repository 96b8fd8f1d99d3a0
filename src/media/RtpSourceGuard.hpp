#pragma once

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/RtpPacket.hpp"

namespace callrec::media {

// Which senders a leg's RTP port takes media from (--rtp-source).
enum class RtpSourcePolicy {
  kStrict,  // only the address the offer named (SIPREC), latched to its first address:port
  kLearn,   // the first source to pass probation is latched
  kAny,     // every sender (unsafe: anyone who reaches the port is recorded)
};

std::string_view ToString(RtpSourcePolicy policy);

// One leg's rule: the policy and, under kStrict, the address the offer named
// (nullopt when it named none usable, e.g. 0.0.0.0 or a host name: the leg is
// then learned with probation like kLearn).
struct RtpSourceRule {
  RtpSourcePolicy policy = RtpSourcePolicy::kLearn;
  std::optional<boost::asio::ip::address> expected;
};
using RtpSourceRules = std::array<RtpSourceRule, 2>;  // [customer, agent]

// A datagram kept while its sender is on probation (its bytes after SRTP).
struct HeldDatagram {
  std::vector<std::uint8_t> bytes;
  std::chrono::steady_clock::time_point arrival;
};

// Decides which sender a leg records, so that a datagram from anyone else who
// can reach the port (an "RTP bleed" injection, a stray stream) never reaches
// the recording. Pure logic: the caller passes the sender, the parsed header
// and the time.
//
// - A leg records one latched address:port. Under kStrict the first valid
//   packet from the expected address latches at once; otherwise a sender is
//   latched after kProbationPackets in-sequence packets of one SSRC (each
//   within kProbationSequenceGap of the last), and the packets held during
//   its probation are then recorded.
// - Anyone else is foreign and dropped before its bytes are parsed.
// - A new sender may take over only once the latched one has been silent for
//   kTakeoverSilence, after the same probation (and, under kStrict, only from
//   the expected address); the switch is reported once (TakeSwitch).
// - An SSRC change from the latched sender is its own restart: allowed.
// - A re-offer re-latches (Relatch): the next sender is taken as at the start.
class RtpSourceGuard {
 public:
  using Clock = std::chrono::steady_clock;
  using Endpoint = boost::asio::ip::udp::endpoint;
  static constexpr int kProbationPackets = 3;
  // Probation's packets follow each other within this many sequence numbers.
  static constexpr int kProbationSequenceGap = 16;
  static constexpr auto kTakeoverSilence = std::chrono::milliseconds(1500);
  static constexpr std::size_t kMaxCandidates = 8;
  // A candidate's slot may be taken by another sender once it is this quiet.
  static constexpr auto kCandidateStale = std::chrono::milliseconds(200);

  explicit RtpSourceGuard(RtpSourceRule rule = {}) : rule_(rule) {}

  // Before parsing: false when the datagram is foreign on its address alone.
  bool Admits(const Endpoint& from, Clock::time_point now) const;

  enum class Verdict {
    kRecord,   // from the latched sender: record it
    kHold,     // kept in the guard: its sender is on probation
    kLatched,  // this packet latched its sender: record TakeHeld(), then it
    kForeign,  // not the leg's sender: drop it
  };
  // After parsing (and SRTP). `datagram` is the packet's bytes, copied when
  // held. `dropped` counts held datagrams discarded by this call (a candidate
  // that lost its sequence or its slot): they are foreign too.
  Verdict Check(const Endpoint& from, const RtpPacket& packet,
                std::span<const std::uint8_t> datagram, Clock::time_point now,
                std::uint64_t& dropped);
  // The datagrams held during the probation the last kLatched ended.
  std::vector<HeldDatagram> TakeHeld() { return std::move(released_); }

  // A re-offer: new rule, nothing latched. Returns the held datagrams dropped.
  std::uint64_t Relatch(RtpSourceRule rule);

  struct Switch {
    Endpoint from;
    Endpoint to;
  };
  // A takeover since the last call (the first latch is not one).
  std::optional<Switch> TakeSwitch();

  std::optional<Endpoint> latched() const { return latched_; }
  const RtpSourceRule& rule() const { return rule_; }

 private:
  struct Candidate {
    Endpoint from;
    std::uint32_t ssrc = 0;
    std::uint16_t last_sequence = 0;
    int count = 0;
    Clock::time_point last_heard;
    std::vector<HeldDatagram> held;
  };

  bool AddressAllowed(const boost::asio::ip::address& address) const;
  std::uint64_t DropCandidates();
  void Latch(const Endpoint& from, Clock::time_point now);

  RtpSourceRule rule_;
  std::optional<Endpoint> latched_;
  Clock::time_point last_heard_;
  std::vector<Candidate> candidates_;
  std::vector<HeldDatagram> released_;
  std::optional<Switch> switch_;
};

// The address as compared: an IPv4-mapped IPv6 address is its IPv4 one.
boost::asio::ip::address Canonical(const boost::asio::ip::address& address);

// The expected sender address of an SDP connection address: nullopt for a
// host name or an unspecified address (0.0.0.0, ::), which name no sender.
std::optional<boost::asio::ip::address> SenderAddressOf(std::string_view sdp_address);

}  // namespace callrec::media
