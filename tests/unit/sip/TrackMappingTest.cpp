#include "sip/TrackMapping.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"

namespace callrec::sip {
namespace {

using fixtures::MetadataOf;
using fixtures::OfferOf;
using Sides = std::vector<TrackSide>;
constexpr TrackSide kC = TrackSide::kCustomer;
constexpr TrackSide kA = TrackSide::kAgent;
constexpr TrackSide kN = TrackSide::kNone;

TrackPlan MapFixture(const char* name, const std::optional<std::regex>& agent_match = {}) {
  return MapTracks(OfferOf(name), MetadataOf(name), agent_match);
}

TEST(TrackMapping, CiscoDefaultFirstParticipantIsCustomer) {
  const TrackPlan plan = MapFixture("cisco-siprec-offer.txt");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
  EXPECT_EQ(plan.rule, "default");
  ASSERT_TRUE(plan.customer && plan.agent);
  EXPECT_EQ(plan.customer->aor, "sip:7301@35.162.237.204");
  EXPECT_EQ(plan.agent->aor, "sip:7300@35.162.237.204");
  EXPECT_EQ(plan.agent_id, "7300");
  EXPECT_FALSE(plan.by_stream_order);
}

TEST(TrackMapping, AcmeCallingPartyIsCustomer) {
  const TrackPlan plan = MapFixture("acme-siprec-offer.txt");
  EXPECT_EQ(plan.rule, "calling-party");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
  EXPECT_EQ(plan.customer->aor, "sip:9000@192.168.50.102");
  EXPECT_EQ(plan.agent_id, "1002");
}

TEST(TrackMapping, AcmeCallingPartyHintFollowsTheParticipantNotTheOrder) {
  // The same document with callingParty swapped: the second participant (who
  // sends label 16777228) is the caller, so the second m-line is the customer.
  auto metadata = MetadataOf("acme-siprec-offer.txt");
  ASSERT_TRUE(metadata);
  metadata->participants[0].calling_party = false;
  metadata->participants[1].calling_party = true;
  const TrackPlan plan = MapTracks(OfferOf("acme-siprec-offer.txt"), metadata, std::nullopt);
  EXPECT_EQ(plan.stream_sides, (Sides{kA, kC}));
  EXPECT_EQ(plan.agent_id, "9000");
}

TEST(TrackMapping, SonusLabelOneIsNotTheCaller) {
  // Extension 8500 (the From) sends the stream labelled 2: the second m-line is
  // the customer's.
  const TrackPlan plan = MapFixture("sonus-siprec-offer.txt");
  EXPECT_EQ(plan.rule, "call-data");
  EXPECT_EQ(plan.stream_sides, (Sides{kA, kC}));
  EXPECT_EQ(plan.customer->name, "Extension 8500");
  EXPECT_EQ(plan.agent_id, "2249888012");
}

TEST(TrackMapping, SonusCallDataToAloneDecides) {
  auto metadata = MetadataOf("sonus-siprec-offer.txt");
  metadata->call_from = "";
  metadata->call_to = "<sip:2249888500@172.16.198.55>";  // the first participant is called
  const TrackPlan plan = MapTracks(OfferOf("sonus-siprec-offer.txt"), metadata, std::nullopt);
  EXPECT_EQ(plan.rule, "call-data");
  EXPECT_EQ(plan.agent_id, "2249888500");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
}

TEST(TrackMapping, ConnectelByStreamOrder) {
  for (const char* name : {"connectel-offer.txt", "connectel-offer2.txt", "connectel-offer3.txt"}) {
    const TrackPlan plan = MapFixture(name);
    EXPECT_TRUE(plan.by_stream_order) << name;
    EXPECT_EQ(plan.rule, "default");
    EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
    EXPECT_EQ(plan.customer->aor, "sip:0771121212@52.57.92.239");
    EXPECT_EQ(plan.agent_id, "0760516936");
  }
}

TEST(TrackMapping, ProcommWordLabels) {
  const TrackPlan plan = MapFixture("procomm-siprec-offer.txt");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
  EXPECT_EQ(plan.customer->aor, "sip:016190200@87.252.209.116");
  EXPECT_EQ(plan.agent_id, "Extension-016190619");
}

TEST(TrackMapping, InactiveEmptyAssociationsFallBackToOrder) {
  const TrackPlan plan = MapFixture("inactive-sdp-offer.txt");
  EXPECT_TRUE(plan.by_stream_order);
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
  EXPECT_EQ(plan.agent_id, "+972546136443");
}

TEST(TrackMapping, BroadWorksSingleStreamWithoutMetadataIsCustomer) {
  const TrackPlan plan = MapFixture("broadworks-offer.txt");
  EXPECT_EQ(plan.rule, "single-stream");
  EXPECT_EQ(plan.stream_sides, Sides{kC});
  EXPECT_FALSE(plan.agent);
  EXPECT_EQ(plan.agent_id, "");
}

TEST(TrackMapping, AgentMatchOnAor) {
  const TrackPlan plan = MapFixture("cisco-siprec-offer.txt", std::regex("^sip:7301@"));
  EXPECT_EQ(plan.rule, "agent-match");
  EXPECT_EQ(plan.stream_sides, (Sides{kA, kC}));
  EXPECT_EQ(plan.agent_id, "7301");
  EXPECT_EQ(plan.customer->aor, "sip:7300@35.162.237.204");
}

TEST(TrackMapping, AgentMatchBeatsCallingPartyHint) {
  // Outbound call: the agent (9000) is the calling party.
  const TrackPlan plan = MapFixture("acme-siprec-offer.txt", std::regex("9000"));
  EXPECT_EQ(plan.rule, "agent-match");
  EXPECT_EQ(plan.stream_sides, (Sides{kA, kC}));
  EXPECT_EQ(plan.agent_id, "9000");
  EXPECT_EQ(plan.customer->aor, "sip:1002@192.168.50.10");
}

TEST(TrackMapping, AgentMatchOnName) {
  const TrackPlan plan = MapFixture("sonus-siprec-offer.txt", std::regex("^Extension "));
  EXPECT_EQ(plan.rule, "agent-match");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));
  EXPECT_EQ(plan.agent_id, "2249888500");
}

