#include "sip/RsMetadata.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"

namespace callrec::sip {
namespace {

using fixtures::SplitFixture;

RsMetadata Parse(const char* fixture) {
  const auto body = SplitFixture(fixture);
  EXPECT_TRUE(body.metadata_xml) << fixture;
  if (!body.metadata_xml) return {};
  const auto metadata = ParseRsMetadata(*body.metadata_xml);
  EXPECT_TRUE(metadata) << fixture << ": " << metadata.error().warning;
  return metadata ? metadata.value() : RsMetadata{};
}

using Ids = std::vector<std::string>;

TEST(RsMetadata, CiscoRfc7865) {
  const RsMetadata m = Parse("cisco-siprec-offer.txt");
  EXPECT_EQ(m.session_id, "kQNhKFdEEeeJ9tD/VsPGWA==");
  EXPECT_EQ(m.group_id, "");
  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[0].id, "kQNhKFdEEeeJ99D/VsPGWA==");
  EXPECT_EQ(m.participants[0].aor, "sip:7301@35.162.237.204");
  EXPECT_EQ(m.participants[0].name, "");
  EXPECT_EQ(m.participants[0].sends, Ids{"kQOH5VdEEeeJ/ND/VsPGWA=="});
  EXPECT_EQ(m.participants[0].receives, Ids{"kQOH5VdEEeeJ/dD/VsPGWA=="});
  EXPECT_FALSE(m.participants[0].calling_party);
  EXPECT_EQ(m.participants[1].aor, "sip:7300@35.162.237.204");
  EXPECT_EQ(m.participants[1].name, "7300");
  EXPECT_EQ(m.participants[1].sends, Ids{"kQOH5VdEEeeJ/dD/VsPGWA=="});
  EXPECT_EQ(m.stream_labels,
            (std::map<std::string, std::string>{{"kQOH5VdEEeeJ/ND/VsPGWA==", "1"},
                                                {"kQOH5VdEEeeJ/dD/VsPGWA==", "2"}}));
  EXPECT_EQ(m.call_from, "");
}

TEST(RsMetadata, AcmePreRfcWithCallingParty) {
  const RsMetadata m = Parse("acme-siprec-offer.txt");
  EXPECT_EQ(m.session_id, "AavRXwIIQj1Q39eJulTipQ==");
  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[0].id, "fSD3PFErSjNTHLDiXCELjw==");
  EXPECT_EQ(m.participants[0].aor, "sip:9000@192.168.50.102");
  EXPECT_EQ(m.participants[0].name, "9000");
  EXPECT_EQ(m.participants[0].sends, Ids{"Q4O8SGLQSilXHUGQX2zd8Q=="});
  EXPECT_EQ(m.participants[0].calling_party, true);
  EXPECT_EQ(m.participants[1].aor, "sip:1002@192.168.50.10");
  EXPECT_EQ(m.participants[1].sends, Ids{"l1NyQy8ORSlouUj2G3UE/A=="});
  EXPECT_EQ(m.participants[1].calling_party, false);
  EXPECT_EQ(m.stream_labels.at("Q4O8SGLQSilXHUGQX2zd8Q=="), "16777227");
  EXPECT_EQ(m.stream_labels.at("l1NyQy8ORSlouUj2G3UE/A=="), "16777228");
}

TEST(RsMetadata, SonusPrefixedWithGroupAndCallData) {
  const RsMetadata m = Parse("sonus-siprec-offer.txt");
  EXPECT_EQ(m.session_id, "MTQ3YzA3YzEtNjdkNy0xMA==");
  EXPECT_EQ(m.group_id, "MTQ3YzA3YzAtNjdkNy0xMA==");
  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[0].aor, "2249888500@172.16.198.55");  // no "sip:", as sent
  EXPECT_EQ(m.participants[0].name, "Extension 8500");
  EXPECT_EQ(m.participants[0].sends, Ids{"MTQ3YzA3YzUtNjdkNy0xMA=="});  // label 2
  EXPECT_EQ(m.participants[1].aor, "2249888012@172.16.195.72");
  EXPECT_EQ(m.participants[1].name, "");                                // " " trimmed
  EXPECT_EQ(m.participants[1].sends, Ids{"MTQ3YzA3YzQtNjdkNy0xMA=="});  // label 1
  EXPECT_EQ(m.stream_labels.at("MTQ3YzA3YzQtNjdkNy0xMA=="), "1");
  EXPECT_EQ(m.call_from, "\"Extension 8500\" <sip:2249888500@172.16.198.55>;tag=SerryvK5ej0jc");
  EXPECT_EQ(m.call_to, "<sip:2249888012@172.16.195.72>;tag=gK00801b2d");
}

