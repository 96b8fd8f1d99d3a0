#include "callgen/CallPlan.hpp"

#include <gtest/gtest.h>

namespace callrec::callgen {
namespace {

TEST(CallPlan, HangsUpAtTheDurationWhenNothingElseIsAsked) {
  CallgenConfig config;
  config.duration = Seconds{7.5};
  const auto plan = PlanCall(config);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].step, CallStep::kHangUp);
  EXPECT_DOUBLE_EQ(plan[0].at.count(), 7.5);
}

TEST(CallPlan, OrdersEveryStepByTime) {
  CallgenConfig config;
  config.duration = Seconds{20};
  config.transfer_after = Seconds{12};
  config.client_pause = PauseWindow{Seconds{5}, Seconds{8}};
  config.agent_joins_after = Seconds{2};
  const auto plan = PlanCall(config);
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[0].step, CallStep::kAgentJoins);
  EXPECT_EQ(plan[1].step, CallStep::kPauseStarts);
  EXPECT_EQ(plan[2].step, CallStep::kPauseEnds);
  EXPECT_EQ(plan[3].step, CallStep::kTransfer);
  EXPECT_EQ(plan[4].step, CallStep::kHangUp);
  EXPECT_DOUBLE_EQ(plan[3].at.count(), 12);
}

TEST(CallPlan, CallsFollowEachOtherAtTheRate) {
  CallgenConfig config;
  config.rate = 4;
  EXPECT_DOUBLE_EQ(CallStartOffset(config, 0).count(), 0.0);
  EXPECT_DOUBLE_EQ(CallStartOffset(config, 1).count(), 0.25);
  EXPECT_DOUBLE_EQ(CallStartOffset(config, 10).count(), 2.5);
}

}  // namespace
}  // namespace callrec::callgen
