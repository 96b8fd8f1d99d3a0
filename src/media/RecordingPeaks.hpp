#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/Result.hpp"
#include "media/MediaError.hpp"

namespace callrec::media {

// A recording's waveform in brief, so that a page can draw an hour-long call
// without fetching it: for each bucket of consecutive frames, the lowest and
// highest sample of each channel (left customer, right agent).
struct Peaks {
  std::uint32_t sample_rate = 0;
  std::uint64_t frames = 0;             // of the whole recording
  std::uint64_t frames_per_bucket = 1;  // of the stored resolution (ComputePeaks)
  struct Channel {
    std::vector<std::int16_t> min, max;  // one per bucket
  };
  Channel customer, agent;
  std::size_t buckets() const { return customer.min.size(); }
};

// The resolution kept beside a recording: at most this many buckets, each of
// whole frames (a short recording gets one frame per bucket).
inline constexpr std::size_t kStoredPeakBuckets = 8192;

// Reads the 16-bit PCM WAV once, in blocks (never whole in memory).
core::Result<Peaks, MediaError> ComputePeaks(const std::filesystem::path& wav);

// `stored` folded into `width` buckets (at most its own count): bucket i covers
// frames [i*F/width, (i+1)*F/width), rounded out to the stored buckets.
Peaks FoldPeaks(const Peaks& stored, std::size_t width);

// <ContactId>.peaks beside <ContactId>.wav.
std::filesystem::path PeaksPath(const std::filesystem::path& wav);

// The stored peaks when they describe the WAV as it is (same frame count),
// else computed now and stored beside it (a failed store is not an error:
// they are computed again next time).
core::Result<Peaks, MediaError> LoadOrComputePeaks(const std::filesystem::path& wav);

// The stored peaks of a recording whose WAV is gone from here (uploaded to S3:
// kept before the WAV was removed); nullopt when none are stored.
std::optional<Peaks> LoadStoredPeaks(const std::filesystem::path& wav);

boost::json::object PeaksToJson(const Peaks& peaks);

}  // namespace callrec::media
