// callgen's key presses: the plan (--dtmf DIGITS@SECONDS), the in-band tones
// the packetizer puts in the customer's audio (measured here with a Goertzel
// of the test's own, not the server's DtmfDetector), and the RFC 4733 packets.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "callgen/AudioClip.hpp"
#include "callgen/DtmfPlan.hpp"
#include "callgen/DtmfSignal.hpp"
#include "callgen/RtpPacketizer.hpp"
#include "callgen/SdpAnswer.hpp"
#include "callgen/SiprecOffer.hpp"
#include "media/G711.hpp"
#include "media/RtpPacket.hpp"
#include "media/TelephoneEvent.hpp"

namespace callrec::callgen {
namespace {

constexpr std::array<double, 8> kDtmfHz = {697, 770, 852, 941, 1209, 1336, 1477, 1633};

// The amplitude of `hz` in `samples` (that of a pure sine at that frequency).
double Amplitude(const std::vector<double>& samples, double hz) {
  const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * hz / 8000.0);
  double s1 = 0, s2 = 0;
  for (const double x : samples) {
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2.0 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(samples.size());
}

// One packet as sent: its bytes, and the parsed view of them.
struct Sent {
  std::vector<std::uint8_t> bytes;
  media::RtpPacket packet{};
};

// Every packet of slots [from, to), in the order the sender sends them.
std::vector<Sent> BuildSlots(RtpPacketizer& p, std::int64_t from, std::int64_t to) {
  std::vector<Sent> out;
  for (std::int64_t slot = from; slot < to; ++slot) {
    for (std::size_t index = 0;; ++index) {
      std::array<std::uint8_t, kMaxRtpPacket> buffer{};
      const std::size_t size = p.Build(slot, index, buffer);
      if (size == 0) break;
      out.push_back(Sent{std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + size), {}});
    }
  }
  for (auto& sent : out) {
    auto parsed = media::ParseRtp(sent.bytes);
    EXPECT_TRUE(parsed.has_value());
    if (parsed) sent.packet = *parsed;
  }
  return out;
}

// The decoded audio of the µ-law packets among `sent`, back to back.
std::vector<double> Audio(const std::vector<Sent>& sent) {
  std::vector<double> samples;
  for (const auto& s : sent) {
    if (s.packet.payload_type != 0) continue;
    for (const std::uint8_t byte : s.packet.payload) samples.push_back(media::DecodeMuLaw(byte));
  }
  return samples;
}

std::shared_ptr<const AudioClip> Tone600() {
  return std::make_shared<const AudioClip>(ToneClip(600, 1.0, media::Codec::kPcmu));
}

std::shared_ptr<const AudioClip> Silence() {
  return std::make_shared<const AudioClip>(AudioClip{media::Codec::kPcmu, {0xFF}});
}

std::shared_ptr<const DtmfSchedule> Schedule(const std::string& digits, double at, DtmfMode mode,
                                             double level_dbm0 = -10) {
  DtmfOptions options;
  options.sequences = {DtmfSequence{digits, at}};
  options.mode = mode;
  options.level_dbm0 = level_dbm0;
  return std::make_shared<const DtmfSchedule>(MakeDtmfSchedule(options, media::Codec::kPcmu));
}

TEST(DtmfPlan, ParsesDigitsAtSeconds) {
  std::string reason;
  const auto card = ParseDtmfSequence("4111111111111111@3.0", reason);
  ASSERT_TRUE(card.has_value()) << reason;
  EXPECT_EQ(card->digits, "4111111111111111");
  EXPECT_DOUBLE_EQ(card->at, 3.0);
  EXPECT_TRUE(ParseDtmfSequence("*#0AbcD@0.013", reason).has_value()) << reason;
  for (const char* bad : {"12E4@1", "1234", "@1.0", "12@", "12@-1", "12@1s"}) {
    EXPECT_FALSE(ParseDtmfSequence(bad, reason).has_value()) << bad;
  }
  EXPECT_EQ(DtmfEventCode('0'), 0);
  EXPECT_EQ(DtmfEventCode('*'), 10);
  EXPECT_EQ(DtmfEventCode('#'), 11);
  EXPECT_EQ(DtmfEventCode('D'), 15);
  EXPECT_EQ(FrequenciesOf(DtmfEventCode('0')).low, 941);
  EXPECT_EQ(FrequenciesOf(DtmfEventCode('0')).high, 1336);
  EXPECT_EQ(FrequenciesOf(DtmfEventCode('C')).low, 852);
  EXPECT_EQ(FrequenciesOf(DtmfEventCode('C')).high, 1633);
}

TEST(DtmfPlan, DigitsFollowEachOtherByDurationAndGap) {
  DtmfOptions options;
  options.sequences = {DtmfSequence{"12", 2.0}, DtmfSequence{"4", 1.013}};
  options.duration_ms = 100;
  options.gap_ms = 60;
  const auto presses = PlanKeyPresses(options);
  ASSERT_EQ(presses.size(), 3u);
  EXPECT_EQ(presses[0].start, 8104);  // 1.013 s: mid-packet, in samples
  EXPECT_EQ(presses[0].event, 4);
  EXPECT_EQ(presses[1].start, 16000);
  EXPECT_EQ(presses[1].samples, 800);
  EXPECT_EQ(presses[2].start, 16000 + 1280);
  const auto offsets = KeyPressOffsets(options);
  ASSERT_EQ(offsets.size(), 3u);
  EXPECT_DOUBLE_EQ(offsets[0], 1.013);
  EXPECT_DOUBLE_EQ(offsets[2], 2.16);
}

TEST(DtmfPlan, LevelsInDbm0) {
  const auto schedule = Schedule("1", 1.0, DtmfMode::kInband, -25);
  // 0 dBm0 is 3.17 dB below µ-law's full-scale sine (32124).
  EXPECT_NEAR(schedule->amplitude, 22661 * std::pow(10.0, -25 / 20.0), 5);
  EXPECT_EQ(schedule->volume, 25);
}

TEST(DtmfSignal, RaisedCosineEdges) {
  EXPECT_LT(DtmfToneWeight(0, 640), 0.01);
  EXPECT_NEAR(DtmfToneWeight(kDtmfRampSamples / 2, 640), 0.5, 0.05);
  EXPECT_EQ(DtmfToneWeight(kDtmfRampSamples, 640), 1.0);
  EXPECT_EQ(DtmfToneWeight(600, 640), 1.0);
  EXPECT_LT(DtmfToneWeight(639, 640), 0.01);
  EXPECT_EQ(DtmfToneWeight(640, 640), 0.0);
}

TEST(DtmfInband, BothTonesAtThePlannedOffsetAndNothingElse) {
  RtpPacketizer p(RtpIdentity{7, 0, 0, 0}, Tone600(), 0);
  p.set_dtmf(Schedule("5", 1.0, DtmfMode::kInband), std::nullopt);  // 770 + 1336 Hz
  const auto sent = BuildSlots(p, 48, 56);
  ASSERT_EQ(sent.size(), 8u) << "one audio packet a slot, no event";
  const auto audio = Audio(sent);
  ASSERT_EQ(audio.size(), 8u * 160);
  // Slots 48-49: the customer's 600 Hz, no DTMF.
  const std::vector<double> before(audio.begin(), audio.begin() + 320);
  EXPECT_GT(Amplitude(before, 600), 9000);
  for (const double hz : kDtmfHz) EXPECT_LT(Amplitude(before, hz), 300) << hz;
  // Slots 50-53 (1.00-1.08 s), past the ramps: the two tones at -10 dBm0
  // (7166 in 16-bit linear) and the customer's audio gone.
  const std::vector<double> key(audio.begin() + 320 + kDtmfRampSamples,
                                audio.begin() + 320 + 640 - kDtmfRampSamples);
  const double level = 22661 * std::pow(10.0, -10 / 20.0);
  EXPECT_NEAR(Amplitude(key, 770), level, level * 0.05);
  EXPECT_NEAR(Amplitude(key, 1336), level, level * 0.05);
  // The keypad mutes the microphone: past the ramp, the same bytes over silence.
  RtpPacketizer quiet(RtpIdentity{7, 0, 0, 0}, Silence(), 0);
  quiet.set_dtmf(Schedule("5", 1.0, DtmfMode::kInband), std::nullopt);
  const auto over_silence = Audio(BuildSlots(quiet, 48, 56));
  for (std::size_t i = 320 + kDtmfRampSamples; i < 960 - kDtmfRampSamples; ++i) {
    ASSERT_EQ(audio[i], over_silence[i]) << i;
  }
  for (const double hz : {697.0, 852.0, 941.0, 1209.0, 1477.0, 1633.0}) {
    EXPECT_LT(Amplitude(key, hz), level * 0.1) << hz;
  }
  // Slots 54-55: the 600 Hz again, no DTMF.
  const std::vector<double> after(audio.begin() + 960, audio.end());
  EXPECT_GT(Amplitude(after, 600), 9000);
  for (const double hz : kDtmfHz) EXPECT_LT(Amplitude(after, hz), 300) << hz;
}

TEST(DtmfInband, ADigitStartsMidPacket) {
  // 1.013 s is sample 104 of slot 50.
  auto clip = Tone600();
  RtpPacketizer p(RtpIdentity{7, 0, 0, 0}, clip, 0);
  p.set_dtmf(Schedule("#", 1.013, DtmfMode::kInband), std::nullopt);  // 941 + 1477 Hz
  const auto sent = BuildSlots(p, 50, 56);
  ASSERT_EQ(sent.size(), 6u);
  // Before the press the packet is the clip, byte for byte.
  for (std::size_t i = 0; i < 104; ++i) {
    ASSERT_EQ(sent[0].packet.payload[i], clip->payload[50 * 160 % clip->payload.size() + i]) << i;
  }
  const auto audio = Audio(sent);
  const std::vector<double> key(audio.begin() + 104 + kDtmfRampSamples,
                                audio.begin() + 104 + 640 - kDtmfRampSamples);
  const double level = 22661 * std::pow(10.0, -10 / 20.0);
  EXPECT_NEAR(Amplitude(key, 941), level, level * 0.05);
  EXPECT_NEAR(Amplitude(key, 1477), level, level * 0.05);
  // The first 20 ms of the press hold it already (the onset is where it was
  // planned, not at the next packet); the 20 ms before it do not.
  const std::vector<double> onset(audio.begin() + 104, audio.begin() + 264);
  EXPECT_GT(Amplitude(onset, 941), level * 0.8);
  EXPECT_GT(Amplitude(onset, 1477), level * 0.8);
  RtpPacketizer earlier(RtpIdentity{7, 0, 0, 0}, Silence(), 0);
  earlier.set_dtmf(Schedule("#", 1.013, DtmfMode::kInband), std::nullopt);
  const auto lead = Audio(BuildSlots(earlier, 49, 51));
  const std::vector<double> head(lead.begin() + 104, lead.begin() + 264);
  EXPECT_LT(Amplitude(head, 941), 30);
  EXPECT_LT(Amplitude(head, 1477), 30);
  // The tones end 80 ms later (sample 744): the clip is back after the ramp.
  for (std::size_t i = 744; i < 960; ++i) {
    ASSERT_EQ(sent[i / 160].packet.payload[i % 160],
              clip->payload[(50 * 160 + i) % clip->payload.size()])
        << i;
  }
}

TEST(DtmfInband, RecorderAnswerWithoutEventsChangesNothingForTones) {
  // both, but the answer refused telephone-event: the tones alone.
  RtpPacketizer p(RtpIdentity{7, 0, 0, 0}, Tone600(), 0);
  p.set_dtmf(Schedule("1", 1.0, DtmfMode::kBoth), std::nullopt);
  const auto sent = BuildSlots(p, 49, 55);
  EXPECT_EQ(sent.size(), 6u);
  for (const auto& s : sent) EXPECT_EQ(s.packet.payload_type, 0);
}

TEST(DtmfRfc4733, EventPacketsReplaceTheAudioOfTheKeyPress) {
  const RtpIdentity id{0xCAFE, 65530, 1000, 0};
  RtpPacketizer p(id, Tone600(), 0);
  p.set_dtmf(Schedule("#", 1.0, DtmfMode::kRfc4733), std::uint8_t{101});
  const auto sent = BuildSlots(p, 49, 56);
  // 49 audio; 50, 51, 52 one update each; 53 the end packet three times; 54, 55 audio.
  ASSERT_EQ(sent.size(), 1u + 3u + 3u + 2u);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].packet.ssrc, 0xCAFEu);
    EXPECT_EQ(sent[i].packet.sequence, static_cast<std::uint16_t>(65530 + i)) << i;
  }
  EXPECT_EQ(sent[0].packet.payload_type, 0);
  EXPECT_EQ(sent[0].packet.timestamp, 1000u + 49 * 160);
  std::vector<media::TelephoneEvent> events;
  for (std::size_t i = 1; i <= 6; ++i) {
    const auto& packet = sent[i].packet;
    EXPECT_EQ(packet.payload_type, 101) << i;
    EXPECT_EQ(packet.payload.size(), 4u);
    EXPECT_EQ(packet.timestamp, 1000u + 8000) << "every packet of the event: its start";
    EXPECT_EQ(packet.marker, i == 1) << i;
    auto event = media::ParseTelephoneEvent(packet.payload);
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->event, 11);
    EXPECT_EQ(event->volume, 10);
    EXPECT_EQ(packet.payload[1] & 0x40, 0) << "R bit";
    events.push_back(*event);
  }
  EXPECT_EQ(events[0].duration, 160);
  EXPECT_EQ(events[1].duration, 320);
  EXPECT_EQ(events[2].duration, 480);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_FALSE(events[i].end) << i;
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_TRUE(events[i].end) << i;
    EXPECT_EQ(events[i].duration, 640) << i;
  }
  EXPECT_EQ(sent[7].packet.payload_type, 0);
  EXPECT_EQ(sent[7].packet.timestamp, 1000u + 54 * 160);
  EXPECT_FALSE(sent[7].packet.marker) << "the audio goes on without a gap";
  // The audio sent around the event is the customer's, untouched.
  for (const double hz : kDtmfHz) EXPECT_LT(Amplitude(Audio(sent), hz), 300) << hz;
  EXPECT_EQ(p.events_built(), 6u);
}

