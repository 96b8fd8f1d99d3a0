// Recordings left on disk by a crash, as callrec-server repairs them at start-up
// and `callrec verify` reads them: ReadWavInfo, ReadWavSamples and RepairWav on
// a file holding the input (in /dev/shm when it exists: fsync is free there).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "FuzzCheck.hpp"
#include "media/WavFile.hpp"

using namespace callrec;

namespace {

const std::filesystem::path& ScratchFile() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    return dir / ("callrec-fuzz-wav-" + std::to_string(::getpid()) + ".wav");
  }();
  return path;
}

std::string Contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool Same(const media::WavInfo& a, const media::WavInfo& b) {
  return a.channels == b.channels && a.sample_rate == b.sample_rate &&
         a.bits_per_sample == b.bits_per_sample && a.frames == b.frames &&
         a.data_offset == b.data_offset;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& path = ScratchFile();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const auto before = media::ReadWavInfo(path);
  if (before) {
    CALLREC_FUZZ_CHECK(before->channels > 0);
    CALLREC_FUZZ_CHECK(before->data_offset <= size);
    const auto samples = media::ReadWavSamples(path);
    if (samples) CALLREC_FUZZ_CHECK(samples->size() == before->frames * before->channels);
  }
  const auto repaired = media::RepairWav(path);
  if (repaired) {
    // What repair leaves is a valid file, and repairing it again changes nothing.
    const auto after = media::ReadWavInfo(path);
    CALLREC_FUZZ_CHECK(after.ok());
    CALLREC_FUZZ_CHECK(Same(*after, *repaired));
    const std::string once = Contents(path);
    const auto again = media::RepairWav(path);
    CALLREC_FUZZ_CHECK(again.ok());
    CALLREC_FUZZ_CHECK(Same(*again, *repaired));
    CALLREC_FUZZ_CHECK(Contents(path) == once);
  }
  std::filesystem::remove(path);
  return 0;
}
