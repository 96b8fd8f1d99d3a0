#include "callgen/Callgen.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "callgen/AudioClip.hpp"
#include "callgen/CallgenConfig.hpp"
#include "callgen/RtpOnlyRun.hpp"
#include "callgen/RtpSender.hpp"
#include "callgen/SiprecClient.hpp"

namespace callrec::callgen {
namespace {

// A whole second of a tone loops without a click (whole cycles for whole Hz).
core::Result<std::shared_ptr<const AudioClip>, std::string> Audio(const std::string& path,
                                                                  double tone_hz,
                                                                  media::Codec codec) {
  if (path.empty()) return std::make_shared<const AudioClip>(ToneClip(tone_hz, 1.0, codec));
  auto clip = LoadClip(path, codec);
  if (!clip) return clip.error();
  return std::make_shared<const AudioClip>(std::move(clip).value());
}

// Thousands of calls need a socket a stream: the soft limit on descriptors
// goes up to the hard one. The limit then in force, or why it is unknown.
core::Result<rlim_t, std::string> RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
  }
  if (limit.rlim_cur == limit.rlim_max) return limit.rlim_cur;
  const rlim_t soft = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "open files limited to " + std::to_string(soft) +
           " (could not raise RLIMIT_NOFILE: " + std::strerror(errno) + ")";
  }
  return limit.rlim_cur;
}

SendBatch SendBatchOf(const std::string& name) {
  if (name == "uring") return SendBatch::kUring;
  if (name == "off") return SendBatch::kOff;
  return SendBatch::kAuto;
}

}  // namespace

int RunCallgen(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  auto config = ParseCallgenConfig(argc, argv, out, err);
  if (!config) return config.error();
  auto customer = Audio(config->customer_wav, 440.0, config->codec);
  auto agent = Audio(config->agent_wav, 1000.0, config->codec);
  for (const auto* clip : {&customer, &agent}) {
    if (!*clip) {
      err << "callrec-callgen: " << clip->error() << "\n";
      return 2;
    }
  }
  const auto descriptors = RaiseDescriptorLimit();
  std::vector<RtpOnlyCall> rtp_only_calls;
  if (!config->rtp_only_file.empty()) {
    auto calls = ReadRtpOnlyCalls(config->rtp_only_file);
    if (!calls) {
      err << "callrec-callgen: --rtp-only " << calls.error()
          << "\nRun with --help for more information.\n";
      return 2;
    }
    rtp_only_calls = std::move(calls).value();
  }
  std::vector<std::string> warnings;
  if (!descriptors) {
    warnings.push_back(descriptors.error());
  } else if (const rlim_t needed = 2 * rtp_only_calls.size() + 64; *descriptors < needed) {
    // Said before the run, which then stops at the first socket refused.
    warnings.push_back(std::to_string(rtp_only_calls.size()) + " calls need about " +
                       std::to_string(needed) + " file descriptors; RLIMIT_NOFILE allows " +
                       std::to_string(*descriptors));
    err << "callrec-callgen: " << warnings.back() << "\n";
  }
  RtpSender sender(config->realtime, SendBatchOf(config->send_batch));
  if (!sender.batch_unavailable().empty()) {
    if (config->send_batch == "uring") {
      err << "callrec-callgen: --send-batch uring: " << sender.batch_unavailable() << "\n";
      return 2;
    }
    err << "callrec-callgen: io_uring unavailable (" << sender.batch_unavailable()
        << "), one send per packet\n";
  }
  core::Result<CallgenReport, std::string> report = std::string();
  if (!rtp_only_calls.empty()) {
    report = RunRtpOnly(*config, rtp_only_calls, *customer, *agent, sender);
  } else {
    SiprecClient client(*config, *customer, *agent, sender, err);
    report = client.Run();
  }
  if (!report) {
    err << "callrec-callgen: " << report.error() << "\n";
    return 3;
  }
  report.value().send_batch = sender.batching() ? "uring" : "off";
  report.value().warnings = std::move(warnings);
  if (config->realtime && !sender.realtime()) {
    err << "callrec-callgen: SCHED_FIFO refused, the media thread ran at normal priority\n";
  }
  if (config->json) {
    PrintJson(*report, out);
  } else {
    PrintText(*report, out);
  }
  out.flush();
  return report->failed_sessions() == 0 ? 0 : 1;
}

}  // namespace callrec::callgen
