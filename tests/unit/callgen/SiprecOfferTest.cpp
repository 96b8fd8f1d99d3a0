#include "callgen/SiprecOffer.hpp"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <memory>
#include <regex>

#include "callgen/SdpAnswer.hpp"

namespace callrec::callgen {
namespace {

SdpOffer TwoStreamOffer() {
  SdpOffer offer;
  offer.local_ip = "127.0.0.1";
  offer.session_id = 42;
  offer.version = 3;
  offer.streams = {{"1", "c-stream", 40000, {}}, {"2", "a-stream", 40002, {}}};
  return offer;
}

TEST(SiprecOffer, SdpHasOneSendonlyLabelledLinePerStream) {
  const std::string sdp = BuildSdp(TwoStreamOffer());
  EXPECT_NE(sdp.find("o=callgen 42 3 IN IP4 127.0.0.1\r\n"), std::string::npos) << sdp;
  EXPECT_NE(sdp.find("c=IN IP4 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(sdp.find("a=rtpmap:0 PCMU/8000\r\n"), std::string::npos);
  // Re-parsed by sofia's parser, as the recorder's answer would be.
  auto parsed = ParseAnswerSdp(sdp);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].label, "1");
  EXPECT_EQ((*parsed)[0].port, 40000);
  EXPECT_EQ((*parsed)[0].address, "127.0.0.1");
  EXPECT_EQ((*parsed)[0].direction, MediaDirection::kSendOnly);
  EXPECT_EQ((*parsed)[1].label, "2");
  EXPECT_EQ((*parsed)[1].port, 40002);
}

TEST(SiprecOffer, InactivePcmaIpv6) {
  SdpOffer offer = TwoStreamOffer();
  offer.inactive = true;
  offer.codec = media::Codec::kPcma;
  offer.local_ip = "::1";
  const std::string sdp = BuildSdp(offer);
  EXPECT_NE(sdp.find("c=IN IP6 ::1\r\n"), std::string::npos) << sdp;
  EXPECT_NE(sdp.find("m=audio 40000 RTP/AVP 8\r\n"), std::string::npos);
  EXPECT_NE(sdp.find("a=rtpmap:8 PCMA/8000\r\n"), std::string::npos);
  EXPECT_EQ(sdp.find("sendonly"), std::string::npos);
  auto parsed = ParseAnswerSdp(sdp);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  for (const auto& s : *parsed) EXPECT_EQ(s.direction, MediaDirection::kInactive);
}

// XPath over the metadata with the RFC 7865 namespace bound to "r".
class Metadata {
 public:
  explicit Metadata(const std::string& xml)
      : doc_(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "metadata.xml", nullptr,
                           XML_PARSE_NONET),
             &xmlFreeDoc),
        context_(doc_ ? xmlXPathNewContext(doc_.get()) : nullptr, &xmlXPathFreeContext) {
    if (context_) {
      xmlXPathRegisterNs(context_.get(), BAD_CAST "r",
                         BAD_CAST "urn:ietf:params:xml:ns:recording:1");
    }
  }
  bool ok() const { return context_ != nullptr; }

  std::vector<std::string> All(const std::string& xpath) const {
    std::vector<std::string> out;
    std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> result(
        xmlXPathEvalExpression(BAD_CAST xpath.c_str(), context_.get()), &xmlXPathFreeObject);
    if (!result || !result->nodesetval) return out;
    for (int i = 0; i < result->nodesetval->nodeNr; ++i) {
      xmlChar* text = xmlNodeGetContent(result->nodesetval->nodeTab[i]);
      out.emplace_back(reinterpret_cast<const char*>(text));
      xmlFree(text);
    }
    return out;
  }
  std::string One(const std::string& xpath) const {
    const auto all = All(xpath);
    return all.size() == 1 ? all[0] : "<" + std::to_string(all.size()) + " matches>";
  }

