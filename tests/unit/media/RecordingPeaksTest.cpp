#include "media/RecordingPeaks.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "media/WavFile.hpp"

namespace callrec::media {
namespace {

namespace fs = std::filesystem;

class RecordingPeaksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("callrec-peaks-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Stereo: left = customer(frame), right = agent(frame).
  template <typename Left, typename Right>
  fs::path Write(std::uint64_t frames, Left customer, Right agent) {
    const fs::path path = dir_ / "c.wav";
    auto writer = WavWriter::Create(path, 2, 8000);
    EXPECT_TRUE(writer);
    std::vector<std::int16_t> samples;
    for (std::uint64_t i = 0; i < frames; ++i) {
      samples.push_back(customer(i));
      samples.push_back(agent(i));
    }
    EXPECT_TRUE(writer.value().Append(samples));
    EXPECT_TRUE(writer.value().Close());
    return path;
  }

  fs::path dir_;
};

TEST_F(RecordingPeaksTest, EachChannelsExtremesPerBucket) {
  // 80,000 frames (10 s): the customer speaks in the first half, the agent in
  // the second; one loud sample marks frame 60,000 on the agent's side.
  const auto wav = Write(
      80'000,
      [](std::uint64_t i) -> std::int16_t { return i < 40'000 ? (i % 2 ? 1000 : -900) : 0; },
      [](std::uint64_t i) -> std::int16_t {
        if (i == 60'000) return 32767;
        return i >= 40'000 ? (i % 2 ? 200 : -300) : 0;
      });
  auto stored = ComputePeaks(wav);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->frames, 80'000u);
  EXPECT_EQ(stored->frames_per_bucket, 10u);
  EXPECT_EQ(stored->buckets(), 8000u);
  const Peaks ten = FoldPeaks(stored.value(), 10);  // one second each
  ASSERT_EQ(ten.buckets(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(ten.customer.max[i], i < 5 ? 1000 : 0) << i;
    EXPECT_EQ(ten.customer.min[i], i < 5 ? -900 : 0) << i;
    EXPECT_EQ(ten.agent.max[i], i < 5 ? 0 : i == 7 ? 32767 : 200) << i;
    EXPECT_EQ(ten.agent.min[i], i < 5 ? 0 : -300) << i;
  }
  // More buckets than stored: the stored resolution.
  EXPECT_EQ(FoldPeaks(stored.value(), 8192).buckets(), 8000u);
}

TEST_F(RecordingPeaksTest, StoredBesideAndRecomputedWhenTheFileChanged) {
  const auto wav = Write(
      1000, [](std::uint64_t) -> std::int16_t { return 5; },
      [](std::uint64_t) -> std::int16_t { return -5; });
  auto first = LoadOrComputePeaks(wav);
  ASSERT_TRUE(first);
  ASSERT_TRUE(fs::exists(PeaksPath(wav)));
  EXPECT_EQ(PeaksPath(wav).filename(), "c.peaks");
  auto again = LoadOrComputePeaks(wav);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->customer.max, first->customer.max);
  // Another file of another length under the same name: computed afresh.
  Write(
      2000, [](std::uint64_t) -> std::int16_t { return 7; },
      [](std::uint64_t) -> std::int16_t { return 9; });
  auto changed = LoadOrComputePeaks(wav);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->frames, 2000u);
  EXPECT_EQ(FoldPeaks(changed.value(), 1).agent.max.at(0), 9);
  // A damaged cache is not trusted.
  std::ofstream(PeaksPath(wav)) << "{\"Version\":1,\"Frames\":2000";
  auto repaired = LoadOrComputePeaks(wav);
  ASSERT_TRUE(repaired);
  EXPECT_EQ(FoldPeaks(repaired.value(), 1).customer.max.at(0), 7);
}

TEST_F(RecordingPeaksTest, EmptyAndMissing) {
  const auto wav = Write(
      0, [](std::uint64_t) -> std::int16_t { return 0; },
      [](std::uint64_t) -> std::int16_t { return 0; });
  auto empty = LoadOrComputePeaks(wav);
  ASSERT_TRUE(empty);
  EXPECT_EQ(FoldPeaks(empty.value(), 100).buckets(), 0u);
  EXPECT_FALSE(LoadOrComputePeaks(dir_ / "missing.wav"));
}

}  // namespace
}  // namespace callrec::media