TEST(RsMetadata, ConnectelWithoutStreamAssociations) {
  for (const char* name : {"connectel-offer.txt", "connectel-offer2.txt", "connectel-offer3.txt"}) {
    const RsMetadata m = Parse(name);
    EXPECT_EQ(m.session_id, "2+hKdGY+QvCKu8HYTdBouQ==") << name;
    ASSERT_EQ(m.participants.size(), 2u);
    EXPECT_EQ(m.participants[0].aor, "sip:0771121212@52.57.92.239");
    EXPECT_TRUE(m.participants[0].name.starts_with("test_user"));
    EXPECT_EQ(m.participants[1].aor, "sip:0760516936@sip-cust1.connectel.io");
    EXPECT_EQ(m.participants[1].name, "");
    EXPECT_TRUE(m.participants[0].sends.empty());
    EXPECT_TRUE(m.participants[1].sends.empty());
    EXPECT_EQ(m.stream_labels.size(), 2u);
  }
  EXPECT_EQ(Parse("connectel-offer.txt").participants[0].name, "test_user;lang=en-US;id=22");
}

TEST(RsMetadata, ProcommMultiLineTags) {
  const RsMetadata m = Parse("procomm-siprec-offer.txt");
  EXPECT_EQ(m.session_id, "ho9aUhEQTRS+31th7sHStA==");
  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[1].aor, "Extension-016190619@speechpath.ie");
  EXPECT_EQ(m.participants[1].name, "Speechpath-Main-Line 016190619");
  EXPECT_EQ(m.participants[0].sends, Ids{"HdU6Bt7GTZiHcNe4R2LHdA=="});
  EXPECT_EQ(m.stream_labels.at("HdU6Bt7GTZiHcNe4R2LHdA=="), "a_leg");
  EXPECT_EQ(m.stream_labels.at("T6T6syCpRSGH1J+gwLFaIQ=="), "b_leg");
}

TEST(RsMetadata, InactiveEmptyStreamAssociations) {
  const RsMetadata m = Parse("inactive-sdp-offer.txt");
  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[1].aor, "sip:+972546136443@192.168.10.140");
  EXPECT_TRUE(m.participants[0].sends.empty());
  EXPECT_TRUE(m.participants[1].sends.empty());
}

TEST(RsMetadata, BroadWorksDocumentIsNotRfc7865) {
  // SplitBody ignores this part (its content type is mangled); were it handed
  // over, the root <recording_metadata> is refused.
  const std::string body = fixtures::ReadSiprecFixture("broadworks-offer.txt");
  const auto start = body.find("<recording_metadata");
  const auto end = body.find("</recording_metadata>");
  ASSERT_NE(start, std::string::npos);
  const auto m = ParseRsMetadata(body.substr(start, end + 21 - start));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().status, 400);
  EXPECT_NE(m.error().warning.find("recording_metadata"), std::string::npos);
}

TEST(RsMetadata, PreRfcGroupIdAndUnknownParticipantInAssociation) {
  const auto m = ParseRsMetadata(
      "<x:recording xmlns:x='urn:ietf:params:xml:ns:recording'><x:group id='g1'/>"
      "<x:session id='s1'/>"
      "<x:participantstreamassoc "
      "participant_id='p9'><x:send>st1</x:send></x:participantstreamassoc>"
      "<x:stream id='st1'><x:label>5</x:label></x:stream></x:recording>");
  ASSERT_TRUE(m) << m.error().warning;
  EXPECT_EQ(m->group_id, "g1");
  EXPECT_EQ(m->session_id, "s1");
  ASSERT_EQ(m->participants.size(), 1u);
  EXPECT_EQ(m->participants[0].id, "p9");
  EXPECT_EQ(m->participants[0].sends, Ids{"st1"});
  EXPECT_EQ(m->stream_labels.at("st1"), "5");
}

