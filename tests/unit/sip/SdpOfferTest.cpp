#include "sip/SdpOffer.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"
#include "sip/SdpAnswer.hpp"

namespace callrec::sip {
namespace {

using fixtures::OfferOf;
using fixtures::SplitFixture;

std::vector<std::string> Labels(const Offer& offer) {
  std::vector<std::string> labels;
  for (const auto& s : offer.streams) labels.push_back(s.label);
  return labels;
}

std::vector<std::string> CodecNames(const OfferedStream& stream) {
  std::vector<std::string> names;
  for (const auto& c : stream.codecs) names.push_back(c.name + "/" + std::to_string(c.clock_rate));
  return names;
}

TEST(SdpOffer, Cisco) {
  const Offer offer = OfferOf("cisco-siprec-offer.txt");
  EXPECT_EQ(offer.origin_session_id, "1247");
  EXPECT_EQ(offer.origin_version, 9367u);
  ASSERT_EQ(offer.streams.size(), 2u);
  EXPECT_EQ(Labels(offer), (std::vector<std::string>{"1", "2"}));
  const OfferedStream& first = offer.streams[0];
  EXPECT_EQ(first.media, "audio");
  EXPECT_EQ(first.address, "172.31.93.236");
  EXPECT_EQ(first.port, 10292);
  EXPECT_EQ(offer.streams[1].port, 10294);
  EXPECT_EQ(first.protocol, "RTP/AVP");
  EXPECT_EQ(first.direction, Direction::kSendOnly);
  EXPECT_EQ(CodecNames(first), (std::vector<std::string>{"PCMU/8000", "TELEPHONE-EVENT/8000"}));
  EXPECT_EQ(first.telephone_event_pt, 101);
  EXPECT_EQ(first.formats, (std::vector<std::string>{"0", "101"}));
}

TEST(SdpOffer, AcmeLargeLabelsSessionConnection) {
  const Offer offer = OfferOf("acme-siprec-offer.txt");
  ASSERT_EQ(offer.streams.size(), 2u);
  EXPECT_EQ(Labels(offer), (std::vector<std::string>{"16777227", "16777228"}));
  EXPECT_EQ(offer.streams[0].address, "192.168.50.140");  // session-level c=
  EXPECT_EQ(offer.streams[1].port, 20110);
  EXPECT_FALSE(offer.streams[0].telephone_event_pt);
}

TEST(SdpOffer, ConnectelWithoutSessionConnectionOrTime) {
  for (const char* name : {"connectel-offer.txt", "connectel-offer2.txt", "connectel-offer3.txt"}) {
    const auto offer = ParseOffer(SplitFixture(name).sdp, "198.51.100.7");
    ASSERT_TRUE(offer) << name << ": " << offer.error().warning;
    ASSERT_EQ(offer->streams.size(), 2u);
    // No c= anywhere: the media comes from where the signalling came from.
    EXPECT_EQ(offer->streams[0].address, "198.51.100.7");
    EXPECT_EQ(offer->streams[0].port, 35011);
    EXPECT_EQ(
        CodecNames(offer->streams[0]),
        (std::vector<std::string>{"PCMU/8000", "PCMA/8000", "GSM/8000", "TELEPHONE-EVENT/8000"}));
    EXPECT_EQ(CodecNames(offer->streams[1]),
              (std::vector<std::string>{"PCMA/8000", "PCMU/8000", "TELEPHONE-EVENT/8000"}));
    EXPECT_EQ(offer->streams[1].direction, Direction::kSendOnly);
  }
}

TEST(SdpOffer, SonusMediaLevelConnectionOnly) {
  const Offer offer = OfferOf("sonus-siprec-offer.txt");
  ASSERT_EQ(offer.streams.size(), 2u);
  EXPECT_EQ(offer.streams[0].address, "172.16.169.132");
  EXPECT_EQ(offer.streams[0].port, 48932);
  EXPECT_EQ(offer.streams[1].port, 48926);
  EXPECT_EQ(Labels(offer), (std::vector<std::string>{"1", "2"}));
}

TEST(SdpOffer, ProcommWordLabels) {
  const Offer offer = OfferOf("procomm-siprec-offer.txt");
  EXPECT_EQ(Labels(offer), (std::vector<std::string>{"a_leg", "b_leg"}));
  EXPECT_EQ(CodecNames(offer.streams[0]), std::vector<std::string>{"PCMA/8000"});
  EXPECT_EQ(ChooseAudioCodec(offer.streams[0]), 8);
  EXPECT_EQ(offer.streams[1].direction, Direction::kSendOnly);  // a=direction:both is not one
}

TEST(SdpOffer, BroadWorksSingleStream) {
  const Offer offer = OfferOf("broadworks-offer.txt");
  ASSERT_EQ(offer.streams.size(), 1u);
  EXPECT_EQ(offer.streams[0].address, "X.X.X.X");  // as sent (anonymised capture)
  EXPECT_EQ(CodecNames(offer.streams[0]),
            (std::vector<std::string>{"PCMA/8000", "TELEPHONE-EVENT/8000", "PCMU/8000", "G722/8000",
                                      "G729/8000"}));
  EXPECT_EQ(ChooseAudioCodec(offer.streams[0]), 0);  // PCMU preferred over the first-listed PCMA
  EXPECT_EQ(offer.streams[0].telephone_event_pt, 101);
}

TEST(SdpOffer, InactiveStreams) {
  const Offer offer = OfferOf("inactive-sdp-offer.txt");
  ASSERT_EQ(offer.streams.size(), 2u);
  for (const auto& s : offer.streams) EXPECT_EQ(s.direction, Direction::kInactive);
}

TEST(SdpOffer, NonSiprecPayloadStillParses) {
  const Offer offer = OfferOf("non-siprec-payload.txt");
  ASSERT_EQ(offer.streams.size(), 1u);
  EXPECT_EQ(offer.streams[0].label, "1");
}

TEST(SdpOffer, StaticPayloadTypesAndDirectionFallback) {
  const auto offer = ParseOffer(
      "v=0\r\no=- 5 6 IN IP6 ::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\na=recvonly\r\n"
      "m=audio 4000 RTP/AVP 18 8 0 96\r\n"
      "m=audio 4002 RTP/AVP 0\r\na=sendonly\r\n"
      "m=video 0 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n"
      "m=application 5000 TCP/BFCP *\r\n",
      "192.0.2.1");
  ASSERT_TRUE(offer) << offer.error().warning;
  ASSERT_EQ(offer->streams.size(), 4u);
  const auto& first = offer->streams[0];
  EXPECT_EQ(first.address, "2001:db8::1");
  EXPECT_EQ(CodecNames(first), (std::vector<std::string>{"G729/8000", "PCMA/8000", "PCMU/8000"}));
  EXPECT_EQ(first.direction, Direction::kRecvOnly);  // session level
  EXPECT_EQ(ChooseAudioCodec(first), 0);
  EXPECT_EQ(offer->streams[1].direction, Direction::kSendOnly);  // media level wins
  EXPECT_EQ(offer->streams[2].media, "video");
  EXPECT_EQ(offer->streams[2].port, 0);
  EXPECT_FALSE(ChooseAudioCodec(offer->streams[2]));
  EXPECT_EQ(offer->streams[3].protocol, "TCP/BFCP");
  EXPECT_TRUE(offer->streams[3].codecs.empty());
  EXPECT_EQ(offer->streams[3].formats, std::vector<std::string>{"*"});
}

TEST(SdpOffer, RtpProfilesSofiaSipDoesNotKnow) {
  // sofia-sip 1.12 leaves RTP/AVPF formats unparsed: codecs come from a=rtpmap
  // and the static payload types all the same.
  const auto offer = ParseOffer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVPF 96 8 101 97\r\na=rtpmap:96 opus/48000/2\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=rtpmap:97 broken\r\n",
      "192.0.2.1");
  ASSERT_TRUE(offer) << offer.error().warning;
  const OfferedStream& s = offer->streams[0];
  EXPECT_EQ(s.protocol, "RTP/AVPF");
  EXPECT_EQ(s.formats, (std::vector<std::string>{"96", "8", "101", "97"}));
  EXPECT_EQ(CodecNames(s),
            (std::vector<std::string>{"OPUS/48000", "PCMA/8000", "TELEPHONE-EVENT/8000"}));
  EXPECT_EQ(s.telephone_event_pt, 101);
  EXPECT_EQ(ChooseAudioCodec(s), 8);
}

TEST(SdpOffer, NoSupportedCodec) {
  const auto offer = ParseOffer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18 96\r\na=rtpmap:96 opus/48000/2\r\n"
      "m=audio 4002 RTP/SAVP 0\r\n",
      "192.0.2.1");
  ASSERT_TRUE(offer) << offer.error().warning;
  EXPECT_FALSE(ChooseAudioCodec(offer->streams[0]));  // G.729 and Opus only: 488 for the caller
  EXPECT_EQ(CodecNames(offer->streams[0]), (std::vector<std::string>{"G729/8000", "OPUS/48000"}));
  EXPECT_EQ(ChooseAudioCodec(offer->streams[1]), 0);  // SRTP: recordable with its a=crypto key
}

