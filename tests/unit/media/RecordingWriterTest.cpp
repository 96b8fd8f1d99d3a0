#include "media/RecordingWriter.hpp"

#include <gtest/gtest.h>

#include <future>

#include "media/WavFile.hpp"

namespace callrec::media {
namespace {

std::filesystem::path TempWav(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("callrec-writer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(RecordingWriter, WritesAudioAndSilenceInOrder) {
  const auto wav = TempWav("order.wav");
  std::promise<RecordingWriter::FileResult> closed;
  {
    RecordingWriter writer;
    writer.Open("c1", wav);
    writer.Append("c1", std::vector<std::int16_t>(320, 1000));  // 160 frames
    writer.AppendSilence("c1", 80);
    writer.Append("c1", std::vector<std::int16_t>(2, -5));
    writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  }
  const auto result = closed.get_future().get();
  EXPECT_EQ(result.frames, 241u);
  EXPECT_EQ(result.dropped_frames, 0u);
  EXPECT_TRUE(result.error.empty()) << result.error;
  auto samples = ReadWavSamples(wav);
  ASSERT_TRUE(samples.ok());
  EXPECT_EQ((*samples)[0], 1000);
  EXPECT_EQ((*samples)[160 * 2], 0);
  EXPECT_EQ((*samples)[240 * 2 + 1], -5);
}

// Storage that cannot keep up: audio becomes counted gaps of the same length,
// so the file keeps its timeline, and nothing blocks the caller.
TEST(RecordingWriter, WhenStorageFallsBehindAudioBecomesCountedGaps) {
  const auto wav = TempWav("behind.wav");
  std::promise<void> release;
  std::promise<RecordingWriter::FileResult> closed;
  {
    RecordingWriter writer(/*max_queued_samples=*/4 * 320);
    writer.Open("c1", wav);
    auto released = release.get_future().share();
    writer.Post([released] { released.wait(); });  // the disk is stuck
    for (int i = 0; i < 50; ++i) writer.Append("c1", std::vector<std::int16_t>(320, 7));
    EXPECT_GT(writer.dropped_frames(), 0u);
    release.set_value();
    writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  }
  const auto result = closed.get_future().get();
  EXPECT_EQ(result.frames, 50u * 160u);  // the timeline is whole
  EXPECT_GE(result.dropped_frames, 40u * 160u);
  EXPECT_EQ(result.dropped_frames % 160u, 0u);
}

TEST(RecordingWriter, UnwritableDirectoryIsReportedNotThrown) {
  std::promise<RecordingWriter::FileResult> closed;
  RecordingWriter writer;
  writer.Open("c1", "/proc/callrec-cannot-write-here/x.wav");
  writer.Append("c1", std::vector<std::int16_t>(320, 1));
  writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  const auto result = closed.get_future().get();
  EXPECT_FALSE(result.error.empty());
  EXPECT_FALSE(writer.last_error().empty());
}

}  // namespace
}  // namespace callrec::media
