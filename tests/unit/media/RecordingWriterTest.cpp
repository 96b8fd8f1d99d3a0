#include "media/RecordingWriter.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <future>
#include <stdexcept>

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

// The writer thread's barrier: a job that throws is logged and counted, and
// the thread goes on with the next job (before, the process ended).
TEST(RecordingWriter, AJobThatThrowsLeavesTheThreadRunning) {
  const auto wav = TempWav("barrier.wav");
  std::promise<RecordingWriter::FileResult> closed;
  RecordingWriter writer;
  writer.Open("c1", wav);
  writer.Append("c1", std::vector<std::int16_t>(320, 1000));
  writer.Post([] { throw std::runtime_error("a job that throws"); });
  writer.Append("c1", std::vector<std::int16_t>(320, 2000));
  writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  auto future = closed.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get().frames, 320u);
  EXPECT_EQ(writer.handler_exceptions(), 1u);
}

// A file the disk refused to create (here: a file where its directory should
// be) is created once the disk takes it again; the audio lost meanwhile is
// silence at the start, so what follows keeps its true offset.
TEST(RecordingWriter, AFileThatCouldNotBeCreatedIsCreatedLater) {
  const auto blocker = TempWav("blocker");
  std::filesystem::remove_all(blocker);
  { std::ofstream(blocker) << "x"; }
  const auto wav = blocker / "later.wav";
  std::promise<RecordingWriter::FileResult> closed;
  std::promise<bool> failing;
  RecordingWriter writer(RecordingWriter::kDefaultMaxQueuedSamples, std::chrono::milliseconds(0));
  writer.Open("c1", wav);
  writer.Append("c1", std::vector<std::int16_t>(320, 1000));  // lost: no file
  writer.AppendSilence("c1", 40);                             // owed too
  writer.Post([&] {
    failing.set_value(writer.failing());
    std::filesystem::remove(blocker);  // space again
  });
  writer.Append("c1", std::vector<std::int16_t>(320, 2000));
  writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  EXPECT_TRUE(failing.get_future().get());
  const auto result = closed.get_future().get();
  EXPECT_EQ(result.frames, 160u + 40u + 160u);
  EXPECT_EQ(result.dropped_frames, 160u);
  EXPECT_FALSE(result.error.empty());  // the file says it is incomplete
  EXPECT_FALSE(writer.failing());
  auto samples = ReadWavSamples(wav);
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 360u * 2);
  EXPECT_EQ((*samples)[0], 0);
  EXPECT_EQ((*samples)[199 * 2], 0);
  EXPECT_EQ((*samples)[200 * 2], 2000);
  std::filesystem::remove_all(blocker);
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

// A full disk, made with RLIMIT_FSIZE (writes past it fail with EFBIG once
// SIGXFSZ is ignored): the failure is visible at once, what was written stays,
// and when writes succeed again the lost span is silence of the same length,
// so later audio keeps its place in time.
TEST(RecordingWriter, AFailedWriteLeavesASilentGapAndRecovers) {
  const auto wav = TempWav("full.wav");
  struct rlimit original {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &original), 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  auto limit = [](rlim_t bytes) {
    return [bytes] {
      struct rlimit now {};
      ::getrlimit(RLIMIT_FSIZE, &now);
      now.rlim_cur = bytes;
      ::setrlimit(RLIMIT_FSIZE, &now);
    };
  };
  std::promise<RecordingWriter::FileResult> closed;
  std::promise<std::pair<bool, std::uint64_t>> while_full;
  RecordingWriter writer;
  writer.Open("c1", wav);
  writer.Append("c1", std::vector<std::int16_t>(320, 1000));  // 160 frames: 44 + 640 bytes
  writer.Post(limit(44 + 640));                               // the disk is full
  writer.Append("c1", std::vector<std::int16_t>(320, 2000));  // refused
  writer.AppendSilence("c1", 40);                             // refused too
  writer.Post([&] { while_full.set_value({writer.failing(), writer.write_errors()}); });
  writer.Post(limit(original.rlim_cur));  // space again
  writer.Append("c1", std::vector<std::int16_t>(320, 9));
  writer.Close("c1", [&](const RecordingWriter::FileResult& r) { closed.set_value(r); });
  const auto full = while_full.get_future().get();
  const auto result = closed.get_future().get();
  std::signal(SIGXFSZ, previous);
  EXPECT_TRUE(full.first);
  EXPECT_GE(full.second, 2u);
  EXPECT_FALSE(writer.failing());
  EXPECT_NE(result.error.find("write failed"), std::string::npos) << result.error;
  EXPECT_EQ(result.dropped_frames, 160u);  // the audio lost; the silence was silence
  EXPECT_EQ(result.frames, 160u + 160u + 40u + 160u);
  auto samples = ReadWavSamples(wav);
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 520u * 2);
  EXPECT_EQ((*samples)[159 * 2], 1000);
  EXPECT_EQ((*samples)[160 * 2], 0);
  EXPECT_EQ((*samples)[359 * 2 + 1], 0);
  EXPECT_EQ((*samples)[360 * 2], 9);
}

}  // namespace
}  // namespace callrec::media
