#include "callgen/CallPlan.hpp"

#include <algorithm>

namespace callrec::callgen {

std::vector<PlannedStep> PlanCall(const CallgenConfig& config) {
  std::vector<PlannedStep> plan;
  if (config.agent_joins_after) plan.push_back({*config.agent_joins_after, CallStep::kAgentJoins});
  if (config.client_pause) {
    plan.push_back({config.client_pause->start, CallStep::kPauseStarts});
    plan.push_back({config.client_pause->end, CallStep::kPauseEnds});
  }
  if (config.transfer_after) plan.push_back({*config.transfer_after, CallStep::kTransfer});
  plan.push_back({config.duration, CallStep::kHangUp});
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedStep& a, const PlannedStep& b) {
    return a.at < b.at || (a.at == b.at && a.step < b.step);
  });
  return plan;
}

Seconds CallStartOffset(const CallgenConfig& config, int index) {
  return Seconds{static_cast<double>(index) / config.rate};
}

const char* StepName(CallStep step) {
  switch (step) {
    case CallStep::kAgentJoins:
      return "agent joins";
    case CallStep::kPauseStarts:
      return "pause";
    case CallStep::kPauseEnds:
      return "resume";
    case CallStep::kTransfer:
      return "transfer";
    case CallStep::kHangUp:
      return "hang up";
  }
  return "?";
}

}  // namespace callrec::callgen