TEST(TrackMapping, AgentNotPresentYetWaits) {
  const TrackPlan plan = MapFixture("cisco-siprec-offer.txt", std::regex("^sip:agent-"));
  EXPECT_EQ(plan.rule, "agent-not-present");
  EXPECT_EQ(plan.stream_sides, (Sides{kC, kA}));  // the other side (IVR, queue) on the agent track
  EXPECT_FALSE(plan.agent);
  EXPECT_EQ(plan.agent_id, "");
  EXPECT_EQ(plan.customer->aor, "sip:7301@35.162.237.204");

  // The customer is still the caller when a client says who that is.
  const TrackPlan sonus = MapFixture("sonus-siprec-offer.txt", std::regex("nobody"));
  EXPECT_EQ(sonus.stream_sides, (Sides{kA, kC}));
  EXPECT_EQ(sonus.customer->name, "Extension 8500");
}

Offer Streams(const std::vector<std::pair<std::string, std::string>>& media_labels) {
  Offer offer;
  std::uint16_t port = 4000;
  for (const auto& [media, label] : media_labels) {
    OfferedStream s;
    s.media = media;
    s.label = label;
    s.port = port;
    port = static_cast<std::uint16_t>(port + 2);
    offer.streams.push_back(s);
  }
  return offer;
}

RsMetadata Conference() {
  RsMetadata m;
  m.participants = {{"p1", "sip:+4930111@pbx", "Caller", {"s1"}, {}, {}},
                    {"p2", "sip:agent-17@cc.example", "Agent 17", {"s2", "s4"}, {}, {}},
                    {"p3", "sip:supervisor@cc.example", "Boss", {"s3"}, {}, {}}};
  m.stream_labels = {{"s1", "10"}, {"s2", "20"}, {"s3", "30"}, {"s4", "40"}};
  return m;
}

TEST(TrackMapping, OneStreamPerSideAndNonAudioIgnored) {
  const Offer offer = Streams(
      {{"video", "99"}, {"audio", "30"}, {"audio", "40"}, {"audio", "10"}, {"audio", "20"}});
  const TrackPlan plan = MapTracks(offer, Conference(), std::regex("^sip:agent-"));
  EXPECT_EQ(plan.rule, "agent-match");
  // video: none; supervisor: none; agent's first stream (40) taken, its second (20) none.
  EXPECT_EQ(plan.stream_sides, (Sides{kN, kN, kA, kC, kN}));
  EXPECT_EQ(plan.agent_id, "agent-17");
}

TEST(TrackMapping, UnmatchedLabelTakesTheFreeSide) {
  RsMetadata m = Conference();
  m.participants.pop_back();
  const TrackPlan plan = MapTracks(Streams({{"audio", "unknown"}, {"audio", "10"}}), m, {});
  EXPECT_EQ(plan.stream_sides, (Sides{kA, kC}));
}

TEST(TrackMapping, SingleStreamOfTheAgent) {
  const TrackPlan plan = MapTracks(Streams({{"audio", "20"}}), Conference(), std::regex("agent"));
  EXPECT_EQ(plan.stream_sides, Sides{kA});
  EXPECT_EQ(plan.rule, "agent-match");
}

TEST(TrackMapping, NoMetadataByOrderAndDisabledStreams) {
  Offer offer = Streams({{"audio", ""}, {"audio", ""}, {"audio", ""}, {"audio", ""}});
  offer.streams[0].port = 0;  // disabled by the SRC
  const TrackPlan plan = MapTracks(offer, std::nullopt, std::regex("x"));
  EXPECT_EQ(plan.rule, "no-metadata");
  EXPECT_EQ(plan.stream_sides, (Sides{kN, kC, kA, kN}));
  EXPECT_FALSE(plan.customer);
}

TEST(TrackMapping, AorUser) {
  EXPECT_EQ(AorUser("sip:1002@192.168.50.10"), "1002");
  EXPECT_EQ(AorUser("SIPS:alice@example.com;transport=tls"), "alice");
  EXPECT_EQ(AorUser("2249888012@172.16.195.72"), "2249888012");
  EXPECT_EQ(AorUser("tel:+4930123;phone-context=example.com"), "+4930123");
  EXPECT_EQ(AorUser("sip:+4930123;npdi@host;user=phone"), "+4930123");
  EXPECT_EQ(AorUser("\"Extension 8500\" <sip:2249888500@172.16.198.55>;tag=x"), "2249888500");
  EXPECT_EQ(AorUser("1002"), "1002");
  EXPECT_EQ(AorUser(""), "");
}

}  // namespace
}  // namespace callrec::sip
