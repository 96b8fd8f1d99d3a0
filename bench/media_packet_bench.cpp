// The packet path's cost with and without in-band DTMF masking (issue 21: the
// detector may cost at most a tenth more CPU per stream). Google Benchmark
// times RecordingSession::OnPacket for one 20 ms G.711 packet (then the tick's
// TakeReady every packet, as the Recorder does per stream), with
// --dtmf-policy record (the peer: the path as it was) and mask; the ratio is
// printed at the end. Prints figures, asserts nothing.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>
#include <vector>

#include "media/G711.hpp"
#include "media/RecordingSession.hpp"

namespace {

using callrec::media::RecordingSession;

std::map<bool, double> g_ns_per_packet;

// One leg of speech-like audio (a voiced sound) as 20 ms µ-law packets.
std::vector<std::vector<std::uint8_t>> Packets(int count) {
  std::vector<std::vector<std::uint8_t>> out(count, std::vector<std::uint8_t>(160));
  double phase = 0;
  for (int n = 0; n < count; ++n) {
    for (int i = 0; i < 160; ++i) {
      phase += 2 * std::numbers::pi * 120 / 8000.0;
      double v = 0;
      for (int h = 1; h < 20; ++h) v += 4000.0 / h * std::sin(h * phase);
      out[n][i] = callrec::media::EncodeMuLaw(static_cast<std::int16_t>(v));
    }
  }
  return out;
}

void OnPacket(benchmark::State& state) {
  const bool mask = state.range(0) != 0;
  RecordingSession::Options options;
  options.dtmf = mask ? callrec::media::DtmfPolicy::kMask : callrec::media::DtmfPolicy::kRecord;
  const auto packets = Packets(500);
  const auto t0 = RecordingSession::Clock::now();
  RecordingSession session(options, t0, 0);
  std::uint32_t n = 0;
  for (auto _ : state) {
    const auto& payload = packets[n % packets.size()];
    const callrec::media::RtpPacket packet{0,       false, static_cast<std::uint16_t>(n),
                                           n * 160, 7,     payload};
    const auto at = t0 + std::chrono::milliseconds(20 * n);
    benchmark::DoNotOptimize(session.OnPacket(callrec::media::Side::kCustomer, packet, at));
    benchmark::DoNotOptimize(session.TakeReady(at));
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(mask ? "dtmf-policy mask" : "dtmf-policy record (peer)");
}
BENCHMARK(OnPacket)->Arg(0)->Arg(1)->Repetitions(5)->ReportAggregatesOnly(true);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.aggregate_name == "median") {
        g_ns_per_packet[run.benchmark_name().find("/1") != std::string::npos] =
            run.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (g_ns_per_packet.count(false) && g_ns_per_packet.count(true)) {
    std::printf(
        "\nper packet (median CPU): record %.0f ns, mask %.0f ns; mask/record = %.2fx "
        "(+%.0f ns per 20 ms packet, %.2f %% of a core per 1,000 streams)\n",
        g_ns_per_packet[false], g_ns_per_packet[true],
        g_ns_per_packet[true] / g_ns_per_packet[false],
        g_ns_per_packet[true] - g_ns_per_packet[false],
        (g_ns_per_packet[true] - g_ns_per_packet[false]) * 50 * 1000 / 1e9 * 100);
  }
  benchmark::Shutdown();
  return 0;
}