TEST(SdpOffer, GarbageIsRefused) {
  for (const char* sdp : {"", "hello world\r\n", "v=0\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n",
                          "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 99999 RTP/AVP 0\r\n",
                          "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n"}) {
    const auto offer = ParseOffer(sdp, "192.0.2.1");
    ASSERT_FALSE(offer) << sdp;
    EXPECT_EQ(offer.error().status, 400) << sdp;
    EXPECT_FALSE(offer.error().warning.empty());
  }
  // sofia-sip's parser allocates without end on these: they must be stopped before it.
  for (const char* m_line :
       {"m=audio 1000 RT</AVP 0", "m=audio 1 TCP <x", "m=audio 1 TCP a\"b", "m=audio x RTP/AVP 0",
        "m=audio 1000", "m=audio 1000 RTP/AVP 0 \x01", "m=audio 1 udp\t\t", "m=audio 1 TCP \t",
        "m=audio 1\tRTP/AVP 0", "m=video 38/04 /t", "m=audio 1 RTP//AVP 0", "m=audio 1 RTP/ 0"}) {
    const auto offer =
        ParseOffer(std::string("v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n") + m_line + "\r\n", "x");
    ASSERT_FALSE(offer) << m_line;
    EXPECT_NE(offer.error().warning.find("m-line not valid"), std::string::npos) << m_line;
  }
  std::string with_nul = "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n";
  with_nul += '\0';
  EXPECT_EQ(ParseOffer(with_nul, "x").error().warning, "SDP contains a NUL byte");
  std::string many = "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n";
  for (int i = 0; i < 17; ++i) many += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\r\n";
  EXPECT_EQ(ParseOffer(many, "x").error().status, 400);
}

