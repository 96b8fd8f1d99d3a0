#include "media/WavFile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <numbers>

namespace callrec::media {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

class WavFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("callrec-media-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Bytes ReadBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void WriteBytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  static void AppendBytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }

  // Interleaved stereo: a 440 Hz sine on the left, 1 kHz on the right.
  static std::vector<std::int16_t> Stereo(std::size_t frames, std::size_t first_frame = 0) {
    std::vector<std::int16_t> samples;
    for (std::size_t i = first_frame; i < first_frame + frames; ++i) {
      const double t = static_cast<double>(i) / 8000;
      samples.push_back(
          static_cast<std::int16_t>(std::lround(20000 * std::sin(2 * std::numbers::pi * 440 * t))));
      samples.push_back(static_cast<std::int16_t>(
          std::lround(-32768 * std::sin(2 * std::numbers::pi * 1000 * t))));
    }
    return samples;
  }

  static WavWriter MustCreate(const fs::path& path, std::uint16_t channels, std::uint32_t rate) {
    auto writer = WavWriter::Create(path, channels, rate);
    EXPECT_TRUE(writer) << (writer ? "" : writer.error().message);
    return std::move(writer).value();
  }

  static void Le16(Bytes& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value));
    out.push_back(static_cast<std::uint8_t>(value >> 8));
  }
  static void Le32(Bytes& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  static void Chunk(Bytes& out, const char* id, const Bytes& body) {
    out.insert(out.end(), id, id + 4);
    Le32(out, static_cast<std::uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    if (body.size() % 2 == 1) out.push_back(0);
  }
  static Bytes Fmt(std::uint16_t format, std::uint16_t channels, std::uint32_t rate,
                   std::uint16_t bits) {
    Bytes fmt;
    Le16(fmt, format);
    Le16(fmt, channels);
    Le32(fmt, rate);
    Le32(fmt, rate * channels * bits / 8);
    Le16(fmt, static_cast<std::uint16_t>(channels * bits / 8));
    Le16(fmt, bits);
    return fmt;
  }
  // RIFF/WAVE around the given chunks, with a correct RIFF size.
  static Bytes Riff(const Bytes& chunks) {
    Bytes out{'R', 'I', 'F', 'F'};
    Le32(out, static_cast<std::uint32_t>(4 + chunks.size()));
    out.insert(out.end(), {'W', 'A', 'V', 'E'});
    out.insert(out.end(), chunks.begin(), chunks.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(WavFileTest, CreateWritesAValidEmptyWavHeader) {
  const fs::path path = dir_ / "empty.wav";
  auto writer = MustCreate(path, 2, 8000);
  const Bytes expected{'R', 'I', 'F', 'F', 36, 0, 0,   0,   'W', 'A',  'V',  'E', 'f', 'm', 't',
                       ' ', 16,  0,   0,   0,  1, 0,   2,   0,   0x40, 0x1F, 0,   0,   0,   0x7D,
                       0,   0,   4,   0,   16, 0, 'd', 'a', 't', 'a',  0,    0,   0,   0};
  EXPECT_EQ(ReadBytes(path), expected);  // before any sync or close
  const auto info = ReadWavInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->frames, 0u);
  EXPECT_EQ(info->data_offset, 44u);
  EXPECT_TRUE(writer.Close());
}

TEST_F(WavFileTest, ThreeSecondsOfStereoRoundTripExactly) {
  const fs::path path = dir_ / "stereo.wav";
  const auto samples = Stereo(3 * 8000);
  auto writer = MustCreate(path, 2, 8000);
  // In 20 ms packets, as the recorder appends them.
  for (std::size_t at = 0; at < samples.size(); at += 320) {
    ASSERT_TRUE(writer.Append(std::span(samples).subspan(at, 320))) << writer.last_error();
  }
  EXPECT_EQ(writer.frames(), 24000u);
  ASSERT_TRUE(writer.Close()) << writer.last_error();
  EXPECT_EQ(fs::file_size(path), 44u + 24000 * 4);

  const auto info = ReadWavInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->channels, 2);
  EXPECT_EQ(info->sample_rate, 8000u);
  EXPECT_EQ(info->bits_per_sample, 16);
  EXPECT_EQ(info->frames, 24000u);
  EXPECT_EQ(info->data_offset, 44u);
  const auto read = ReadWavSamples(path);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read.value(), samples);

  // Little-endian on disk: the first right-channel sample of frame 1.
  const Bytes bytes = ReadBytes(path);
  const auto right = static_cast<std::uint16_t>(samples[3]);
  EXPECT_EQ(bytes[44 + 6], right & 0xFF);
  EXPECT_EQ(bytes[44 + 7], right >> 8);
}

TEST_F(WavFileTest, AppendRefusesPartialFramesAndClosedWriters) {
  const fs::path path = dir_ / "partial.wav";
  auto writer = MustCreate(path, 2, 8000);
  const std::vector<std::int16_t> three{1, 2, 3};
  EXPECT_FALSE(writer.Append(three));
  EXPECT_EQ(writer.last_error(), "not whole frames: 3 samples for 2 channels");
  EXPECT_EQ(writer.frames(), 0u);
  EXPECT_TRUE(writer.Append(std::span(three).first(2)));
  EXPECT_TRUE(writer.Append({}));
  EXPECT_EQ(writer.frames(), 1u);
  EXPECT_TRUE(writer.Close());
  EXPECT_FALSE(writer.Append(std::span(three).first(2)));
  EXPECT_EQ(writer.last_error(), "writer is closed");
  EXPECT_FALSE(writer.SyncHeader());
  EXPECT_FALSE(writer.Close());
  EXPECT_EQ(ReadWavSamples(path).value(), (std::vector<std::int16_t>{1, 2}));
}

TEST_F(WavFileTest, MovedWriterKeepsWritingAndDestructorLeavesAValidFile) {
  const fs::path path = dir_ / "moved.wav";
  const auto samples = Stereo(100);
  {
    auto first = MustCreate(path, 2, 8000);
    ASSERT_TRUE(first.Append(std::span(samples).first(100)));
    WavWriter second = std::move(first);
    ASSERT_TRUE(second.Append(std::span(samples).subspan(100)));
    EXPECT_EQ(second.frames(), 100u);
  }  // no Close(): the destructor still writes the final sizes
  const auto info = ReadWavInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->frames, 100u);
  EXPECT_EQ(ReadWavSamples(path).value(), samples);
}

