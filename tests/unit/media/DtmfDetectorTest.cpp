#include "media/DtmfDetector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "media/G711.hpp"
#include "media/RecordingSession.hpp"

namespace callrec::media {
namespace {

constexpr double kRows[] = {697, 770, 852, 941};
constexpr double kColumns[] = {1209, 1336, 1477, 1633};
constexpr double kDbm0 = 22'700;  // amplitude of a 0 dBm0 sine in 16-bit linear

double Level(double dbm0) {
  return kDbm0 * std::pow(10.0, dbm0 / 20.0);
}

// `length` samples: the digit's two tones (row and column amplitudes) from
// `from` on, silence (or `base` Hz at 8000) elsewhere.
std::vector<std::int16_t> Audio(std::size_t length, int digit, std::size_t from, std::size_t to,
                                double row_amplitude, double column_amplitude, double base = 0) {
  std::vector<std::int16_t> out(length);
  for (std::size_t i = 0; i < length; ++i) {
    double v = base > 0 ? 8000 * std::sin(2 * M_PI * base * i / 8000.0) : 0;
    if (digit >= 0 && i >= from && i < to) {
      v = row_amplitude * std::sin(2 * M_PI * kRows[digit / 4] * i / 8000.0) +
          column_amplitude * std::sin(2 * M_PI * kColumns[digit % 4] * i / 8000.0);
    }
    out[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return out;
}

// Fed in 20 ms packets as the session would; the spans found.
std::vector<DtmfDetector::Span> Detect(DtmfDetector& detector,
                                       const std::vector<std::int16_t>& audio) {
  std::vector<DtmfDetector::Span> spans;
  for (std::size_t at = 0; at + 160 <= audio.size(); at += 160) {
    for (const auto& span :
         detector.Feed(std::span(audio).subspan(at, 160), static_cast<std::int64_t>(at))) {
      spans.push_back(span);
    }
  }
  return spans;
}

TEST(DtmfDetectorTest, EveryDigitAtEveryUsualLevel) {
  for (int digit = 0; digit < 16; ++digit) {
    for (double dbm0 : {-3.0, -10.0, -20.0, -25.0}) {
      DtmfDetector detector;
      const auto audio = Audio(8000, digit, 1000, 1800, Level(dbm0), Level(dbm0));
      const auto spans = Detect(detector, audio);
      EXPECT_EQ(detector.digits(), 1u) << "digit " << digit << " at " << dbm0 << " dBm0";
      ASSERT_FALSE(spans.empty());
      EXPECT_LE(spans.front().start, 1000) << "masked from the tone's first sample";
      EXPECT_GE(spans.back().end, 1800) << "to its last";
      EXPECT_LE(spans.back().end, 1800 + 2 * 160) << "and little after";
    }
  }
}

TEST(DtmfDetectorTest, DigitsInARowAreCountedOneByOne) {
  std::vector<std::int16_t> audio;
  for (int digit : {0, 5, 10, 15, 13, 1, 1}) {  // 1 6 # D 0 2 2: equal neighbours apart
    const auto tone = Audio(1600, digit, 0, 560, Level(-10), Level(-10));
    audio.insert(audio.end(), tone.begin(), tone.end());
  }
  DtmfDetector detector;
  Detect(detector, audio);
  EXPECT_EQ(detector.digits(), 7u);
}

TEST(DtmfDetectorTest, TooQuietTooShortOrTwistedIsNoDigit) {
  struct Case {
    const char* what;
    std::size_t length;
    double row, column;
  };
  for (const Case& c :
       {Case{"-35 dBm0", 800, Level(-35), Level(-35)}, Case{"30 ms", 240, Level(-10), Level(-10)},
        Case{"row 9 dB louder", 800, Level(-5), Level(-14)},
        Case{"column 5 dB louder", 800, Level(-15), Level(-10)}}) {
    DtmfDetector detector;
    Detect(detector, Audio(4000, 5, 800, 800 + c.length, c.row, c.column));
    EXPECT_EQ(detector.digits(), 0u) << c.what;
  }
  DtmfDetector accepted;
  Detect(accepted, Audio(4000, 5, 800, 1600, Level(-4), Level(-10)));
  EXPECT_EQ(accepted.digits(), 1u) << "row 6 dB louder is within twist";
}

TEST(DtmfDetectorTest, SpeechLikeAudioMusicToneAndNoiseAreNoDigit) {
  std::mt19937 random(7);
  std::normal_distribution<double> gauss(0, 3000);
  std::vector<std::vector<std::int16_t>> corpus;
  // Noise.
  std::vector<std::int16_t> noise(16000);
  for (auto& v : noise) v = static_cast<std::int16_t>(std::clamp(gauss(random), -32768.0, 32767.0));
  corpus.push_back(noise);
  // Pure tones, among them single DTMF frequencies and the tests' own.
  for (double f : {600.0, 697.0, 941.0, 1209.0, 1400.0, 1633.0, 2200.0}) {
    corpus.push_back(Audio(16000, -1, 0, 0, 0, 0, f));
  }
  // A voiced sound: 120 Hz with falling harmonics, gliding.
  std::vector<std::int16_t> voiced(16000);
  double phase = 0;
  for (std::size_t i = 0; i < voiced.size(); ++i) {
    const double f0 = 110 + 40 * std::sin(2 * M_PI * i / 16000.0);
    phase += 2 * M_PI * f0 / 8000.0;
    double v = 0;
    for (int h = 1; h < 30; ++h) v += 6000.0 / h * std::sin(h * phase);
    voiced[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
  corpus.push_back(voiced);
  // Chords: A major, and a fifth on a DTMF row frequency.
  for (const std::vector<double>& chord :
       std::vector<std::vector<double>>{{440, 554.4, 659.3}, {697, 1045.5}, {770, 1155}}) {
    std::vector<std::int16_t> out(16000);
    for (std::size_t i = 0; i < out.size(); ++i) {
      double v = 0;
      for (double f : chord) v += 6000 * std::sin(2 * M_PI * f * i / 8000.0);
      out[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
    }
    corpus.push_back(out);
  }
  for (std::size_t k = 0; k < corpus.size(); ++k) {
    DtmfDetector detector;
    Detect(detector, corpus[k]);
    EXPECT_EQ(detector.digits(), 0u) << "corpus item " << k;
  }
}

TEST(DtmfDetectorTest, LossStartsANewBlockAndKeepsTheDigit) {
  DtmfDetector detector;
  const auto audio = Audio(4000, 9, 0, 4000, Level(-10), Level(-10));
  detector.Feed(std::span(audio).subspan(0, 160), 0);
  detector.Feed(std::span(audio).subspan(320, 160), 320);  // 160..319 lost
  detector.Feed(std::span(audio).subspan(480, 160), 480);
  EXPECT_EQ(detector.digits(), 1u);
}

// The session masks a keyed digit between a 600 Hz tone, from its first sample.
TEST(DtmfDetectorTest, TheSessionSilencesTheDigitInTheFile) {
  RecordingSession::Options options;
  options.dtmf = DtmfPolicy::kMask;
  const auto t0 = RecordingSession::Clock::now();
  RecordingSession session(options, t0, 0);
  // 1 s: 600 Hz, then digit 7 from 0.41 s to 0.53 s (mid-packet), then 600 Hz.
  const auto audio = Audio(8000, 8, 3280, 4240, Level(-10), Level(-10), 600);
  std::vector<std::uint8_t> payload(160);
  for (int n = 0; n < 50; ++n) {
    for (int i = 0; i < 160; ++i) payload[i] = EncodeMuLaw(audio[n * 160 + i]);
    const RtpPacket packet{
        0,    false,  static_cast<std::uint16_t>(n), static_cast<std::uint32_t>(n * 160),
        0x42, payload};
    session.OnPacket(Side::kCustomer, packet, t0 + std::chrono::milliseconds(n * 20));
  }
  const auto frames = session.TakeUntil(t0 + std::chrono::seconds(1));
  ASSERT_GE(frames.size(), 2u * 8000);
  for (std::size_t i = 3280; i < 4240; ++i) {
    ASSERT_EQ(frames[i * 2], 0) << "a digit's sample at " << i;
  }
  int kept = 0;
  for (std::size_t i = 0; i < 3000; ++i) kept += frames[i * 2] != 0;
  EXPECT_GT(kept, 2800) << "the audio before the digit is kept (1 in 20 samples of 600 Hz is 0)";
  kept = 0;
  for (std::size_t i = 4700; i < 8000; ++i) kept += frames[i * 2] != 0;
  EXPECT_GT(kept, 3100) << "the audio after it is kept";
  EXPECT_EQ(session.counters().dtmf_digits, 1u);
  EXPECT_EQ(session.counters().dtmf_unmasked, 0u);
  ASSERT_EQ(session.masked().size(), 1u);
  EXPECT_LE(session.masked()[0].start_sample, 3280);
  EXPECT_GE(session.masked()[0].end_sample, 4240);
}

TEST(DtmfDetectorTest, RecordPolicyKeepsTheDigit) {
  RecordingSession::Options options;  // dtmf: record
  const auto t0 = RecordingSession::Clock::now();
  RecordingSession session(options, t0, 0);
  const auto audio = Audio(1600, 8, 0, 1600, Level(-10), Level(-10));
  std::vector<std::uint8_t> payload(160);
  for (int n = 0; n < 10; ++n) {
    for (int i = 0; i < 160; ++i) payload[i] = EncodeMuLaw(audio[n * 160 + i]);
    const RtpPacket packet{
        0,    false,  static_cast<std::uint16_t>(n), static_cast<std::uint32_t>(n * 160),
        0x42, payload};
    session.OnPacket(Side::kCustomer, packet, t0 + std::chrono::milliseconds(n * 20));
  }
  const auto frames = session.TakeUntil(t0 + std::chrono::milliseconds(200));
  int kept = 0;
  for (std::size_t i = 0; i < 1600 && i * 2 < frames.size(); ++i) kept += frames[i * 2] != 0;
  EXPECT_GT(kept, 1500);
  EXPECT_EQ(session.counters().dtmf_digits, 0u);
}

// --dtmf-policy pause: the first digit closes the gate from its first sample on
// both legs; digits during that pause are heard (counted) and never written;
// a resume brings the audio back.
TEST(DtmfDetectorTest, PausePolicyPausesFromTheDigitsFirstSample) {
  RecordingSession::Options options;
  options.dtmf = DtmfPolicy::kPause;
  const auto t0 = RecordingSession::Clock::now();
  RecordingSession session(options, t0, 1'000'000);
  // 3 s of 600 Hz; digit 7 at 0.41-0.53 s, digit 3 at 1.0-1.12 s (paused by then).
  auto audio = Audio(24000, 8, 3280, 4240, Level(-10), Level(-10), 600);
  const auto second = Audio(24000, 2, 8000, 8960, Level(-10), Level(-10), 600);
  std::copy(second.begin() + 8000, second.begin() + 8960, audio.begin() + 8000);
  std::vector<std::uint8_t> payload(160);
  auto send = [&](int from, int to) {
    for (int n = from; n < to; ++n) {
      for (int i = 0; i < 160; ++i) payload[i] = EncodeMuLaw(audio[n * 160 + i]);
      for (Side side : {Side::kCustomer, Side::kAgent}) {
        const RtpPacket packet{0,
                               false,
                               static_cast<std::uint16_t>(n),
                               static_cast<std::uint32_t>(n * 160),
                               side == Side::kAgent ? 0x43u : 0x42u,
                               payload};
        session.OnPacket(side, packet, t0 + std::chrono::milliseconds(n * 20));
      }
    }
  };
  send(0, 50);
  EXPECT_FALSE(session.running());
  EXPECT_EQ(session.digits_heard(), 2u) << "the digit, heard on both legs";
  ASSERT_EQ(session.pauses().size(), 1u);
  const PauseInterval pause = session.pauses()[0];
  EXPECT_EQ(pause.reason, "dtmf");
  EXPECT_LE(pause.start_sample, 3280);
  EXPECT_GE(pause.start_sample, 3280 - 160);
  EXPECT_EQ(pause.start_wall_ms, 1'000'000 + pause.start_sample / 8);
  send(50, 100);
  EXPECT_EQ(session.digits_heard(), 4u) << "the second digit, heard while paused";
  session.Resume(t0 + std::chrono::seconds(2), 1'002'000);
  send(100, 125);
  const auto frames = session.TakeUntil(t0 + std::chrono::milliseconds(2500));
  ASSERT_GE(frames.size(), 2u * 20000);
  for (std::size_t i = static_cast<std::size_t>(pause.start_sample); i < 16000; ++i) {
    ASSERT_EQ(frames[i * 2], 0) << "customer sample " << i << " of the pause";
    ASSERT_EQ(frames[i * 2 + 1], 0) << "agent sample " << i << " of the pause";
  }
  int kept = 0;
  for (std::size_t i = 0; i < 3000; ++i) kept += frames[i * 2 + 1] != 0;
  EXPECT_GT(kept, 2800) << "the audio before the digit is kept";
  kept = 0;
  for (std::size_t i = 16100; i < 20000; ++i) kept += frames[i * 2] != 0;
  EXPECT_GT(kept, 3700) << "the audio after the resume is kept";
  EXPECT_EQ(session.pauses()[0].end_sample, 16000);
}

// RFC 4733 events are keys pressed too: under pause the first event pauses the
// recording at its timestamp, and a new event during that pause is heard.
TEST(DtmfDetectorTest, PausePolicyPausesOnTelephoneEvents) {
  RecordingSession::Options options;
  options.dtmf = DtmfPolicy::kPause;
  const auto t0 = RecordingSession::Clock::now();
  RecordingSession session(options, t0, 0);
  std::vector<std::uint8_t> audio(160, EncodeMuLaw(8000));
  const std::uint8_t event[4] = {5, 10, 0, 160};  // digit 5, duration growing
  const std::span<const std::uint8_t> event_payload(event, 4);
  std::uint16_t seq = 0;
  auto at = [&](int ms) { return t0 + std::chrono::milliseconds(ms); };
  for (int n = 0; n < 10; ++n) {
    session.OnPacket(Side::kCustomer,
                     RtpPacket{0, false, seq++, static_cast<std::uint32_t>(n * 160), 0x42, audio},
                     at(n * 20));
  }
  EXPECT_TRUE(session.running());
  // One event (three packets, the same timestamp) at 200 ms.
  for (int k = 0; k < 3; ++k) {
    session.OnPacket(Side::kCustomer, RtpPacket{101, k == 0, seq++, 1600, 0x42, event_payload},
                     at(200 + k * 20));
  }
  EXPECT_FALSE(session.running());
  EXPECT_EQ(session.digits_heard(), 1u);
  ASSERT_EQ(session.pauses().size(), 1u);
  EXPECT_EQ(session.pauses()[0].start_sample, 1600);
  EXPECT_EQ(session.pauses()[0].reason, "dtmf");
  // A second event during the policy's pause: heard, not written.
  session.OnPacket(Side::kCustomer, RtpPacket{101, true, seq++, 4000, 0x42, event_payload},
                   at(500));
  EXPECT_EQ(session.digits_heard(), 2u);
}

}  // namespace
}  // namespace callrec::media