// One recvonly answer per accepted stream, as the glue builds it.
std::vector<AnsweredStream> AcceptAll(const Offer& offer, std::uint16_t first_port) {
  std::vector<AnsweredStream> answers;
  for (const auto& s : offer.streams) {
    const auto pt = ChooseAudioCodec(s);
    if (!pt) {
      answers.push_back({});
      continue;
    }
    answers.push_back({Direction::kRecvOnly, first_port, *pt, s.telephone_event_pt, {}});
    first_port = static_cast<std::uint16_t>(first_port + 2);
  }
  return answers;
}

TEST(SdpAnswer, ReparsesWithRecvOnlyLabelsAndPorts) {
  for (const char* name :
       {"acme-siprec-offer.txt", "cisco-siprec-offer.txt", "connectel-offer.txt",
        "sonus-siprec-offer.txt", "procomm-siprec-offer.txt", "broadworks-offer.txt"}) {
    const Offer offer = OfferOf(name);
    ASSERT_FALSE(offer.streams.empty()) << name;
    const std::string sdp = BuildAnswer(offer, AcceptAll(offer, 30000), "10.0.0.5", 42, 7);
    EXPECT_EQ(sdp.find("\n", 0), sdp.find("\r\n") + 1) << "CRLF line ends";
    const auto answer = ParseOffer(sdp, "192.0.2.99");
    ASSERT_TRUE(answer) << name << ": " << answer.error().warning << "\n" << sdp;
    EXPECT_EQ(answer->origin_session_id, "42");
    EXPECT_EQ(answer->origin_version, 7u);
    ASSERT_EQ(answer->streams.size(), offer.streams.size());
    for (std::size_t i = 0; i < offer.streams.size(); ++i) {
      const auto& a = answer->streams[i];
      EXPECT_EQ(a.media, offer.streams[i].media);
      EXPECT_EQ(a.protocol, offer.streams[i].protocol);
      EXPECT_EQ(a.label, offer.streams[i].label);
      EXPECT_EQ(a.direction, Direction::kRecvOnly);
      EXPECT_EQ(a.port, 30000 + 2 * i);
      EXPECT_EQ(a.address, "10.0.0.5");
      ASSERT_FALSE(a.codecs.empty());
      EXPECT_EQ(a.codecs[0].payload_type, *ChooseAudioCodec(offer.streams[i]));
      EXPECT_EQ(a.telephone_event_pt, offer.streams[i].telephone_event_pt);
    }
  }
}

