// --event-rule parsing and the events path, without a server.
#include <gtest/gtest.h>

#include "api/ContactEvents.hpp"

namespace callrec::api {
namespace {

TEST(ContactEventsTest, RulesMapTypesToPauseOrResume) {
  auto rules = ParseEventRules({"payment-form-opened=PAUSE", "crm.card:done=RESUME"});
  ASSERT_TRUE(rules.ok()) << rules.error();
  EXPECT_EQ(rules.value().at("payment-form-opened"), core::Operation::kPause);
  EXPECT_EQ(rules.value().at("crm.card:done"), core::Operation::kResume);
  EXPECT_TRUE(ParseEventRules({}).ok());
}

TEST(ContactEventsTest, BadRulesAreRefusedNamingThem) {
  struct Case {
    std::vector<std::string> rules;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"opened"}, "PAUSE or RESUME"},
           {{"opened=STOP"}, "PAUSE or RESUME"},
           {{"=PAUSE"}, "event type must be"},
           {{"two words=PAUSE"}, "event type must be"},
           {{std::string(65, 'a') + "=PAUSE"}, "event type must be"},
           {{"a=PAUSE", "a=RESUME"}, "has a rule already"},
       }) {
    auto parsed = ParseEventRules(c.rules);
    ASSERT_FALSE(parsed.ok()) << c.rules.back();
    EXPECT_NE(parsed.error().find(c.says), std::string::npos) << parsed.error();
    EXPECT_NE(parsed.error().find(c.rules.back()), std::string::npos) << parsed.error();
  }
}

TEST(ContactEventsTest, OnlyTheEventsPathOfOneContactMatches) {
  EXPECT_EQ(ContactEvents::ContactOf("/v1/contacts/c-1/events"), "c-1");
  EXPECT_EQ(ContactEvents::ContactOf("/v1/contacts/a%2Fb/events"), "a/b");
  EXPECT_FALSE(ContactEvents::ContactOf("/v1/contacts//events").has_value());
  EXPECT_FALSE(ContactEvents::ContactOf("/v1/contacts/c-1/events/x").has_value());
  EXPECT_FALSE(ContactEvents::ContactOf("/v1/contacts/c-1/guide/events").has_value());
  EXPECT_FALSE(ContactEvents::ContactOf("/v1/contacts/events").has_value());
  EXPECT_FALSE(ContactEvents::ContactOf("/v1/events").has_value());
}

}  // namespace
}  // namespace callrec::api
