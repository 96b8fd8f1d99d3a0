#include "cluster/OperationJson.hpp"

#include <gtest/gtest.h>

namespace callrec::cluster {
namespace {

TEST(OperationJsonTest, AnOperationGoesAndComesBack) {
  control::OperationRequest request{
      "local", "c-1", "c-0", core::Operation::kStart, core::Track::kToAgent, "AKID1"};
  request.replayed = true;
  request.reason = "reason=dtmf";
  std::string why;
  auto back = OperationFromJson(OperationToJson(request), why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(back->instance_id, "local");
  EXPECT_EQ(back->contact_id, "c-1");
  EXPECT_EQ(back->initial_contact_id, "c-0");
  EXPECT_EQ(back->operation, core::Operation::kStart);
  EXPECT_EQ(back->track, core::Track::kToAgent);
  EXPECT_EQ(back->principal, "AKID1");
  EXPECT_TRUE(back->replayed);
  EXPECT_EQ(back->reason, "reason=dtmf");
  EXPECT_TRUE(back->forwarded_from.empty());  // the receiver sets it from the signed header
}

TEST(OperationJsonTest, AnEndGoesAndComesBack) {
  control::EndRequest request{"c-2", "admin", "call over", "node-a"};
  std::string why;
  auto back = EndFromJson(EndToJson(request), why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(back->contact_id, "c-2");
  EXPECT_EQ(back->principal, "admin");
  EXPECT_EQ(back->reason, "call over");
  EXPECT_TRUE(back->forwarded_from.empty());  // never on the wire: the signed header says it
  EXPECT_FALSE(EndFromJson(R"({"ContactId":"","Principal":"a","Reason":""})", why));
  EXPECT_EQ(why, "ContactId is empty");
  EXPECT_FALSE(EndFromJson(R"({"ContactId":"c","Reason":""})", why));
  EXPECT_EQ(why, "Principal is missing");
  EXPECT_FALSE(EndFromJson("[1]", why));
}

TEST(OperationJsonTest, BadBodiesSayWhy) {
  std::string why;
  EXPECT_FALSE(OperationFromJson("not json", why).has_value());
  EXPECT_EQ(why, "the body is not a JSON object");
  EXPECT_FALSE(OperationFromJson(R"({"InstanceId":"local"})", why).has_value());
  EXPECT_EQ(why, "ContactId is missing");
  EXPECT_FALSE(OperationFromJson(
                   R"({"InstanceId":"l","ContactId":"c","InitialContactId":"c","Principal":"p",)"
                   R"("Reason":"","Operation":"EXPLODE","Track":"ALL"})",
                   why)
                   .has_value());
  EXPECT_EQ(why, "Operation or Track is missing or unknown");
}

TEST(OperationJsonTest, AnswersKeepTheKindAndMessage) {
  std::optional<control::ControlError> error =
      control::ControlError{control::ControlError::Kind::kInvalidRequest, "Already stopped."};
  std::optional<control::ControlError> back;
  ASSERT_TRUE(AnswerFromJson(AnswerToJson(error), back));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, control::ControlError::Kind::kInvalidRequest);
  EXPECT_EQ(back->message, "Already stopped.");
  ASSERT_TRUE(AnswerFromJson(AnswerToJson(std::nullopt), back));
  EXPECT_FALSE(back.has_value());
  EXPECT_FALSE(AnswerFromJson(R"({"Error":{"Kind":"Whatever","Message":"x"}})", back));
  EXPECT_FALSE(AnswerFromJson("<html>", back));
}

}  // namespace
}  // namespace callrec::cluster
