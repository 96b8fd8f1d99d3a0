#include "media/WavFile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace callrec::media {
namespace {

constexpr std::size_t kHeaderBytes = 44;
constexpr std::size_t kChunkHeaderBytes = 8;
constexpr std::size_t kFmtPcmBytes = 16;
constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kBitsPerSample = 16;
constexpr std::uint64_t kMaxRiffSize = std::numeric_limits<std::uint32_t>::max();

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

void PutLe16(std::uint8_t* at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value);
  at[1] = static_cast<std::uint8_t>(value >> 8);
}

void PutLe32(std::uint8_t* at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint16_t GetLe16(const std::uint8_t* at) {
  return static_cast<std::uint16_t>(at[0] | (at[1] << 8));
}

std::uint32_t GetLe32(const std::uint8_t* at) {
  return std::uint32_t{at[0]} | (std::uint32_t{at[1]} << 8) | (std::uint32_t{at[2]} << 16) |
         (std::uint32_t{at[3]} << 24);
}

bool IsChunkId(const std::uint8_t* at, const char (&id)[5]) {
  return std::memcmp(at, id, 4) == 0;
}

// A FourCC as RIFF writers use them: four printable ASCII characters.
bool IsPrintableChunkId(const std::uint8_t* at) {
  for (int i = 0; i < 4; ++i) {
    if (at[i] < 0x20 || at[i] > 0x7E) return false;
  }
  return true;
}

std::array<std::uint8_t, kHeaderBytes> MakeHeader(std::uint16_t channels, std::uint32_t sample_rate,
                                                  std::uint32_t data_bytes) {
  const auto block_align = static_cast<std::uint16_t>(channels * (kBitsPerSample / 8));
  std::array<std::uint8_t, kHeaderBytes> header{};
  std::memcpy(&header[0], "RIFF", 4);
  PutLe32(&header[4], static_cast<std::uint32_t>(kHeaderBytes - 8 + data_bytes));
  std::memcpy(&header[8], "WAVEfmt ", 8);
  PutLe32(&header[16], kFmtPcmBytes);
  PutLe16(&header[20], kFormatPcm);
  PutLe16(&header[22], channels);
  PutLe32(&header[24], sample_rate);
  PutLe32(&header[28], sample_rate * block_align);
  PutLe16(&header[32], block_align);
  PutLe16(&header[34], kBitsPerSample);
  std::memcpy(&header[36], "data", 4);
  PutLe32(&header[40], data_bytes);
  return header;
}

// 0 or the errno of the failed write.
int PwriteAll(int fd, const std::uint8_t* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t written = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO;
    data += written;
    size -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
  return 0;
}

// The bytes read (fewer than `size` at the end of the file), or -errno.
ssize_t PreadAll(int fd, std::uint8_t* data, std::size_t size, std::uint64_t offset) {
  std::size_t total = 0;
  while (total < size) {
    const ssize_t got = ::pread(fd, data + total, size - total, static_cast<off_t>(offset + total));
    if (got < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  return static_cast<ssize_t>(total);
}

// Owns a file descriptor opened for reading or repairing.
class OpenFile {
 public:
  OpenFile(const std::filesystem::path& path, int flags)
      : fd_(::open(path.c_str(), flags | O_CLOEXEC)), error_(fd_ < 0 ? errno : 0) {}
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int fd() const { return fd_; }
  int error() const { return error_; }

 private:
  int fd_;
  int error_;
};

// Where the parts of a file are, as its header describes them.
struct Layout {
  WavInfo info{};  // frames not yet set
  std::uint16_t block_align = 0;
  std::uint32_t declared_data_bytes = 0;  // the data chunk's size field, maybe stale
  std::uint64_t file_bytes = 0;
};

MediaError ReadError(int error) {
  return {"cannot read: " + ErrnoText(error)};
}

core::Result<Layout, MediaError> ParseLayout(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) return ReadError(errno);
  Layout layout;
  layout.file_bytes = static_cast<std::uint64_t>(status.st_size);

  std::array<std::uint8_t, 12> riff{};
  const ssize_t got = PreadAll(fd, riff.data(), riff.size(), 0);
  if (got < 0) return ReadError(static_cast<int>(-got));
  if (static_cast<std::size_t>(got) < riff.size() || !IsChunkId(&riff[0], "RIFF")) {
    return MediaError{"not a RIFF file"};
  }
  if (!IsChunkId(&riff[8], "WAVE")) return MediaError{"not a WAVE file"};

  bool have_fmt = false;
  std::uint64_t offset = riff.size();
  while (true) {
    std::array<std::uint8_t, kChunkHeaderBytes> chunk{};
    if (offset + chunk.size() > layout.file_bytes) {
      return MediaError{have_fmt ? "truncated header: no data chunk"
                                 : "truncated header: no fmt chunk"};
    }
    const ssize_t read = PreadAll(fd, chunk.data(), chunk.size(), offset);
    if (read < 0) return ReadError(static_cast<int>(-read));
    if (static_cast<std::size_t>(read) < chunk.size()) {
      return MediaError{"truncated header: the file shrank while being read"};
    }
    const std::uint32_t size = GetLe32(&chunk[4]);
    const std::uint64_t body = offset + chunk.size();

    if (IsChunkId(&chunk[0], "fmt ")) {
      if (size < kFmtPcmBytes) {
        return MediaError{"fmt chunk too short: " + std::to_string(size) + " bytes"};
      }
      std::array<std::uint8_t, kFmtPcmBytes> fmt{};
      const ssize_t fmt_read = PreadAll(fd, fmt.data(), fmt.size(), body);
      if (fmt_read < 0) return ReadError(static_cast<int>(-fmt_read));
      if (static_cast<std::size_t>(fmt_read) < fmt.size()) {
        return MediaError{"truncated header: the fmt chunk is cut off"};
      }
      const std::uint16_t format = GetLe16(&fmt[0]);
      if (format != kFormatPcm) {
        return MediaError{"unsupported format " + std::to_string(format) + ": only PCM (1)"};
      }
      WavInfo& info = layout.info;
      info.channels = GetLe16(&fmt[2]);
      info.sample_rate = GetLe32(&fmt[4]);
      layout.block_align = GetLe16(&fmt[12]);
      info.bits_per_sample = GetLe16(&fmt[14]);
      if (info.channels == 0) return MediaError{"fmt chunk has 0 channels"};
      if (info.sample_rate == 0) return MediaError{"fmt chunk has a sample rate of 0"};
      if (info.bits_per_sample == 0 || info.bits_per_sample % 8 != 0 || info.bits_per_sample > 32) {
        return MediaError{"unsupported bits per sample: " + std::to_string(info.bits_per_sample)};
      }
      if (layout.block_align != info.channels * (info.bits_per_sample / 8)) {
        return MediaError{"fmt block align " + std::to_string(layout.block_align) +
                          " does not match " + std::to_string(info.channels) + " channels of " +
                          std::to_string(info.bits_per_sample) + " bits"};
      }
      have_fmt = true;
    } else if (IsChunkId(&chunk[0], "data")) {
      if (!have_fmt) return MediaError{"data chunk before the fmt chunk"};
      layout.info.data_offset = body;
      layout.declared_data_bytes = size;
      return layout;
    }
    // RIFF chunks are padded to an even size.
    offset = body + size + (size & 1U);
  }
}

core::Result<WavInfo, MediaError> CheckedInfo(const Layout& layout) {
  const std::uint64_t available = layout.file_bytes - layout.info.data_offset;
  if (layout.declared_data_bytes > available) {
    return MediaError{"data chunk size " + std::to_string(layout.declared_data_bytes) +
                      " exceeds the file"};
  }
  WavInfo info = layout.info;
  info.frames = layout.declared_data_bytes / layout.block_align;
  return info;
}

// True when well-formed chunks run from `offset` exactly to the end of the file
// (a missing pad byte on the last one is tolerated).
bool ChunksReachEnd(int fd, std::uint64_t offset, std::uint64_t file_bytes) {
  while (offset < file_bytes) {
    std::array<std::uint8_t, kChunkHeaderBytes> chunk{};
    if (offset + chunk.size() > file_bytes) return false;
    if (PreadAll(fd, chunk.data(), chunk.size(), offset) != static_cast<ssize_t>(chunk.size())) {
      return false;
    }
    if (!IsPrintableChunkId(&chunk[0])) return false;
    const std::uint32_t size = GetLe32(&chunk[4]);
    const std::uint64_t end = offset + chunk.size() + size;
    if (end == file_bytes) return true;
    offset = end + (size & 1U);
  }
  return offset == file_bytes;
}

MediaError RepairError(int error) {
  return {"cannot repair: " + ErrnoText(error)};
}

}  // namespace

// ---- WavWriter ----

WavWriter::WavWriter(int fd, std::uint16_t channels, std::uint32_t sample_rate)
    : fd_(fd), channels_(channels), sample_rate_(sample_rate) {}

WavWriter::WavWriter(WavWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      channels_(other.channels_),
      sample_rate_(other.sample_rate_),
      frames_(other.frames_),
      last_error_(std::move(other.last_error_)) {}

WavWriter& WavWriter::operator=(WavWriter&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    channels_ = other.channels_;
    sample_rate_ = other.sample_rate_;
    frames_ = other.frames_;
    last_error_ = std::move(other.last_error_);
  }
  return *this;
}

WavWriter::~WavWriter() {
  Release();
}

void WavWriter::Release() noexcept {
  if (fd_ < 0) return;
  WriteHeader();
  ::close(fd_);
  fd_ = -1;
}

core::Result<WavWriter, MediaError> WavWriter::Create(const std::filesystem::path& path,
                                                      std::uint16_t channels,
                                                      std::uint32_t sample_rate) {
  if (channels == 0 || channels > std::numeric_limits<std::uint16_t>::max() / 2) {
    return MediaError{"unsupported channel count " + std::to_string(channels)};
  }
  if (sample_rate == 0 ||
      std::uint64_t{sample_rate} * channels * 2 > std::numeric_limits<std::uint32_t>::max()) {
    return MediaError{"unsupported sample rate " + std::to_string(sample_rate)};
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return MediaError{"cannot create " + path.string() + ": " + ErrnoText(errno)};
  WavWriter writer(fd, channels, sample_rate);
  if (!writer.WriteHeader()) {
    MediaError error{"cannot write " + path.string() + ": " + writer.last_error()};
    ::close(std::exchange(writer.fd_, -1));
    return error;
  }
  return writer;
}

bool WavWriter::Fail(std::string message) {
  last_error_ = std::move(message);
  return false;
}

bool WavWriter::WriteHeader() {
  const auto data_bytes = static_cast<std::uint32_t>(frames_ * channels_ * 2);
  const auto header = MakeHeader(channels_, sample_rate_, data_bytes);
  if (const int error = PwriteAll(fd_, header.data(), header.size(), 0); error != 0) {
    return Fail("header write failed: " + ErrnoText(error));
  }
  return true;
}

bool WavWriter::Append(std::span<const std::int16_t> interleaved) {
  if (fd_ < 0) return Fail("writer is closed");
  if (interleaved.size() % channels_ != 0) {
    return Fail("not whole frames: " + std::to_string(interleaved.size()) + " samples for " +
                std::to_string(channels_) + " channels");
  }
  if (interleaved.empty()) return true;
  const std::uint64_t block_align = std::uint64_t{channels_} * 2;
  const std::uint64_t written_bytes = frames_ * block_align;
  const std::uint64_t new_bytes = interleaved.size() * 2;
  if (kHeaderBytes - 8 + written_bytes + new_bytes > kMaxRiffSize) {
    return Fail("WAV size limit of 4 GiB reached");
  }

  const std::uint8_t* bytes = nullptr;
  std::vector<std::uint8_t> swapped;
  if constexpr (std::endian::native == std::endian::little) {
    bytes = reinterpret_cast<const std::uint8_t*>(interleaved.data());
  } else {
    swapped.resize(new_bytes);
    for (std::size_t i = 0; i < interleaved.size(); ++i) {
      PutLe16(&swapped[2 * i], static_cast<std::uint16_t>(interleaved[i]));
    }
    bytes = swapped.data();
  }

  const std::uint64_t end_of_data = kHeaderBytes + written_bytes;
  if (const int error = PwriteAll(fd_, bytes, new_bytes, end_of_data); error != 0) {
    // Keep the file whole frames: cut off whatever part of this append landed.
    if (::ftruncate(fd_, static_cast<off_t>(end_of_data)) != 0) {
      return Fail("write failed: " + ErrnoText(error) +
                  "; cutting back the partial frame failed: " + ErrnoText(errno));
    }
    return Fail("write failed: " + ErrnoText(error));
  }
  frames_ += interleaved.size() / channels_;
  return true;
}

bool WavWriter::SyncHeader() {
  if (fd_ < 0) return Fail("writer is closed");
  if (!WriteHeader()) return false;
  if (::fdatasync(fd_) != 0) return Fail("fdatasync failed: " + ErrnoText(errno));
  return true;
}

bool WavWriter::UpdateHeader() {
  if (fd_ < 0) return Fail("writer is closed");
  return WriteHeader();
}

bool WavWriter::Close() {
  if (fd_ < 0) return Fail("writer is closed");
  bool ok = WriteHeader();
  if (ok && ::fsync(fd_) != 0) ok = Fail("fsync failed: " + ErrnoText(errno));
  if (::close(std::exchange(fd_, -1)) != 0 && ok) ok = Fail("close failed: " + ErrnoText(errno));
  return ok;
}

// ---- Reading and repair ----

core::Result<WavInfo, MediaError> ReadWavInfo(const std::filesystem::path& path) {
  const OpenFile file(path, O_RDONLY);
  if (file.fd() < 0)
    return MediaError{"cannot open " + path.string() + ": " + ErrnoText(file.error())};
  auto layout = ParseLayout(file.fd());
  if (!layout) return layout.error();
  return CheckedInfo(*layout);
}

core::Result<std::vector<std::int16_t>, MediaError> ReadWavSamples(
    const std::filesystem::path& path) {
  const OpenFile file(path, O_RDONLY);
  if (file.fd() < 0)
    return MediaError{"cannot open " + path.string() + ": " + ErrnoText(file.error())};
  auto layout = ParseLayout(file.fd());
  if (!layout) return layout.error();
  auto info = CheckedInfo(*layout);
  if (!info) return info.error();
  if (info->bits_per_sample != kBitsPerSample) {
    return MediaError{"only 16-bit samples can be read, the file has " +
                      std::to_string(info->bits_per_sample)};
  }

  std::vector<std::int16_t> samples(info->frames * info->channels);
  auto* bytes = reinterpret_cast<std::uint8_t*>(samples.data());
  const std::size_t size = samples.size() * 2;
  const ssize_t got = PreadAll(file.fd(), bytes, size, info->data_offset);
  if (got < 0) return ReadError(static_cast<int>(-got));
  if (static_cast<std::size_t>(got) < size) return MediaError{"the file shrank while being read"};
  if constexpr (std::endian::native != std::endian::little) {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      samples[i] = static_cast<std::int16_t>(GetLe16(&bytes[2 * i]));
    }
  }
  return samples;
}

core::Result<WavInfo, MediaError> RepairWav(const std::filesystem::path& path) {
  const OpenFile file(path, O_RDWR);
  if (file.fd() < 0)
    return MediaError{"cannot open " + path.string() + ": " + ErrnoText(file.error())};
  auto parsed = ParseLayout(file.fd());
  if (!parsed) return parsed.error();
  Layout& layout = parsed.value();
  const int fd = file.fd();
  const std::uint64_t data_offset = layout.info.data_offset;
  const std::uint64_t available = layout.file_bytes - data_offset;

  std::uint64_t data_bytes = layout.declared_data_bytes;
  std::uint64_t file_bytes = layout.file_bytes;
  const std::uint64_t data_end = data_offset + data_bytes;
  const bool intact =
      data_bytes <= available &&
      (data_end == file_bytes || ChunksReachEnd(fd, data_end + (data_bytes & 1U), file_bytes));
  if (!intact) {
    // The header is stale: the data runs to the end of the file, as the writer leaves it.
    data_bytes = available - available % layout.block_align;
    file_bytes = data_offset + data_bytes;
    if (file_bytes - 8 > kMaxRiffSize) {
      return MediaError{"cannot repair: " + std::to_string(data_bytes) +
                        " bytes of data exceed the 4 GiB WAV limit"};
    }
  }

  bool changed = false;
  if (file_bytes != layout.file_bytes) {
    if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) return RepairError(errno);
    changed = true;
  }
  std::array<std::uint8_t, 4> field{};
  if (data_bytes != layout.declared_data_bytes) {
    PutLe32(field.data(), static_cast<std::uint32_t>(data_bytes));
    if (const int error = PwriteAll(fd, field.data(), field.size(), data_offset - 4); error != 0) {
      return RepairError(error);
    }
    changed = true;
  }
  std::array<std::uint8_t, 4> riff_size{};
  const ssize_t got = PreadAll(fd, riff_size.data(), riff_size.size(), 4);
  if (got != static_cast<ssize_t>(riff_size.size()))
    return RepairError(got < 0 ? static_cast<int>(-got) : EIO);
  if (file_bytes - 8 <= kMaxRiffSize && GetLe32(riff_size.data()) != file_bytes - 8) {
    PutLe32(field.data(), static_cast<std::uint32_t>(file_bytes - 8));
    if (const int error = PwriteAll(fd, field.data(), field.size(), 4); error != 0) {
      return RepairError(error);
    }
    changed = true;
  }
  if (changed && ::fsync(fd) != 0) return RepairError(errno);

  WavInfo info = layout.info;
  info.frames = data_bytes / layout.block_align;
  return info;
}

}  // namespace callrec::media
