#include "callgen/RtpOnlyRun.hpp"

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "callgen/CallPlan.hpp"
#include "sipstack/SipUri.hpp"

namespace callrec::callgen {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Between the last socket opened and the first call's first packet, so the
// start commands are applied before anything is due.
constexpr auto kLead = 50ms;
// How long after its planned end a stream may still be catching up before
// the run gives up on it (it is then reported short).
constexpr auto kOverrun = 10s;

struct CallStreams {
  std::shared_ptr<OutboundStream> customer;
  std::shared_ptr<OutboundStream> agent;
};

}  // namespace

core::Result<CallgenReport, std::string> RunRtpOnly(const CallgenConfig& config,
                                                    const std::vector<RtpOnlyCall>& calls,
                                                    std::shared_ptr<const AudioClip> customer,
                                                    std::shared_ptr<const AudioClip> agent,
                                                    RtpSender& sender) {
  std::string local_ip = config.local_ip;
  if (local_ip.empty()) {
    auto routed = LocalIpToward(calls.front().customer.ip());
    if (!routed) return routed.error().message;
    local_ip = *routed;
  }
  const auto local = MakeUdpAddress(local_ip, 0);
  if (!local) return "--local-ip is not a numeric IP address: " + local_ip;
  const std::uint8_t payload_type = config.codec == media::Codec::kPcmu ? 0 : 8;
  std::mt19937 random{std::random_device{}()};
  std::vector<CallStreams> streams;
  streams.reserve(calls.size());
  const auto open = [&](const RtpOnlyCall& call, const UdpAddress& destination,
                        const std::shared_ptr<const AudioClip>& clip)
      -> core::Result<std::shared_ptr<OutboundStream>, std::string> {
    if (destination.storage.ss_family != local->storage.ss_family) {
      return "call " + call.name + ": " + destination.ip() +
             " is not of --local-ip's address family (" + local_ip + ")";
    }
    auto socket = RtpSocket::Open(local_ip);
    if (!socket) return "call " + call.name + ": " + socket.error();
    // Connected: the kernel keeps the route rather than looking it up per
    // packet (about 12 % less CPU a packet), and a destination that answers
    // with ICMP port unreachable shows up as send errors.
    if (auto refused = socket.value().Connect(destination)) {
      return "call " + call.name + ": " + *refused;
    }
    return std::make_shared<OutboundStream>(
        std::move(socket).value(), RtpPacketizer(RandomRtpIdentity(payload_type, random), clip, 0));
  };
  for (const auto& call : calls) {
    auto customer_stream = open(call, call.customer, customer);
    if (!customer_stream) return customer_stream.error();
    auto agent_stream = open(call, call.agent, agent);
    if (!agent_stream) return agent_stream.error();
    streams.push_back(CallStreams{*customer_stream, *agent_stream});
  }

  const std::int64_t slots = std::max<std::int64_t>(
      1, std::llround(config.duration.count() * 1000.0 / kPacketInterval.count()));
  const Clock::time_point run_start = Clock::now() + kLead;
  Clock::time_point last_origin = run_start;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const auto origin = run_start + std::chrono::duration_cast<Clock::duration>(
                                        CallStartOffset(config, static_cast<int>(i)));
    last_origin = origin;
    sender.Start(streams[i].customer, calls[i].customer, origin, 0, 0, slots);
    sender.Start(streams[i].agent, calls[i].agent, origin, 0, 0, slots);
  }
  std::this_thread::sleep_until(last_origin + slots * kPacketInterval);
  const auto give_up = Clock::now() + kOverrun;
  for (const auto& pair : streams) {
    while ((!pair.customer->ended() || !pair.agent->ended()) && Clock::now() < give_up) {
      std::this_thread::sleep_for(10ms);
    }
  }
  sender.Stop();

  CallgenReport report;
  report.elapsed_seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    SessionReport session;
    session.call = static_cast<int>(i) + 1;
    session.call_id = calls[i].name;
    session.contact_id = calls[i].name;
    std::uint64_t short_packets = 0;
    std::uint64_t errors = 0;
    const std::pair<const char*, const OutboundStream*> lines[] = {
        {"customer", streams[i].customer.get()}, {"agent", streams[i].agent.get()}};
    const UdpAddress* destinations[] = {&calls[i].customer, &calls[i].agent};
    for (std::size_t k = 0; k < 2; ++k) {
      const auto& [role, stream] = lines[k];
      const RtpStreamStats& stats = stream->stats();
      session.streams.push_back(StreamReport{
          role, std::to_string(k + 1), stream->local_port(),
          sipstack::HostPort(destinations[k]->ip(), destinations[k]->port()), stats.packets,
          stats.events, stats.bytes, stats.send_errors, stats.lateness});
      short_packets +=
          static_cast<std::uint64_t>(slots) - std::min<std::uint64_t>(stats.packets, slots);
      errors += stats.send_errors;
    }
    if (short_packets > 0 || errors > 0) {
      session.failure = std::to_string(short_packets) + " packets not sent, " +
                        std::to_string(errors) + " send errors";
    }
    report.sessions.push_back(std::move(session));
  }
  return report;
}

}  // namespace callrec::callgen