TEST(DtmfRfc4733, MidPacketStartIsTheEventsTimestamp) {
  RtpPacketizer p(RtpIdentity{1, 0, 5000, 0}, Tone600(), 0);
  p.set_dtmf(Schedule("9", 1.013, DtmfMode::kRfc4733), std::uint8_t{96});
  const auto sent = BuildSlots(p, 50, 56);
  // The press covers samples 8104-8744: slots 50-54, no audio for them.
  ASSERT_EQ(sent.size(), 4u + 3u + 1u);
  std::vector<std::uint16_t> durations;
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(sent[i].packet.payload_type, 96);
    EXPECT_EQ(sent[i].packet.timestamp, 5000u + 8104);
    durations.push_back(media::ParseTelephoneEvent(sent[i].packet.payload)->duration);
  }
  EXPECT_EQ(durations, (std::vector<std::uint16_t>{56, 216, 376, 536, 640, 640, 640}));
  EXPECT_TRUE(sent[0].packet.marker);
  EXPECT_EQ(sent[7].packet.payload_type, 0);
}

TEST(DtmfRfc4733, BothSendsTheTonesAndTheEvents) {
  RtpPacketizer p(RtpIdentity{1, 0, 0, 0}, Tone600(), 0);
  p.set_dtmf(Schedule("1", 1.0, DtmfMode::kBoth), std::uint8_t{101});
  const auto sent = BuildSlots(p, 50, 54);
  // Each slot: the audio (with the tones), then its event packet(s).
  ASSERT_EQ(sent.size(), 4u + 4u + 2u);
  EXPECT_EQ(sent[0].packet.payload_type, 0);
  EXPECT_EQ(sent[1].packet.payload_type, 101);
  EXPECT_TRUE(sent[1].packet.marker);
  const auto audio = Audio(sent);
  ASSERT_EQ(audio.size(), 640u);
  const std::vector<double> key(audio.begin() + kDtmfRampSamples, audio.end() - kDtmfRampSamples);
  EXPECT_GT(Amplitude(key, 697), 6000);
  EXPECT_GT(Amplitude(key, 1209), 6000);
}

TEST(DtmfOffer, TelephoneEventOfferedAndAnswered) {
  SdpOffer offer;
  offer.local_ip = "127.0.0.1";
  offer.streams = {{"1", "c", 40000, {}, true}, {"2", "a", 40002, {}, false}};
  const std::string sdp = BuildSdp(offer);
  EXPECT_NE(sdp.find("m=audio 40000 RTP/AVP 0 101\r\n"), std::string::npos) << sdp;
  EXPECT_NE(sdp.find("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"), std::string::npos)
      << sdp;
  EXPECT_NE(sdp.find("m=audio 40002 RTP/AVP 0\r\n"), std::string::npos) << sdp;
  // The answer callrec-server gives (sip/SdpAnswer.cpp): the offered type, events 0-15.
  auto answer = ParseAnswerSdp(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=label:1\r\na=recvonly\r\n"
      "m=audio 5002 RTP/AVP 0\r\na=label:2\r\na=recvonly\r\n");
  ASSERT_TRUE(answer.ok()) << answer.error();
  EXPECT_EQ((*answer)[0].telephone_event_pt, std::optional<std::uint8_t>(101));
  EXPECT_FALSE((*answer)[1].telephone_event_pt.has_value());
}

}  // namespace
}  // namespace callrec::callgen
