#include "media/RecordingVerifier.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "media/DtmfDetector.hpp"
#include "media/RecordingMetadata.hpp"
#include "media/WavFile.hpp"

namespace callrec::media {
namespace {

namespace json = boost::json;
constexpr std::int64_t kEdgeFrames = 160;  // one 20 ms packet at 8 kHz

double NumberOf(const json::value* value) {
  if (value == nullptr) return NAN;
  if (value->is_double()) return value->as_double();
  if (value->is_int64()) return static_cast<double>(value->as_int64());
  if (value->is_uint64()) return static_cast<double>(value->as_uint64());
  return NAN;
}

}  // namespace

VerifyReport VerifyRecording(const std::filesystem::path& wav) {
  VerifyReport report;
  const auto json_path = std::filesystem::path(wav).replace_extension(".json");
  std::ifstream in(json_path);
  if (!in) {
    report.problems.push_back("no metadata file " + json_path.string());
    return report;
  }
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object()) {
    report.problems.push_back(json_path.string() + " is not valid JSON");
    return report;
  }
  const json::object& meta = parsed.as_object();

  auto info = ReadWavInfo(wav);
  if (!info) {
    report.problems.push_back("not a valid WAV file: " + info.error().message);
    return report;
  }
  if (info->channels != 2 || info->sample_rate != 8000 || info->bits_per_sample != 16) {
    report.problems.push_back("format is " + std::to_string(info->channels) + " channels, " +
                              std::to_string(info->sample_rate) + " Hz, " +
                              std::to_string(info->bits_per_sample) +
                              "-bit; expected stereo 8000 Hz 16-bit");
  } else {
    report.passed.push_back("format: stereo, 8000 Hz, 16-bit PCM");
  }

  const double frames = NumberOf(meta.if_contains("Frames"));
  if (frames != static_cast<double>(info->frames)) {
    report.problems.push_back("the file holds " + std::to_string(info->frames) +
                              " frames; the metadata says " + std::to_string(frames));
  } else {
    report.passed.push_back("frames: " + std::to_string(info->frames));
  }
  const double duration = NumberOf(meta.if_contains("DurationSeconds"));
  const double actual = static_cast<double>(info->frames) / 8000.0;
  if (!(std::fabs(duration - actual) < 0.001)) {
    report.problems.push_back("duration is " + std::to_string(actual) + " s; the metadata says " +
                              std::to_string(duration) + " s");
  } else {
    report.passed.push_back("duration: " + std::to_string(actual) + " s");
  }

  const json::value* sha = meta.if_contains("Sha256");
  auto computed = Sha256OfFile(wav);
  if (!computed) {
    report.problems.push_back(computed.error().message);
  } else if (sha == nullptr || !sha->is_string() || sha->as_string() != computed.value()) {
    report.problems.push_back("SHA-256 is " + computed.value() + "; the metadata says " +
                              (sha && sha->is_string() ? std::string(sha->as_string()) : "none"));
  } else {
    report.passed.push_back("sha256: " + computed.value());
  }

  const json::value* behavior = meta.if_contains("PauseBehavior");
  const bool skip = behavior && behavior->is_string() && behavior->as_string() == "skip";
  const json::value* pauses = meta.if_contains("Pauses");
  auto samples = ReadWavSamples(wav);
  if (pauses && pauses->is_array() && samples) {
    int index = 0;
    for (const json::value& pause : pauses->as_array()) {
      ++index;
      if (!pause.is_object()) continue;
      const double start = NumberOf(pause.as_object().if_contains("FileOffsetStart"));
      const double end = NumberOf(pause.as_object().if_contains("FileOffsetEnd"));
      const std::string name = "pause " + std::to_string(index);
      if (skip) {
        if (start != end) {
          report.problems.push_back(name + " is " + std::to_string(end - start) +
                                    " s long in the file; a skipped pause must be a cut");
        } else {
          report.passed.push_back(name + ": cut out at " + std::to_string(start) + " s");
        }
        continue;
      }
      const auto first = static_cast<std::int64_t>(std::llround(start * 8000)) + kEdgeFrames;
      const auto last =
          std::min<std::int64_t>(static_cast<std::int64_t>(std::llround(end * 8000)) - kEdgeFrames,
                                 static_cast<std::int64_t>(info->frames));
      std::int64_t loud = -1;
      for (std::int64_t f = std::max<std::int64_t>(first, 0); f < last; ++f) {
        if ((*samples)[static_cast<std::size_t>(f) * 2] != 0 ||
            (*samples)[static_cast<std::size_t>(f) * 2 + 1] != 0) {
          loud = f;
          break;
        }
      }
      if (loud >= 0) {
        report.problems.push_back(name + " (" + std::to_string(start) + "-" + std::to_string(end) +
                                  " s) holds audio at " +
                                  std::to_string(static_cast<double>(loud) / 8000) + " s");
      } else {
        report.passed.push_back(name + ": silent from " + std::to_string(start) + " to " +
                                std::to_string(end) + " s");
      }
    }
  }
  if (samples) {
    // Keyed digits, found by the recorder's own detector over the file: under
    // mask none may be left; under record they are expected, and said.
    const json::value* policy = meta.if_contains("DtmfPolicy");
    const bool masked = policy != nullptr && policy->is_string() && policy->as_string() == "mask";
    for (int channel = 0; channel < 2; ++channel) {
      std::vector<std::int16_t> mono(samples->size() / 2);
      for (std::size_t f = 0; f < mono.size(); ++f) mono[f] = (*samples)[f * 2 + channel];
      DtmfDetector detector;
      detector.Feed(mono, 0);
      const std::string leg = channel == 0 ? "customer" : "agent";
      if (detector.digits() == 0) {
        report.passed.push_back("no DTMF digit in the " + leg + " channel");
      } else if (masked) {
        report.problems.push_back(std::to_string(detector.digits()) +
                                  " DTMF digit(s) detectable in the " + leg +
                                  " channel of a recording made with DtmfPolicy mask");
      } else {
        report.notes.push_back(std::to_string(detector.digits()) + " DTMF digit(s) in the " + leg +
                               " channel (DtmfPolicy is not mask)");
      }
    }
  }
  const json::value* complete = meta.if_contains("Complete");
  if (!complete || !complete->is_bool() || !complete->as_bool()) {
    report.notes.push_back("the recording is marked incomplete (Complete: false)");
  }
  return report;
}

}  // namespace callrec::media
