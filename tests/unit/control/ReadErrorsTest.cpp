// A read of the store that fails is an error for the request that asked
// (kInternal, "The state store could not be read"), and for nothing else:
// live contacts go on being served and changed.
#include <sqlite3.h>

#include "ContactServiceFixture.hpp"

namespace callrec::control {
namespace {

using core::Operation;
using core::RecordingState;

class ReadErrorsTest : public ContactServiceTest {
 protected:
  // An ended, evicted contact whose row this build cannot read (as a damaged
  // or foreign write would leave it).
  void DamageRowOf(const std::string& id) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "callrec.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string sql =
        "UPDATE contacts SET final_state = 'BOGUS' WHERE contact_id = '" + id + "'";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  static void ExpectUnreadable(const ControlError& error) {
    EXPECT_EQ(error.kind, ControlError::Kind::kInternal);
    EXPECT_NE(error.message.find("The state store could not be read"), std::string::npos)
        << error.message;
  }
};

TEST_F(ReadErrorsTest, FailedReadFailsThatRequestOnly) {
  Create("gone");
  ASSERT_TRUE(End("gone").ok());
  Create("live");
  ASSERT_EQ(service_->ResidentCount(), 1u);  // "gone" was evicted
  DamageRowOf("gone");

  auto found = service_->Find("gone");
  ASSERT_FALSE(found.ok());
  ExpectUnreadable(found.error());
  auto listed = service_->List({});
  ASSERT_FALSE(listed.ok());
  ExpectUnreadable(listed.error());
  auto applied = Apply("gone", Operation::kStart);
  ASSERT_TRUE(applied.has_value());
  ExpectUnreadable(*applied);
  auto created = TryCreate("gone");
  ASSERT_FALSE(created.ok());
  ExpectUnreadable(created.error());
  auto ended = End("gone");
  ASSERT_FALSE(ended.ok());
  ExpectUnreadable(ended.error());

  // The live contact: found, listed (live ones from memory), changed, ended.
  ASSERT_TRUE(service_->Find("live").ok());
  auto live = service_->List({std::nullopt, std::nullopt, true, "", 0});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->contacts.size(), 1u);
  EXPECT_FALSE(Apply("live", Operation::kStart).has_value());
  EXPECT_EQ(StateOf("live"), RecordingState::kRecording);
  ASSERT_TRUE(service_->AuditTrail("live").ok());
  EXPECT_EQ(service_->AuditTrail("live").value().size(), 2u);
  EXPECT_TRUE(End("live").ok());
  EXPECT_EQ(store_->Stats().read_failures, 5u);
}

}  // namespace
}  // namespace callrec::control
