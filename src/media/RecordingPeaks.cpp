#include "media/RecordingPeaks.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <limits>
#include <sstream>

#include "media/RecordingMetadata.hpp"
#include "media/WavFile.hpp"

namespace callrec::media {
namespace {

namespace json = boost::json;
constexpr std::int64_t kFormatVersion = 1;

void Reserve(Peaks::Channel& channel, std::size_t buckets) {
  channel.min.assign(buckets, std::numeric_limits<std::int16_t>::max());
  channel.max.assign(buckets, std::numeric_limits<std::int16_t>::min());
}

json::array ToArray(const std::vector<std::int16_t>& values) {
  json::array out;
  out.reserve(values.size());
  for (std::int16_t v : values) out.push_back(v);
  return out;
}

json::object ChannelJson(const Peaks::Channel& channel) {
  return json::object{{"Min", ToArray(channel.min)}, {"Max", ToArray(channel.max)}};
}

bool FromArray(const json::value* value, std::size_t size, std::vector<std::int16_t>& out) {
  if (value == nullptr || !value->is_array() || value->as_array().size() != size) return false;
  out.clear();
  out.reserve(size);
  for (const json::value& v : value->as_array()) {
    if (!v.is_int64()) return false;
    const std::int64_t n = v.as_int64();
    if (n < std::numeric_limits<std::int16_t>::min() ||
        n > std::numeric_limits<std::int16_t>::max()) {
      return false;
    }
    out.push_back(static_cast<std::int16_t>(n));
  }
  return true;
}

bool ChannelFromJson(const json::object& object, std::string_view name, std::size_t size,
                     Peaks::Channel& out) {
  const json::value* channel = object.if_contains(name);
  if (channel == nullptr || !channel->is_object()) return false;
  return FromArray(channel->as_object().if_contains("Min"), size, out.min) &&
         FromArray(channel->as_object().if_contains("Max"), size, out.max);
}

// `frames`: the WAV's, which the stored peaks must describe (nullopt: no WAV
// to compare with, the file's own count is taken).
std::optional<Peaks> ReadStored(const std::filesystem::path& path,
                                std::optional<std::uint64_t> frames) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  const json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& o = parsed.as_object();
  auto number = [&](std::string_view name) -> std::optional<std::int64_t> {
    const json::value* v = o.if_contains(name);
    if (v == nullptr || !v->is_int64()) return std::nullopt;
    return v->as_int64();
  };
  const auto version = number("Version");
  const auto stored_frames = number("Frames");
  const auto per_bucket = number("FramesPerBucket");
  const auto rate = number("SampleRate");
  const auto buckets = number("Buckets");
  if (!version || *version != kFormatVersion || !stored_frames || *stored_frames < 0 ||
      (frames && static_cast<std::uint64_t>(*stored_frames) != *frames) || !per_bucket ||
      *per_bucket < 1 || !rate || *rate < 1 || !buckets || *buckets < 0 ||
      static_cast<std::size_t>(*buckets) > kStoredPeakBuckets) {
    return std::nullopt;
  }
  Peaks peaks;
  peaks.frames = static_cast<std::uint64_t>(*stored_frames);
  peaks.frames_per_bucket = static_cast<std::uint64_t>(*per_bucket);
  peaks.sample_rate = static_cast<std::uint32_t>(*rate);
  const auto size = static_cast<std::size_t>(*buckets);
  if (!ChannelFromJson(o, "Customer", size, peaks.customer) ||
      !ChannelFromJson(o, "Agent", size, peaks.agent)) {
    return std::nullopt;
  }
  return peaks;
}

}  // namespace

