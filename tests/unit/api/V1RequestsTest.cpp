#include "api/V1Requests.hpp"

#include <gtest/gtest.h>

namespace callrec::api {
namespace {

TEST(ByteRangeTest, TheThreeFormsOfOneRange) {
  EXPECT_EQ(ParseByteRange("bytes=0-99", 1000), (ByteSpan{0, 99}));
  EXPECT_EQ(ParseByteRange("bytes=990-", 1000), (ByteSpan{990, 999}));
  EXPECT_EQ(ParseByteRange("bytes=-10", 1000), (ByteSpan{990, 999}));
  // A last byte past the end, or a suffix longer than the file, is cut to it.
  EXPECT_EQ(ParseByteRange("bytes=500-5000", 1000), (ByteSpan{500, 999}));
  EXPECT_EQ(ParseByteRange("bytes=-5000", 1000), (ByteSpan{0, 999}));
}

TEST(ByteRangeTest, RefusesWhatCannotBeSatisfied) {
  for (const char* header :
       {"bytes=1000-", "bytes=5-4", "bytes=-0", "bytes=0-1,4-5", "bytes=", "bytes=-", "bytes=a-b",
        "bytes= 1-2", "items=0-1", "bytes=1-2x", "bytes=99999999999999999999999-"}) {
    EXPECT_FALSE(ParseByteRange(header, 1000)) << header;
  }
  EXPECT_FALSE(ParseByteRange("bytes=0-0", 0));  // nothing to send a part of
}

TEST(PageTokenTest, RoundTripsAndKeepsTagsApart) {
  const std::string token = PageToken("contacts", "c-42");
  EXPECT_EQ(PageTokenAfter("contacts", token), "c-42");
  EXPECT_FALSE(PageTokenAfter("recordings", token));
  EXPECT_FALSE(PageTokenAfter("contacts", "zz"));
  EXPECT_FALSE(PageTokenAfter("contacts", "abc"));
  EXPECT_FALSE(PageTokenAfter("contacts", PageToken("contacts", "").substr(0, 2)));
  // The form tokens had before this parser existed: hex of "contacts:<id>".
  EXPECT_EQ(PageTokenAfter("contacts", "636f6e74616374733a632d31"), "c-1");
}

TEST(ContactListQueryTest, ReadsEveryFilter) {
  const auto filter = ParseContactListQuery("AgentId=a%20b&State=PAUSED&MaxResults=7&NextToken=" +
                                            PageToken("contacts", "c-9"));
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->agent_id, "a b");
  EXPECT_EQ(filter->state, core::RecordingState::kPaused);
  EXPECT_EQ(filter->limit, 7u);
  EXPECT_EQ(filter->after, "c-9");
  const auto defaults = ParseContactListQuery("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->limit, kDefaultMaxResults);
  EXPECT_FALSE(defaults->agent_id);
}

TEST(ContactListQueryTest, RefusesWithTheReason) {
  struct Case {
    const char* query;
    const char* says;
  };
  for (const Case& c : {Case{"State=LOUD", "is not one of"}, Case{"MaxResults=0", "1 to 1000"},
                        Case{"MaxResults=1001", "1 to 1000"}, Case{"MaxResults=5x", "1 to 1000"},
                        Case{"NextToken=00", "not one this server gave out"}}) {
    const auto filter = ParseContactListQuery(c.query);
    ASSERT_FALSE(filter) << c.query;
    EXPECT_EQ(filter.error().status, 400);
    EXPECT_EQ(filter.error().type, "InvalidParameterException");
    EXPECT_NE(filter.error().message.find(c.says), std::string::npos) << filter.error().message;
  }
}

TEST(NewContactTest, ReadsTheBodyAndItsPolicies) {
  const auto parsed =
      ParseNewContact(R"({"InstanceId":"local","ContactId":"c-1","AgentId":"alice","Codec":"PCMA",)"
                      R"("AgentJoined":false,"PauseBehavior":"skip","DtmfPolicy":"pause"})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->create.instance_id, "local");
  EXPECT_EQ(parsed->create.contact_id, "c-1");
  EXPECT_EQ(parsed->create.codec, "PCMA");
  EXPECT_FALSE(parsed->create.agent_joined);
  EXPECT_EQ(parsed->policies.skip_paused, true);
  EXPECT_EQ(parsed->policies.dtmf, media::DtmfPolicy::kPause);

  const auto minimal = ParseNewContact(R"({"InstanceId":"local","Codec":null})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->create.codec, "PCMU");
  EXPECT_TRUE(minimal->create.contact_id.empty());  // the server picks one
  EXPECT_FALSE(minimal->policies.skip_paused);
}

TEST(NewContactTest, RefusesWithTheReason) {
  struct Case {
    std::string body;
    const char* type;
    const char* says;
  };
  for (const Case& c : {
           Case{"[1]", "InvalidRequestException", "must be a JSON object"},
           Case{"{", "InvalidRequestException", "must be a JSON object:"},
           Case{"{}", "InvalidParameterException", "InstanceId is required"},
           Case{R"({"InstanceId":7})", "InvalidParameterException", "InstanceId must be a string"},
           Case{R"({"InstanceId":")" + std::string(101, 'i') + R"("})", "InvalidParameterException",
                "at most 100"},
           Case{R"({"InstanceId":"l","Codec":"OPUS"})", "InvalidParameterException", "PCMU"},
           Case{R"({"InstanceId":"l","AgentJoined":"yes"})", "InvalidParameterException",
                "true or false"},
           Case{R"({"InstanceId":"l","PauseBehavior":"cut"})", "InvalidParameterException",
                "silence or skip"},
           Case{R"({"InstanceId":"l","DtmfPolicy":1})", "InvalidParameterException",
                "mask, pause or record"},
       }) {
    const auto parsed = ParseNewContact(c.body);
    ASSERT_FALSE(parsed) << c.body;
    EXPECT_EQ(parsed.error().status, 400);
    EXPECT_EQ(parsed.error().type, c.type) << c.body;
    EXPECT_NE(parsed.error().message.find(c.says), std::string::npos) << parsed.error().message;
  }
}

TEST(NewAgentTest, AgentsAndSupervisors) {
  const auto agent = ParseNewAgent(R"({"AgentId":"alice"})");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->agent_id, "alice");
  EXPECT_FALSE(agent->supervisor);
  const auto supervisor = ParseNewAgent(R"({"AgentId":"sam","Role":"supervisor"})");
  ASSERT_TRUE(supervisor);
  EXPECT_TRUE(supervisor->supervisor);
  for (const char* body : {R"({"AgentId":"a b"})", R"({"AgentId":""})", R"({"AgentId":1})",
                           R"({"AgentId":"x","Role":"admin"})", "not json", "{}"}) {
    EXPECT_FALSE(ParseNewAgent(body)) << body;
  }
  EXPECT_FALSE(ValidAgentId(std::string(257, 'a')));
  EXPECT_TRUE(ValidAgentId(std::string(256, 'a')));
  EXPECT_FALSE(ValidAgentId("tab\there"));
}

TEST(EventTypeTest, AStringTypeOnly) {
  EXPECT_EQ(ParseEventType(R"({"Type":"payment-form-opened","Extra":1})"), "payment-form-opened");
  for (const char* body : {R"({"Type":1})", R"({"type":"x"})", R"(["Type"])", ""}) {
    EXPECT_FALSE(ParseEventType(body)) << body;
  }
}

}  // namespace
}  // namespace callrec::api
