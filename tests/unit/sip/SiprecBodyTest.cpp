#include "sip/SiprecBody.hpp"

#include <gtest/gtest.h>

#include "Fixtures.hpp"

namespace callrec::sip {
namespace {

using fixtures::ContentTypeOf;
using fixtures::ReadSiprecFixture;

std::string ToCrlf(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class EveryMultipartFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryMultipartFixture, SplitsIntoSdpAndMetadata) {
  const std::string body = ReadSiprecFixture(GetParam());
  ASSERT_FALSE(body.empty()) << GetParam();
  const auto split = SplitBody(ContentTypeOf(body), body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_TRUE(split->multipart);
  EXPECT_TRUE(split->sdp.starts_with("v=0")) << split->sdp;
  EXPECT_EQ(split->sdp.find("--"), std::string::npos) << "delimiter leaked into the SDP";
  ASSERT_TRUE(split->metadata_xml);
  EXPECT_TRUE(split->metadata_xml->starts_with("<?xml")) << *split->metadata_xml;
  EXPECT_TRUE(split->metadata_xml->find("recording>") != std::string::npos);
  EXPECT_EQ(split->metadata_xml->find("\n--"), std::string::npos);

  // The same body with CRLF line ends splits to the same parts (with CRLF).
  const std::string crlf = ToCrlf(body);
  const auto split_crlf = SplitBody(ContentTypeOf(body), crlf);
  ASSERT_TRUE(split_crlf) << split_crlf.error().warning;
  EXPECT_EQ(split_crlf->sdp, ToCrlf(split->sdp));
  EXPECT_EQ(*split_crlf->metadata_xml, ToCrlf(*split->metadata_xml));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryMultipartFixture,
                         ::testing::Values("acme-siprec-offer.txt", "cisco-siprec-offer.txt",
                                           "connectel-offer.txt", "connectel-offer2.txt",
                                           "connectel-offer3.txt", "inactive-sdp-offer.txt",
                                           "procomm-siprec-offer.txt", "sonus-siprec-offer.txt"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name(info.param);
                           name = name.substr(0, name.rfind('.'));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(SiprecBody, CiscoGtdPartIsIgnoredAndMissingCloseTolerated) {
  const std::string body = ReadSiprecFixture("cisco-siprec-offer.txt");
  ASSERT_EQ(body.find("--uniqueBoundary--"), std::string::npos);  // as captured: no close
  const auto split = SplitBody("multipart/mixed;boundary=uniqueBoundary", body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_EQ(split->other_parts, std::vector<std::string>{"application/gtd"});
  EXPECT_TRUE(split->sdp.ends_with("a=label:2\n")) << split->sdp;
  EXPECT_TRUE(split->metadata_xml->ends_with("</recording>\n"));
}

TEST(SiprecBody, BroadWorksMetadataFirstWithBrokenContentTypeIsIgnored) {
  // The metadata part comes first and says "application/ +xml" (and its XML is
  // not RFC 7865): only the SDP is usable, the caller records it without metadata.
  const std::string body = ReadSiprecFixture("broadworks-offer.txt");
  const auto split = SplitBody(ContentTypeOf(body), body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_FALSE(split->metadata_xml);
  EXPECT_EQ(split->other_parts, std::vector<std::string>{"application/ +xml"});
  EXPECT_TRUE(split->sdp.starts_with("v=0\no=BroadWorks"));
  EXPECT_TRUE(split->sdp.ends_with("a=label:1\n"));
}

TEST(SiprecBody, ProcommRsMetadataWithoutXmlSuffix) {
  const std::string body = ReadSiprecFixture("procomm-siprec-offer.txt");
  const auto split = SplitBody("multipart/mixed; boundary=2CD2A2E9", body);
  ASSERT_TRUE(split) << split.error().warning;
  ASSERT_TRUE(split->metadata_xml);
  EXPECT_TRUE(split->metadata_xml->ends_with("</recording>\n"));
}

TEST(SiprecBody, PlainSdpHasNoMetadata) {
  const std::string body = ReadSiprecFixture("non-siprec-payload.txt");
  ASSERT_EQ(ContentTypeOf(body), "application/sdp");
  const auto split = SplitBody("application/sdp", body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_FALSE(split->multipart);
  EXPECT_FALSE(split->metadata_xml);
  EXPECT_EQ(split->sdp, body);
}

TEST(SiprecBody, PlainSdpSentAsMultipartIsBroken) {
  const std::string body = ReadSiprecFixture("non-siprec-payload.txt");
  const auto split = SplitBody("multipart/mixed;boundary=uniqueBoundary", body);
  ASSERT_FALSE(split);
  EXPECT_EQ(split.error().status, 400);
  EXPECT_NE(split.error().warning.find("no delimiter"), std::string::npos);
}

const char kTwoParts[] =
    "preamble text\r\n"
    "--b1\r\n"
    "Content-Type: application/rs-metadata+xml\r\n"
    "\r\n"
    "<recording/>\r\n"
    "--b1  \r\n"
    "content-type:Application/SDP\r\n"
    "Content-Length: 9999\r\n"
    "\r\n"
    "v=0\r\n"
    "--b1-- \r\n"
    "epilogue\r\n";

TEST(SiprecBody, AnyOrderQuotedBoundaryPaddingPreambleEpilogue) {
  for (const char* type : {"multipart/mixed;boundary=b1", "multipart/mixed; boundary=\"b1\"",
                           "Multipart/Mixed ; charset=x; BOUNDARY = b1"}) {
    const auto split = SplitBody(type, kTwoParts);
    ASSERT_TRUE(split) << type << ": " << split.error().warning;
    EXPECT_EQ(split->sdp, "v=0");
    EXPECT_EQ(split->metadata_xml, "<recording/>");
  }
}

TEST(SiprecBody, BoundaryPrefixIsNotADelimiter) {
  // "--b1x" is content when the boundary is "b1".
  const std::string body = "--b1\nContent-Type: application/sdp\n\nv=0\n--b1x\nstill sdp\n--b1--\n";
  const auto split = SplitBody("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_EQ(split->sdp, "v=0\n--b1x\nstill sdp");
}

TEST(SiprecBody, FoldedHeaderAndPartWithoutHeaders) {
  const std::string body =
      "--b\n\nno headers: text/plain\n--b\nContent-Type:\n application/sdp\n\nv=0\n--b--";
  const auto split = SplitBody("multipart/mixed;boundary=b", body);
  ASSERT_TRUE(split) << split.error().warning;
  EXPECT_EQ(split->sdp, "v=0");
  EXPECT_EQ(split->other_parts, std::vector<std::string>{"text/plain"});
}

struct Broken {
  const char* name;
  std::string content_type;
  std::string body;
  int status;
  const char* warning_contains;
};

// gtest prints the variant by its name, not as raw bytes.
void PrintTo(const Broken& broken, std::ostream* os) {
  *os << broken.name;
}

class BrokenBody : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenBody, IsRefused) {
  const Broken& b = GetParam();
  const auto split = SplitBody(b.content_type, b.body);
  ASSERT_FALSE(split) << b.name;
  EXPECT_EQ(split.error().status, b.status) << b.name << ": " << split.error().warning;
  EXPECT_NE(split.error().warning.find(b.warning_contains), std::string::npos)
      << b.name << ": " << split.error().warning;
  EXPECT_FALSE(split.error().reason.empty());
}

std::string Cisco() {
  return ReadSiprecFixture("cisco-siprec-offer.txt");
}

INSTANTIATE_TEST_SUITE_P(
    Variants, BrokenBody,
    ::testing::Values(
        Broken{"text/plain", "text/plain", "v=0\n", 415, "text/plain"},
        Broken{"no content type", "", "v=0\n", 415, "(none)"},
        Broken{"no boundary", "multipart/mixed", Cisco(), 400, "boundary"},
        Broken{"empty boundary", "multipart/mixed;boundary=\"\"", Cisco(), 400, "boundary"},
        Broken{"wrong boundary", "multipart/mixed;boundary=other", Cisco(), 400, "no delimiter"},
        Broken{"empty body", "multipart/mixed;boundary=b", " \r\n", 400, "empty"},
        Broken{"no parts", "multipart/mixed;boundary=b", "--b--\r\n", 400, "no parts"},
        // Truncated inside the SDP part: nothing proves the SDP whole.
        Broken{"truncated in SDP", "multipart/mixed;boundary=uniqueBoundary",
               Cisco().substr(0, Cisco().find("m=audio 10294")), 400, "truncated"},
        Broken{"SDP last without close", "multipart/mixed;boundary=b",
               "--b\nContent-Type: application/rs-metadata+xml\n\n<recording/>\n--b\n"
               "Content-Type: application/sdp\n\nv=0\n",
               400, "closing delimiter"},
        Broken{"no SDP part", "multipart/mixed;boundary=b",
               "--b\nContent-Type: application/rs-metadata+xml\n\n<recording/>\n--b--\n", 415,
               "no application/sdp"},
        Broken{"two SDP parts", "multipart/mixed;boundary=b",
               "--b\nContent-Type: application/sdp\n\nv=0\n--b\nContent-Type: "
               "application/sdp\n\nv=0\n--b--\n",
               400, "two application/sdp"},
        Broken{"huge metadata", "multipart/mixed;boundary=b",
               "--b\nContent-Type: application/sdp\n\nv=0\n--b\nContent-Type: "
               "application/rs-metadata+xml\n\n<recording>" +
                   std::string(70 * 1024, ' ') + "</recording>\n--b--\n",
               413, "64 KiB"},
        Broken{"huge body", "application/sdp", std::string(300 * 1024, 'a'), 413, "exceeds"},
        Broken{"huge SDP", "application/sdp", "v=0\n" + std::string(40 * 1024, 'a'), 413, "SDP"}),
    [](const ::testing::TestParamInfo<Broken>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(SiprecBody, HeaderParameter) {
  EXPECT_EQ(HeaderParameter("multipart/mixed;boundary=abc", "boundary"), "abc");
  EXPECT_EQ(HeaderParameter("multipart/mixed; a=1; boundary=\"x;y \\\"z\"", "boundary"), "x;y \"z");
  EXPECT_EQ(HeaderParameter("multipart/mixed; novalue; boundary=q", "boundary"), "q");
  EXPECT_FALSE(HeaderParameter("multipart/mixed", "boundary"));
  EXPECT_EQ(MediaType(" Application/RS-Metadata+XML ; x=y"), "application/rs-metadata+xml");
}

}  // namespace
}  // namespace callrec::sip