core::Result<Peaks, MediaError> ComputePeaks(const std::filesystem::path& wav) {
  auto info = ReadWavInfo(wav);
  if (!info) return info.error();
  if (info->bits_per_sample != 16 || info->channels < 1 || info->channels > 2) {
    return MediaError{wav.string() + " is not 16-bit mono or stereo PCM"};
  }
  Peaks peaks;
  peaks.sample_rate = info->sample_rate;
  peaks.frames = info->frames;
  peaks.frames_per_bucket =
      std::max<std::uint64_t>(1, (info->frames + kStoredPeakBuckets - 1) / kStoredPeakBuckets);
  const auto buckets = static_cast<std::size_t>((info->frames + peaks.frames_per_bucket - 1) /
                                                peaks.frames_per_bucket);
  Reserve(peaks.customer, buckets);
  Reserve(peaks.agent, buckets);

  std::ifstream in(wav, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(info->data_offset));
  if (!in) return MediaError{"cannot read " + wav.string()};
  const std::size_t channels = info->channels;
  constexpr std::size_t kBlockFrames = 1 << 15;
  std::vector<char> block(kBlockFrames * channels * 2);
  std::uint64_t frame = 0;
  while (frame < info->frames) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBlockFrames, info->frames - frame));
    in.read(block.data(), static_cast<std::streamsize>(want * channels * 2));
    const std::size_t got = static_cast<std::size_t>(in.gcount()) / (channels * 2);
    if (got == 0)
      return MediaError{"cannot read " + wav.string() + ": shorter than its header says"};
    for (std::size_t i = 0; i < got; ++i, ++frame) {
      const auto bucket = static_cast<std::size_t>(frame / peaks.frames_per_bucket);
      for (std::size_t c = 0; c < 2; ++c) {
        const std::size_t at = (i * channels + std::min(c, channels - 1)) * 2;
        const auto sample = static_cast<std::int16_t>(
            static_cast<std::uint16_t>(static_cast<unsigned char>(block[at])) |
            static_cast<std::uint16_t>(static_cast<unsigned char>(block[at + 1]) << 8));
        Peaks::Channel& channel = c == 0 ? peaks.customer : peaks.agent;
        channel.min[bucket] = std::min(channel.min[bucket], sample);
        channel.max[bucket] = std::max(channel.max[bucket], sample);
      }
    }
  }
  return peaks;
}

Peaks FoldPeaks(const Peaks& stored, std::size_t width) {
  const std::size_t have = stored.buckets();
  width = std::min(width, have);
  Peaks out;
  out.sample_rate = stored.sample_rate;
  out.frames = stored.frames;
  out.frames_per_bucket = stored.frames_per_bucket;
  if (width == 0) return out;
  Reserve(out.customer, width);
  Reserve(out.agent, width);
  const std::uint64_t frames = stored.frames;
  for (std::size_t i = 0; i < width; ++i) {
    const std::uint64_t first = i * frames / width;
    const std::uint64_t end = std::max(first + 1, (i + 1) * frames / width);
    const std::size_t from = static_cast<std::size_t>(first / stored.frames_per_bucket);
    const std::size_t to = std::min<std::size_t>(
        have, static_cast<std::size_t>((end - 1) / stored.frames_per_bucket) + 1);
    for (std::size_t j = from; j < to; ++j) {
      out.customer.min[i] = std::min(out.customer.min[i], stored.customer.min[j]);
      out.customer.max[i] = std::max(out.customer.max[i], stored.customer.max[j]);
      out.agent.min[i] = std::min(out.agent.min[i], stored.agent.min[j]);
      out.agent.max[i] = std::max(out.agent.max[i], stored.agent.max[j]);
    }
  }
  return out;
}

std::filesystem::path PeaksPath(const std::filesystem::path& wav) {
  return std::filesystem::path(wav).replace_extension(".peaks");
}

core::Result<Peaks, MediaError> LoadOrComputePeaks(const std::filesystem::path& wav) {
  auto info = ReadWavInfo(wav);
  if (!info) return info.error();
  if (auto stored = ReadStored(PeaksPath(wav), info->frames)) return *std::move(stored);
  auto computed = ComputePeaks(wav);
  if (!computed) return computed;
  json::object file{{"Version", kFormatVersion},
                    {"Frames", computed->frames},
                    {"FramesPerBucket", computed->frames_per_bucket},
                    {"SampleRate", computed->sample_rate},
                    {"Buckets", computed->buckets()},
                    {"Customer", ChannelJson(computed->customer)},
                    {"Agent", ChannelJson(computed->agent)}};
  (void)WriteJsonAtomically(PeaksPath(wav), file, false);  // a cache: rebuilt if missing
  return computed;
}

std::optional<Peaks> LoadStoredPeaks(const std::filesystem::path& wav) {
  return ReadStored(PeaksPath(wav), std::nullopt);
}

json::object PeaksToJson(const Peaks& peaks) {
  const std::size_t width = peaks.buckets();
  const double seconds =
      peaks.sample_rate == 0 ? 0.0 : static_cast<double>(peaks.frames) / peaks.sample_rate;
  return json::object{{"Width", width},
                      {"SampleRate", peaks.sample_rate},
                      {"Frames", peaks.frames},
                      {"DurationSeconds", seconds},
                      {"SecondsPerBucket", width == 0 ? 0.0 : seconds / static_cast<double>(width)},
                      {"Customer", ChannelJson(peaks.customer)},
                      {"Agent", ChannelJson(peaks.agent)}};
}

}  // namespace callrec::media