TEST_F(WavFileTest, UpdateHeaderMakesTheFileValidUpToWhatIsWritten) {
  // What the recording writer does each second; its sync thread's syncfs
  // then makes it durable.
  const fs::path path = dir_ / "updated.wav";
  const auto samples = Stereo(800);
  auto writer = MustCreate(path, 2, 8000);
  ASSERT_TRUE(writer.Append(samples));
  ASSERT_TRUE(writer.UpdateHeader()) << writer.last_error();
  const auto info = ReadWavInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->frames, 800u);
  ASSERT_TRUE(writer.Close());
  EXPECT_FALSE(writer.UpdateHeader());  // closed
}

TEST_F(WavFileTest, CrashAfterSyncIsRepairedToEveryWrittenFrame) {
  const fs::path path = dir_ / "live.wav";
  const fs::path crashed = dir_ / "crashed.wav";
  const auto samples = Stereo(1500);
  auto writer = MustCreate(path, 2, 8000);
  ASSERT_TRUE(writer.Append(std::span(samples).first(2 * 1000)));
  ASSERT_TRUE(writer.SyncHeader()) << writer.last_error();
  ASSERT_TRUE(writer.Append(std::span(samples).subspan(2 * 1000)));
  // What a crash leaves: the file as it is now, header sizes from the last sync.
  fs::copy_file(path, crashed);
  ASSERT_TRUE(writer.Close());

  const auto stale = ReadWavInfo(crashed);
  ASSERT_TRUE(stale) << stale.error().message;
  EXPECT_EQ(stale->frames, 1000u);  // valid up to the last sync

  const auto repaired = RepairWav(crashed);
  ASSERT_TRUE(repaired) << repaired.error().message;
  EXPECT_EQ(repaired->frames, 1500u);
  EXPECT_EQ(repaired->channels, 2);
  EXPECT_EQ(repaired->sample_rate, 8000u);
  EXPECT_EQ(ReadWavInfo(crashed)->frames, 1500u);
  EXPECT_EQ(ReadWavSamples(crashed).value(), samples);
  EXPECT_EQ(ReadBytes(crashed), ReadBytes(path));  // exactly what Close() wrote
}

TEST_F(WavFileTest, RepairTruncatesATrailingPartialFrame) {
  const fs::path path = dir_ / "torn.wav";
  const auto samples = Stereo(50);
  auto writer = MustCreate(path, 2, 8000);
  ASSERT_TRUE(writer.Append(samples));
  ASSERT_TRUE(writer.Close());
  const Bytes good = ReadBytes(path);
  AppendBytes(path, {0x11, 0x22, 0x33});  // 3 bytes of a 4-byte frame: a torn write

  const auto repaired = RepairWav(path);
  ASSERT_TRUE(repaired) << repaired.error().message;
  EXPECT_EQ(repaired->frames, 50u);
  EXPECT_EQ(ReadBytes(path), good);
}

