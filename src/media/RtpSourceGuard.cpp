#include "media/RtpSourceGuard.hpp"

#include <algorithm>
#include <cstdlib>

namespace callrec::media {

namespace ip = boost::asio::ip;

std::string_view ToString(RtpSourcePolicy policy) {
  switch (policy) {
    case RtpSourcePolicy::kStrict:
      return "strict";
    case RtpSourcePolicy::kLearn:
      return "learn";
    case RtpSourcePolicy::kAny:
      return "any";
  }
  return "learn";
}

ip::address Canonical(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::optional<ip::address> SenderAddressOf(std::string_view sdp_address) {
  boost::system::error_code ec;
  const ip::address address = ip::make_address(std::string(sdp_address), ec);
  if (ec || address.is_unspecified()) return std::nullopt;
  return Canonical(address);
}

bool RtpSourceGuard::AddressAllowed(const ip::address& address) const {
  return rule_.policy != RtpSourcePolicy::kStrict || !rule_.expected ||
         Canonical(address) == *rule_.expected;
}

bool RtpSourceGuard::Admits(const Endpoint& from, Clock::time_point now) const {
  if (rule_.policy == RtpSourcePolicy::kAny) return true;
  if (!AddressAllowed(from.address())) return false;
  if (!latched_ || from == *latched_) return true;
  // Someone else: a candidate only once the latched sender has gone quiet.
  return now - last_heard_ >= kTakeoverSilence;
}

void RtpSourceGuard::Latch(const Endpoint& from, Clock::time_point now) {
  if (latched_ && *latched_ != from) switch_ = Switch{*latched_, from};
  latched_ = from;
  last_heard_ = now;
}

std::uint64_t RtpSourceGuard::DropCandidates() {
  std::uint64_t dropped = 0;
  for (const Candidate& candidate : candidates_) dropped += candidate.held.size();
  candidates_.clear();
  return dropped;
}

RtpSourceGuard::Verdict RtpSourceGuard::Check(const Endpoint& from, const RtpPacket& packet,
                                              std::span<const std::uint8_t> datagram,
                                              Clock::time_point now, std::uint64_t& dropped) {
  if (rule_.policy == RtpSourcePolicy::kAny) return Verdict::kRecord;
  if (latched_ && from == *latched_) {
    last_heard_ = now;
    // The latched sender is alive: no takeover is under way.
    if (!candidates_.empty()) dropped += DropCandidates();
    return Verdict::kRecord;
  }
  if (!Admits(from, now)) return Verdict::kForeign;
  if (!latched_ && rule_.policy == RtpSourcePolicy::kStrict && rule_.expected) {
    // From the address the offer named: no probation needed.
    Latch(from, now);
    return Verdict::kRecord;
  }
  auto candidate = std::find_if(candidates_.begin(), candidates_.end(),
                                [&](const Candidate& c) { return c.from == from; });
  if (candidate == candidates_.end()) {
    if (candidates_.size() < kMaxCandidates) {
      candidate = candidates_.insert(candidates_.end(), Candidate{});
    } else {
      // A full table gives a slot only to a sender whose holder went quiet, so
      // a flood from many ports cannot push a real sender out of probation.
      candidate = std::find_if(candidates_.begin(), candidates_.end(), [&](const Candidate& c) {
        return now - c.last_heard >= kCandidateStale;
      });
      if (candidate == candidates_.end()) return Verdict::kForeign;
      dropped += candidate->held.size();
      *candidate = Candidate{};
    }
    candidate->from = from;
  } else if (candidate->ssrc == packet.ssrc && packet.sequence == candidate->last_sequence) {
    return Verdict::kHold;  // a duplicate of a packet it holds: nothing to keep
  } else if (const int step = static_cast<std::int16_t>(packet.sequence - candidate->last_sequence);
             candidate->ssrc == packet.ssrc && step != 0 &&
             std::abs(step) <= kProbationSequenceGap) {
    // In sequence, give or take the loss and reordering of a real network.
    if (step > 0) candidate->last_sequence = packet.sequence;
    candidate->count += 1;
    candidate->last_heard = now;
    if (candidate->count >= kProbationPackets) {
      released_ = std::move(candidate->held);
      candidates_.erase(candidate);
      dropped += DropCandidates();
      Latch(from, now);
      return Verdict::kLatched;
    }
    candidate->held.push_back(HeldDatagram{{datagram.begin(), datagram.end()}, now});
    return Verdict::kHold;
  } else {
    // Out of sequence or another SSRC: probation starts again from this packet.
    dropped += candidate->held.size();
    candidate->held.clear();
  }
  candidate->ssrc = packet.ssrc;
  candidate->last_sequence = packet.sequence;
  candidate->count = 1;
  candidate->last_heard = now;
  candidate->held.push_back(HeldDatagram{{datagram.begin(), datagram.end()}, now});
  return Verdict::kHold;
}

std::uint64_t RtpSourceGuard::Relatch(RtpSourceRule rule) {
  rule_ = rule;
  latched_.reset();
  switch_.reset();
  released_.clear();
  return DropCandidates();
}

std::optional<RtpSourceGuard::Switch> RtpSourceGuard::TakeSwitch() {
  std::optional<Switch> taken = switch_;
  switch_.reset();
  return taken;
}

}  // namespace callrec::media