TEST(RsMetadata, BlankLinesBeforeTheXmlDeclaration) {
  const auto m = ParseRsMetadata(
      "\r\n\r\n<?xml version='1.0' encoding='UTF-8'?>\r\n"
      "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><session "
      "session_id='s'/></recording>");
  ASSERT_TRUE(m) << m.error().warning;
  EXPECT_EQ(m->session_id, "s");
}

TEST(RsMetadata, OtherNamespaceElementsAreNotRecordingElements) {
  const auto m = ParseRsMetadata(
      "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
      "<participant xmlns='urn:example:other' participant_id='evil'/>"
      "<participant participant_id='ok'/></recording>");
  ASSERT_TRUE(m) << m.error().warning;
  ASSERT_EQ(m->participants.size(), 1u);
  EXPECT_EQ(m->participants[0].id, "ok");
}

struct Hostile {
  const char* name;
  std::string xml;
  int status;
  const char* warning_contains;
};

// gtest prints the variant by its name, not as raw bytes.
void PrintTo(const Hostile& hostile, std::ostream* os) {
  *os << hostile.name;
}

class HostileMetadata : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileMetadata, IsRefused) {
  const Hostile& h = GetParam();
  ::testing::internal::CaptureStderr();
  const auto m = ParseRsMetadata(h.xml);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(m) << h.name;
  EXPECT_EQ(m.error().status, h.status) << h.name << ": " << m.error().warning;
  EXPECT_NE(m.error().warning.find(h.warning_contains), std::string::npos)
      << h.name << ": " << m.error().warning;
  EXPECT_EQ(printed, "") << "libxml2 must not print";
}

std::string Nested(int depth) {
  std::string xml = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>";
  for (int i = 0; i < depth; ++i) xml += "<a>";
  for (int i = 0; i < depth; ++i) xml += "</a>";
  return xml + "</recording>";
}

INSTANTIATE_TEST_SUITE_P(
    Variants, HostileMetadata,
    ::testing::Values(
        Hostile{"not_well_formed",
                "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><session></recording>", 400,
                "rs-metadata XML"},
        Hostile{"truncated", "<?xml version='1.0'?>\n<recording xmlns='urn:ietf:params:xml:ns:r",
                400, "rs-metadata XML"},
        Hostile{"empty", " \n", 400, "empty"},
        Hostile{"wrong_root", "<recordings xmlns='urn:ietf:params:xml:ns:recording:1'/>", 400,
                "<recordings>"},
        Hostile{"wrong_namespace", "<recording xmlns='urn:example:recording'/>", 400,
                "not RFC 7865"},
        Hostile{"external_entity",
                "<?xml version='1.0'?><!DOCTYPE recording [<!ENTITY xxe SYSTEM "
                "'file:///etc/passwd'>]><recording "
                "xmlns='urn:ietf:params:xml:ns:recording:1'><session session_id='&xxe;'/>"
                "</recording>",
                400, "DOCTYPE"},
        Hostile{"external_dtd",
                "<!DOCTYPE recording SYSTEM 'http://127.0.0.1:1/x.dtd'><recording "
                "xmlns='urn:ietf:params:xml:ns:recording:1'/>",
                400, "DOCTYPE"},
        Hostile{"undeclared_entity",
                "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>&lol;</recording>", 400,
                "rs-metadata XML"},
        Hostile{"too_deep", Nested(40), 400, "deep"},
        Hostile{"way_too_deep", Nested(300), 400, "rs-metadata XML"},
        Hostile{"huge",
                "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>" +
                    std::string(300 * 1024, ' ') + "</recording>",
                413, "256 KiB"}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return info.param.name; });

TEST(RsMetadata, BillionLaughsIsRefusedBeforeParsing) {
  std::string xml = "<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'>";
  for (char c = 'b'; c <= 'j'; ++c) {
    xml += std::string("<!ENTITY ") + c + " '" + std::string(10, '&') + "'>";
  }
  xml += "]><recording xmlns='urn:ietf:params:xml:ns:recording:1'>&j;</recording>";
  const auto m = ParseRsMetadata(xml);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().status, 400);
}

}  // namespace
}  // namespace callrec::sip
