#include "callgen/Callgen.hpp"

#include <ostream>

#include "callgen/AudioClip.hpp"
#include "callgen/CallgenConfig.hpp"
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
  RtpSender sender(config->realtime);
  SiprecClient client(*config, *customer, *agent, sender, err);
  auto report = client.Run();
  if (!report) {
    err << "callrec-callgen: " << report.error() << "\n";
    return 3;
  }
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