TEST(SdpAnswer, ExactTextWithTelephoneEventAndDeclinedStream) {
  const auto offer = ParseOffer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:7\r\n"
      "m=audio 4002 RTP/AVP 18 0\r\na=label:8\r\n"
      "m=video 4004 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n",
      "192.0.2.1");
  ASSERT_TRUE(offer);
  const std::string sdp = BuildAnswer(
      *offer, {{Direction::kRecvOnly, 31000, 8, 101, {}}, {Direction::kInactive, 0, 0, {}, {}}},
      "2001:db8::5", 9, 10);
  EXPECT_EQ(sdp,
            "v=0\r\no=callrec 9 10 IN IP6 2001:db8::5\r\ns=callrec\r\nc=IN IP6 2001:db8::5\r\n"
            "t=0 0\r\n"
            "m=audio 31000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=label:7\r\na=recvonly\r\n"
            "m=audio 0 RTP/AVP 18\r\na=label:8\r\n"
            "m=video 0 RTP/AVP 97\r\n");
  const auto reparsed = ParseOffer(sdp, "x");
  ASSERT_TRUE(reparsed) << reparsed.error().warning;
  EXPECT_EQ(reparsed->streams[0].address, "2001:db8::5");
  EXPECT_EQ(reparsed->streams[1].port, 0);
  EXPECT_EQ(reparsed->streams[2].port, 0);
}

TEST(SdpAnswer, InactiveAnswerForAPausedSrc) {
  const Offer offer = OfferOf("inactive-sdp-offer.txt");
  std::vector<AnsweredStream> answers = AcceptAll(offer, 32000);
  for (auto& a : answers) a.direction = Direction::kInactive;
  const auto reparsed = ParseOffer(BuildAnswer(offer, answers, "10.0.0.5", 1, 2), "x");
  ASSERT_TRUE(reparsed);
  for (const auto& s : reparsed->streams) EXPECT_EQ(s.direction, Direction::kInactive);
}

}  // namespace
}  // namespace callrec::sip

namespace callrec::sip {
namespace {

TEST(SdpOffer, SdesStreamsKeepTheirCryptoLinesAndProfile) {
  const auto offer = ParseOffer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY1\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:KEY2\r\na=label:1\r\n"
      "m=audio 4002 UDP/TLS/RTP/SAVP 0\r\na=label:2\r\n"
      "m=audio 4004 RTP/AVP 0\r\na=label:3\r\n",
      "192.0.2.1");
  ASSERT_TRUE(offer) << offer.error().warning;
  ASSERT_EQ(offer->streams.size(), 3u);
  EXPECT_EQ(offer->streams[0].crypto,
            (std::vector<std::string>{"1 AES_CM_128_HMAC_SHA1_80 inline:KEY1",
                                      "2 AES_CM_128_HMAC_SHA1_32 inline:KEY2"}));
  EXPECT_EQ(ProfileOf(offer->streams[0]), MediaProfile::kSrtp);
  EXPECT_EQ(ProfileOf(offer->streams[1]), MediaProfile::kOther);  // DTLS-SRTP: not ours
  EXPECT_EQ(ProfileOf(offer->streams[2]), MediaProfile::kPlainRtp);
  EXPECT_FALSE(ChooseAudioCodec(offer->streams[1]));

  const std::string answer =
      BuildAnswer(*offer,
                  {{Direction::kRecvOnly, 31000, 0, {}, "1 AES_CM_128_HMAC_SHA1_80 inline:OURS"},
                   {Direction::kInactive, 0, 0, {}, {}},
                   {Direction::kRecvOnly, 31002, 0, {}, {}}},
                  "192.0.2.5", 1, 1);
  EXPECT_NE(answer.find("m=audio 31000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:OURS\r\na=label:1\r\n"),
            std::string::npos)
      << answer;
  EXPECT_EQ(answer.find("a=crypto", answer.find("m=audio 0")), std::string::npos) << answer;
}

}  // namespace
}  // namespace callrec::sip

namespace callrec::sip {
namespace {

TEST(SdpOffer, AnEmptyConnectionAddressCountsAsNone) {
  // sofia-sip parses "c=IN IP4 /04 ..." into an empty address (fuzz/sdp_offer).
  const auto offer = ParseOffer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 /04 RTP/AVP\r\n"
      "m=audio 4000 RTP/AVP 0\r\n",
      "198.51.100.7");
  ASSERT_TRUE(offer) << offer.error().warning;
  ASSERT_EQ(offer->streams.size(), 1u);
  EXPECT_EQ(offer->streams[0].address, "198.51.100.7");
}

}  // namespace
}  // namespace callrec::sip
