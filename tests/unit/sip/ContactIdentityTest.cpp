#include "sip/ContactIdentity.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "Fixtures.hpp"

namespace callrec::sip {
namespace {

const std::regex kUuidV8("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

TEST(ContactIdentity, StableIdIsStableAndUuidShaped) {
  const std::string id = StableId("kQNhKFdEEeeJ9tD/VsPGWA==");
  EXPECT_TRUE(std::regex_match(id, kUuidV8)) << id;
  EXPECT_EQ(StableId("kQNhKFdEEeeJ9tD/VsPGWA=="), id);
  EXPECT_NE(StableId("kQNhKFdEEeeJ9tD/VsPGWB=="), id);
  // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ...: version and variant bits set.
  EXPECT_EQ(StableId("abc"), "ba7816bf-8f01-8fea-8141-40de5dae2223");
}

TEST(ContactIdentity, HeadersWin) {
  const auto metadata = fixtures::MetadataOf("sonus-siprec-offer.txt");
  const ContactIdentity id = DeriveIdentity("  c0ffee-1 ", "init-7", metadata, "call@host");
  EXPECT_EQ(id.contact_id, "c0ffee-1");
  EXPECT_EQ(id.initial_contact_id, "init-7");
}

TEST(ContactIdentity, FromSessionAndGroup) {
  const auto metadata = fixtures::MetadataOf("sonus-siprec-offer.txt");
  const ContactIdentity id = DeriveIdentity(std::nullopt, std::nullopt, metadata, "call@host");
  EXPECT_TRUE(std::regex_match(id.contact_id, kUuidV8));
  EXPECT_TRUE(std::regex_match(id.initial_contact_id, kUuidV8));
  EXPECT_NE(id.contact_id, id.initial_contact_id);
  // A re-INVITE (another Call-ID even) of the same recording session: same ids.
  const ContactIdentity again = DeriveIdentity(std::nullopt, std::nullopt, metadata, "other");
  EXPECT_EQ(again.contact_id, id.contact_id);
  EXPECT_EQ(again.initial_contact_id, id.initial_contact_id);
  // A transfer: a new session in the same group keeps the InitialContactId.
  auto transferred = metadata;
  transferred->session_id = "MTQ3YzA3YzktNjdkNy0xMA==";
  const ContactIdentity next = DeriveIdentity(std::nullopt, std::nullopt, transferred, "call2");
  EXPECT_NE(next.contact_id, id.contact_id);
  EXPECT_EQ(next.initial_contact_id, id.initial_contact_id);
}

TEST(ContactIdentity, WithoutGroupInitialIsContact) {
  const auto metadata = fixtures::MetadataOf("cisco-siprec-offer.txt");
  const ContactIdentity id = DeriveIdentity(std::nullopt, std::nullopt, metadata, "call@host");
  EXPECT_EQ(id.initial_contact_id, id.contact_id);
  EXPECT_NE(id.contact_id,
            DeriveIdentity(std::nullopt, std::nullopt, std::nullopt, "call@host").contact_id);
}

TEST(ContactIdentity, WithoutMetadataFromCallId) {
  const ContactIdentity a = DeriveIdentity(std::nullopt, std::nullopt, std::nullopt, "a@h");
  const ContactIdentity b = DeriveIdentity(std::nullopt, std::nullopt, std::nullopt, "b@h");
  EXPECT_NE(a.contact_id, b.contact_id);
  EXPECT_EQ(a.contact_id,
            DeriveIdentity(std::nullopt, std::nullopt, std::nullopt, "a@h").contact_id);
  EXPECT_EQ(a.initial_contact_id, a.contact_id);
}

TEST(ContactIdentity, InvalidHeadersAreReplaced) {
  const std::string too_long(257, 'x');
  for (const std::string& bad :
       {std::string(""), std::string("  "), too_long, std::string("has space"),
        std::string("ctl\x01"), std::string("\xc3\xa9t\xc3\xa9")}) {
    const ContactIdentity id = DeriveIdentity(bad, bad, std::nullopt, "c@h");
    EXPECT_TRUE(std::regex_match(id.contact_id, kUuidV8)) << bad;
    EXPECT_EQ(id.initial_contact_id, id.contact_id);
  }
  EXPECT_TRUE(IsValidContactId(std::string(256, 'x')));
  EXPECT_FALSE(IsValidContactId(too_long));
}

}  // namespace
}  // namespace callrec::sip
