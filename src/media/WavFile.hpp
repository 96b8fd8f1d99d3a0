#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/Result.hpp"
#include "media/MediaError.hpp"

namespace callrec::media {

// Writes a 16-bit PCM RIFF/WAVE file that is valid at every moment it is
// synced: the header is written for 0 frames at creation, samples are
// appended, and SyncHeader() rewrites the sizes and fdatasync()s, so that a
// crash leaves a file valid up to the last sync (RepairWav recovers the rest).
// Errors (e.g. ENOSPC) are returned as false with last_error(); never throws.
class WavWriter {
 public:
  static core::Result<WavWriter, MediaError> Create(const std::filesystem::path& path,
                                                    std::uint16_t channels,
                                                    std::uint32_t sample_rate);

  WavWriter(WavWriter&& other) noexcept;
  WavWriter& operator=(WavWriter&& other) noexcept;
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;
  // Without Close(): rewrites the header (no fsync) and closes the file.
  ~WavWriter();

  // Appends interleaved samples, written little-endian. Whole frames only: a
  // sample count that is not a multiple of the channel count is refused. A
  // failed write is cut back to the last whole frame.
  bool Append(std::span<const std::int16_t> interleaved);
  // Rewrites the RIFF and data sizes for what is written, then fdatasync().
  bool SyncHeader();
  // Rewrites the sizes only; whoever syncs the file system makes them durable
  // (RecordingWriter: one syncfs a second for every open recording).
  bool UpdateHeader();
  // Final header, fsync(), close. Later calls fail with "writer is closed".
  bool Close();

  std::uint64_t frames() const { return frames_; }
  std::uint16_t channels() const { return channels_; }
  std::uint32_t sample_rate() const { return sample_rate_; }
  const std::string& last_error() const { return last_error_; }

 private:
  WavWriter(int fd, std::uint16_t channels, std::uint32_t sample_rate);
  bool WriteHeader();
  bool Fail(std::string message);
  void Release() noexcept;

  int fd_ = -1;
  std::uint16_t channels_ = 0;
  std::uint32_t sample_rate_ = 0;
  std::uint64_t frames_ = 0;
  std::string last_error_;
};

struct WavInfo {
  std::uint16_t channels;
  std::uint32_t sample_rate;
  std::uint16_t bits_per_sample;
  std::uint64_t frames;
  std::uint64_t data_offset;  // of the first sample, in bytes from the start of the file
};

// Walks the RIFF chunks (unknown ones such as LIST are skipped) up to the data
// chunk. PCM (format 1) only. The data size must fit in the file.
core::Result<WavInfo, MediaError> ReadWavInfo(const std::filesystem::path& path);

// For a file whose header sizes are stale (a crash after appends): sets the
// data size to the whole frames present after the header, truncating a
// trailing partial frame, fixes the RIFF size and fsync()s. A file whose data
// chunk is followed by well-formed chunks up to the end is left as it is
// (idempotent on a good file). Returns the repaired info.
core::Result<WavInfo, MediaError> RepairWav(const std::filesystem::path& path);

// The interleaved samples of a 16-bit PCM file.
core::Result<std::vector<std::int16_t>, MediaError> ReadWavSamples(
    const std::filesystem::path& path);

}  // namespace callrec::media