 private:
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc_;
  std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> context_;
};

RsMetadata FullMetadata() {
  RsMetadata m;
  m.group_id = "G==";
  m.session_id = "S==";
  m.sip_session_id = "call-1@127.0.0.1";
  m.start_time = "2024-05-01T10:00:00Z";
  m.streams = {{"1", "c-stream", 40000, {}}, {"2", "a-stream", 40002, {}}};
  m.participants = {{"p-cust", "sip:+15551230001@pstn.example", "Customer", {0}, {1}},
                    {"p-agent", "sip:agent1@cc.example", "Agent & Co", {1}, {0}}};
  return m;
}

TEST(SiprecOffer, MetadataIsRfc7865) {
  const Metadata doc(BuildRsMetadata(FullMetadata()));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc.One("/r:recording/r:datamode"), "complete");
  EXPECT_EQ(doc.One("/r:recording/r:group/@group_id"), "G==");
  EXPECT_EQ(doc.One("/r:recording/r:session/@session_id"), "S==");
  EXPECT_EQ(doc.One("/r:recording/r:session/r:group-ref"), "G==");
  EXPECT_EQ(doc.One("/r:recording/r:session/r:sipSessionID"), "call-1@127.0.0.1");
  EXPECT_EQ(doc.All("/r:recording/r:participant").size(), 2u);
  EXPECT_EQ(doc.One("/r:recording/r:participant[@participant_id='p-cust']/r:nameID/@aor"),
            "sip:+15551230001@pstn.example");
  EXPECT_EQ(doc.One("/r:recording/r:participant[@participant_id='p-agent']/r:nameID/r:name"),
            "Agent & Co");
  EXPECT_EQ(doc.One("/r:recording/r:stream[r:label='1']/@stream_id"), "c-stream");
  EXPECT_EQ(doc.One("/r:recording/r:stream[r:label='2']/@session_id"), "S==");
  EXPECT_EQ(doc.One("/r:recording/r:participantstreamassoc[@participant_id='p-cust']/r:send"),
            "c-stream");
  EXPECT_EQ(doc.One("/r:recording/r:participantstreamassoc[@participant_id='p-cust']/r:recv"),
            "a-stream");
  EXPECT_EQ(doc.One("/r:recording/r:participantstreamassoc[@participant_id='p-agent']/r:send"),
            "a-stream");
  EXPECT_EQ(doc.All("/r:recording/r:participantsessionassoc[@session_id='S==']").size(), 2u);
}

TEST(SiprecOffer, MetadataBeforeTheAgentJoinsHasOnlyTheCustomer) {
  RsMetadata m = FullMetadata();
  m.participants = {{"p-cust", "sip:+15551230001@pstn.example", "Customer", {0}, {}}};
  const Metadata doc(BuildRsMetadata(m));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc.All("/r:recording/r:participant").size(), 1u);
  EXPECT_EQ(doc.All("/r:recording/r:stream").size(), 2u);  // both m-lines are described
  EXPECT_TRUE(doc.All("//r:recv").empty());
}

TEST(SiprecOffer, MultipartBodyCarriesBothPartsAndSdpComesBackOut) {
  const std::string sdp = BuildSdp(TwoStreamOffer());
  const std::string xml = BuildRsMetadata(FullMetadata());
  const SiprecBody body = BuildSiprecBody(sdp, xml, "b0undary");
  EXPECT_EQ(body.content_type, "multipart/mixed;boundary=b0undary");
  EXPECT_EQ(body.body.rfind("--b0undary\r\nContent-Type: application/sdp\r\n\r\n", 0), 0u);
  EXPECT_NE(body.body.find("--b0undary\r\nContent-Type: application/rs-metadata+xml\r\n"
                           "Content-Disposition: recording-session\r\n\r\n<?xml"),
            std::string::npos);
  EXPECT_EQ(body.body.substr(body.body.size() - 14), "--b0undary--\r\n");
  const auto back = SdpOfBody(body.content_type, body.body);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, sdp);
  // The metadata part, cut out the same way, is well-formed XML.
  const auto start = body.body.find("<?xml");
  const auto end = body.body.find("\r\n--b0undary--");
  EXPECT_TRUE(Metadata(body.body.substr(start, end - start)).ok());
}

TEST(SiprecOffer, MetadataIdsAreBase64Uuids) {
  std::mt19937 random(1);
  const std::string a = RandomMetadataId(random);
  const std::string b = RandomMetadataId(random);
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("[A-Za-z0-9+/]{22}==")));
}

TEST(SiprecOffer, XmlEscape) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

}  // namespace
}  // namespace callrec::callgen
