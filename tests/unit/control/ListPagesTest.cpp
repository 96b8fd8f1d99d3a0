// List in pages (GET /v1/contacts): ContactId order over live contacts in
// memory and ended ones in the store, a page's last id the next page's start.
#include "ContactServiceFixture.hpp"

namespace callrec::control {
namespace {

TEST_F(ContactServiceTest, PagesOfTheListAreInContactIdOrderWithoutRepeatsOrGaps) {
  // Live and ended contacts interleaved by id; one ends between two pages.
  for (int i = 0; i < 25; ++i) {
    const std::string id = "c" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    Create(id);
    if (i % 3 == 0) {
      ASSERT_TRUE(End(id).ok());
    }
  }
  std::vector<std::string> seen;
  ContactFilter filter;
  filter.limit = 7;
  for (int page = 0; page < 10; ++page) {
    auto listed = service_->List(filter);
    ASSERT_TRUE(listed.ok());
    for (const auto& contact : listed->contacts) seen.push_back(contact.contact_id);
    if (page == 0) {
      ASSERT_TRUE(End("c20").ok());  // live on page 1, ended by page 3
    }
    if (!listed->more) break;
    EXPECT_EQ(listed->contacts.size(), 7u);
    filter.after = listed->contacts.back().contact_id;
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(seen[static_cast<std::size_t>(i)],
              "c" + std::string(i < 10 ? "0" : "") + std::to_string(i));
  }
}

TEST_F(ContactServiceTest, PagesFilterByAgentAndState) {
  for (const char* id : {"a1", "b1", "a2", "b2", "a3"}) {
    ASSERT_TRUE(TryCreate(id, true, id[0] == 'a' ? "alice" : "bob").ok());
  }
  ASSERT_TRUE(End("a1").ok());
  ASSERT_TRUE(End("b2").ok());
  ContactFilter filter;
  filter.agent_id = "alice";
  filter.limit = 2;
  auto first = service_->List(filter);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->contacts.size(), 2u);
  EXPECT_EQ(first->contacts[0].contact_id, "a1");
  EXPECT_EQ(first->contacts[1].contact_id, "a2");
  EXPECT_TRUE(first->more);
  filter.after = "a2";
  auto second = service_->List(filter);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->contacts.size(), 1u);
  EXPECT_EQ(second->contacts[0].contact_id, "a3");
  EXPECT_FALSE(second->more);
  // Exactly a page's worth: no further page is promised.
  ContactFilter ended;
  ended.state = core::RecordingState::kEnded;
  ended.limit = 2;
  auto all_ended = service_->List(ended);
  ASSERT_TRUE(all_ended.ok());
  EXPECT_EQ(all_ended->contacts.size(), 2u);
  EXPECT_FALSE(all_ended->more);
}

}  // namespace
}  // namespace callrec::control
