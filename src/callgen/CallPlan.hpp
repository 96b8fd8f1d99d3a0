#pragma once

#include <vector>

#include "callgen/CallgenConfig.hpp"

namespace callrec::callgen {

// What happens to a call after its first 200 OK, in time order.
enum class CallStep { kAgentJoins, kPauseStarts, kPauseEnds, kTransfer, kHangUp };

struct PlannedStep {
  Seconds at;  // from the call's first 200 OK
  CallStep step;
};

// The steps of every call: the options' times, sorted, ending with the BYE
// at --duration. Steps at the same time keep the order of CallStep.
std::vector<PlannedStep> PlanCall(const CallgenConfig& config);

// When call `index` (0-based) is placed, from the start of the run: calls
// follow each other at 1 / --rate seconds.
Seconds CallStartOffset(const CallgenConfig& config, int index);

const char* StepName(CallStep step);

}  // namespace callrec::callgen