TEST_F(WavFileTest, RepairOfAStaleZeroFrameHeader) {
  const fs::path path = dir_ / "never_synced.wav";
  const fs::path crashed = dir_ / "crashed.wav";
  const auto samples = Stereo(10);
  auto writer = MustCreate(path, 2, 8000);
  ASSERT_TRUE(writer.Append(samples));
  fs::copy_file(path, crashed);
  ASSERT_TRUE(writer.Close());
  EXPECT_EQ(ReadWavInfo(crashed)->frames, 0u);
  ASSERT_TRUE(RepairWav(crashed));
  EXPECT_EQ(ReadWavSamples(crashed).value(), samples);
}

TEST_F(WavFileTest, RepairIsIdempotentOnAGoodFile) {
  const fs::path path = dir_ / "good.wav";
  auto writer = MustCreate(path, 1, 16000);
  ASSERT_TRUE(writer.Append(Stereo(64)));  // 128 mono samples
  ASSERT_TRUE(writer.Close());
  const Bytes before = ReadBytes(path);
  for (int i = 0; i < 2; ++i) {
    const auto repaired = RepairWav(path);
    ASSERT_TRUE(repaired) << repaired.error().message;
    EXPECT_EQ(repaired->frames, 128u);
    EXPECT_EQ(repaired->channels, 1);
    EXPECT_EQ(repaired->sample_rate, 16000u);
    EXPECT_EQ(ReadBytes(path), before);
  }
}

TEST_F(WavFileTest, RepairKeepsChunksAfterTheData) {
  const fs::path path = dir_ / "trailing_list.wav";
  Bytes data;
  for (std::uint16_t i = 0; i < 8; ++i) Le16(data, i);
  Bytes chunks;
  Chunk(chunks, "fmt ", Fmt(1, 1, 8000, 16));
  Chunk(chunks, "data", data);
  Chunk(chunks, "LIST", {'I', 'N', 'F', 'O', 'a'});  // odd: padded
  const Bytes file = Riff(chunks);
  WriteBytes(path, file);
  const auto repaired = RepairWav(path);
  ASSERT_TRUE(repaired) << repaired.error().message;
  EXPECT_EQ(repaired->frames, 8u);
  EXPECT_EQ(ReadBytes(path), file);
}

TEST_F(WavFileTest, ListChunkBeforeDataIsSkipped) {
  const fs::path path = dir_ / "list.wav";
  Bytes data;
  for (std::int16_t sample : {-1, 2, -3, 4, 32767, -32768}) {
    Le16(data, static_cast<std::uint16_t>(sample));
  }
  Bytes chunks;
  Chunk(chunks, "fmt ", Fmt(1, 2, 48000, 16));
  Chunk(chunks, "LIST",
        {'I', 'N', 'F', 'O', 'I', 'S', 'F', 'T', 5, 0, 0, 0, 'L', 'a', 'v', 'f', 0});
  Chunk(chunks, "data", data);
  WriteBytes(path, Riff(chunks));

  const auto info = ReadWavInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->channels, 2);
  EXPECT_EQ(info->sample_rate, 48000u);
  EXPECT_EQ(info->frames, 3u);
  EXPECT_EQ(info->data_offset, 12u + 24 + 8 + 18 + 8);  // the LIST body is padded to 18
  EXPECT_EQ(ReadWavSamples(path).value(), (std::vector<std::int16_t>{-1, 2, -3, 4, 32767, -32768}));
}

