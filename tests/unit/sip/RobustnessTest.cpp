// Mutated real bodies through the whole parsing chain: nothing may crash, hang
// or print, and every refusal is a 4xx with a reason. (A light, deterministic
// stand-in for a fuzzer; run it under ASan/UBSan.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "Fixtures.hpp"
#include "sip/SdpAnswer.hpp"
#include "sip/TrackMapping.hpp"

namespace callrec::sip {
namespace {

void ExpectRefusal(const SipError& error, const std::string& what) {
  EXPECT_TRUE(error.status == 400 || error.status == 413 || error.status == 415)
      << what << ": " << error.status;
  EXPECT_FALSE(error.warning.empty()) << what;
}

std::string Mutate(std::string body, std::mt19937& random) {
  static const std::string kInteresting = "<>-\n\r\"'&=;:/ \0\xff";
  const int edits = 1 + static_cast<int>(random() % 4);
  for (int e = 0; e < edits && !body.empty(); ++e) {
    const std::size_t at = random() % body.size();
    switch (random() % 4) {
      case 0:
        body[at] = kInteresting[random() % kInteresting.size()];
        break;
      case 1:
        body.erase(at, 1 + random() % 40);
        break;
      case 2:
        body.insert(at, 1 + random() % 3, kInteresting[random() % kInteresting.size()]);
        break;
      default:
        body.resize(at);  // truncation
        break;
    }
  }
  return body;
}

// CALLREC_ROBUSTNESS_ITERATIONS=100000 for a longer local run.
int Iterations() {
  const char* value = std::getenv("CALLREC_ROBUSTNESS_ITERATIONS");
  return value != nullptr ? std::atoi(value) : 400;
}

TEST(Robustness, MutatedFixturesAreParsedOrRefused) {
  std::mt19937 random(20240607);
  int accepted = 0;
  int refused = 0;
  ::testing::internal::CaptureStderr();
  for (const char* name :
       {"acme-siprec-offer.txt", "broadworks-offer.txt", "cisco-siprec-offer.txt",
        "connectel-offer.txt", "inactive-sdp-offer.txt", "non-siprec-payload.txt",
        "procomm-siprec-offer.txt", "sonus-siprec-offer.txt"}) {
    const std::string original = fixtures::ReadSiprecFixture(name);
    const std::string content_type = fixtures::ContentTypeOf(original);
    for (int i = 0; i < Iterations(); ++i) {
      const std::string body = Mutate(original, random);
      const auto split = SplitBody(content_type, body);
      if (!split) {
        ExpectRefusal(split.error(), name);
        ++refused;
        continue;
      }
      std::optional<RsMetadata> metadata;
      if (split->metadata_xml) {
        auto parsed = ParseRsMetadata(*split->metadata_xml);
        if (parsed) {
          metadata = parsed.value();
        } else {
          ExpectRefusal(parsed.error(), name);
        }
      }
      const auto offer = ParseOffer(split->sdp, "192.0.2.1");
      if (!offer) {
        ExpectRefusal(offer.error(), name);
        ++refused;
        continue;
      }
      const TrackPlan plan = MapTracks(*offer, metadata, std::regex("^sip:1"));
      ASSERT_EQ(plan.stream_sides.size(), offer->streams.size());
      std::vector<AnsweredStream> answers(offer->streams.size());
      for (std::size_t s = 0; s < answers.size(); ++s) {
        if (const auto pt = ChooseAudioCodec(offer->streams[s])) {
          answers[s] = {Direction::kRecvOnly, 40000, *pt, offer->streams[s].telephone_event_pt, {}};
        }
      }
      const std::string answer = BuildAnswer(*offer, answers, "10.1.1.1", 1, 1);
      ++accepted;
      // Our own answer must always be valid SDP... unless a mutated label or
      // format carries a line break (sofia-sip cuts values at CR/LF).
      const auto reparsed = ParseOffer(answer, "x");
      ASSERT_TRUE(reparsed) << answer;
      EXPECT_EQ(reparsed->streams.size(), offer->streams.size()) << answer;
    }
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // Both outcomes occur: the mutations are neither all harmless nor all fatal.
  EXPECT_GT(accepted, 200);
  EXPECT_GT(refused, 200);
}

}  // namespace
}  // namespace callrec::sip