TEST_F(WavFileTest, ReadWavInfoRefusesGarbage) {
  const fs::path path = dir_ / "garbage.wav";
  WriteBytes(path, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!'});
  EXPECT_EQ(ReadWavInfo(path).error().message, "not a RIFF file");
  WriteBytes(path, {});
  EXPECT_EQ(ReadWavInfo(path).error().message, "not a RIFF file");
  WriteBytes(path, {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'A', 'V', 'I', ' '});
  EXPECT_EQ(ReadWavInfo(path).error().message, "not a WAVE file");
  EXPECT_EQ(ReadWavSamples(path).error().message, "not a WAVE file");
  EXPECT_EQ(RepairWav(path).error().message, "not a WAVE file");
}

TEST_F(WavFileTest, ReadWavInfoRefusesATruncatedHeader) {
  const fs::path path = dir_ / "truncated.wav";
  {
    auto writer = MustCreate(path, 2, 8000);
    ASSERT_TRUE(writer.Close());
  }
  const Bytes header = ReadBytes(path);
  WriteBytes(path, Bytes(header.begin(), header.begin() + 30));
  EXPECT_EQ(ReadWavInfo(path).error().message, "truncated header: the fmt chunk is cut off");
  WriteBytes(path, Bytes(header.begin(), header.begin() + 40));
  EXPECT_EQ(ReadWavInfo(path).error().message, "truncated header: no data chunk");
  WriteBytes(path, Bytes(header.begin(), header.begin() + 12));
  EXPECT_EQ(ReadWavInfo(path).error().message, "truncated header: no fmt chunk");
  EXPECT_EQ(RepairWav(path).error().message, "truncated header: no fmt chunk");
}

TEST_F(WavFileTest, ReadWavInfoRefusesNonPcm) {
  const fs::path path = dir_ / "float.wav";
  Bytes chunks;
  Chunk(chunks, "fmt ", Fmt(3, 1, 8000, 32));  // IEEE float
  Chunk(chunks, "data", Bytes(16, 0));
  WriteBytes(path, Riff(chunks));
  EXPECT_EQ(ReadWavInfo(path).error().message, "unsupported format 3: only PCM (1)");
}

TEST_F(WavFileTest, ReadWavInfoRefusesADataSizePastTheEnd) {
  const fs::path path = dir_ / "short.wav";
  Bytes chunks;
  Chunk(chunks, "fmt ", Fmt(1, 1, 8000, 16));
  chunks.insert(chunks.end(), {'d', 'a', 't', 'a'});
  Le32(chunks, 1000);
  chunks.resize(chunks.size() + 500);
  WriteBytes(path, Riff(chunks));
  EXPECT_EQ(ReadWavInfo(path).error().message, "data chunk size 1000 exceeds the file");
  // A file cut short (a copy interrupted): repair keeps the whole frames there are.
  const auto repaired = RepairWav(path);
  ASSERT_TRUE(repaired) << repaired.error().message;
  EXPECT_EQ(repaired->frames, 250u);
  EXPECT_EQ(ReadWavInfo(path)->frames, 250u);
}

TEST_F(WavFileTest, ReadWavInfoRefusesInconsistentFormats) {
  const fs::path path = dir_ / "odd.wav";
  Bytes fmt = Fmt(1, 2, 8000, 16);
  fmt[12] = 3;  // block align 3 for 2 x 16 bits
  Bytes chunks;
  Chunk(chunks, "fmt ", fmt);
  Chunk(chunks, "data", {});
  WriteBytes(path, Riff(chunks));
  EXPECT_EQ(ReadWavInfo(path).error().message,
            "fmt block align 3 does not match 2 channels of 16 bits");

  chunks.clear();
  Chunk(chunks, "data", {});
  Chunk(chunks, "fmt ", Fmt(1, 1, 8000, 16));
  WriteBytes(path, Riff(chunks));
  EXPECT_EQ(ReadWavInfo(path).error().message, "data chunk before the fmt chunk");

  chunks.clear();
  Chunk(chunks, "fmt ", Fmt(1, 1, 8000, 8));
  Chunk(chunks, "data", {1, 2, 3});
  WriteBytes(path, Riff(chunks));
  EXPECT_EQ(ReadWavInfo(path)->frames, 3u);
  EXPECT_EQ(ReadWavSamples(path).error().message,
            "only 16-bit samples can be read, the file has 8");
}

TEST_F(WavFileTest, ErrorsNameTheCause) {
  const auto missing = ReadWavInfo(dir_ / "missing.wav");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos)
      << missing.error().message;

  const auto no_dir = WavWriter::Create(dir_ / "no" / "such" / "dir.wav", 1, 8000);
  ASSERT_FALSE(no_dir);
  EXPECT_NE(no_dir.error().message.find("cannot create"), std::string::npos);

  EXPECT_EQ(WavWriter::Create(dir_ / "x.wav", 0, 8000).error().message,
            "unsupported channel count 0");
  EXPECT_EQ(WavWriter::Create(dir_ / "x.wav", 1, 0).error().message, "unsupported sample rate 0");
}

TEST_F(WavFileTest, FullDiskIsReportedNotThrown) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const auto full = WavWriter::Create("/dev/full", 1, 8000);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("No space left on device"), std::string::npos)
      << full.error().message;
}

}  // namespace
}  // namespace callrec::media
