#pragma once

#include <string>

#include "core/RecordingState.hpp"
#include "core/Result.hpp"

namespace callrec::core {

// The part of a contact the state machine decides on.
struct RecordingStatus {
  RecordingState state = RecordingState::kNotStarted;
  // When state is kEnded: what the recording was when the contact ended.
  RecordingState final_state = RecordingState::kNotStarted;
  Track track = Track::kNone;
  // Whether the agent has joined the call; START before that waits for the agent.
  bool agent_joined = true;

  bool operator==(const RecordingStatus&) const = default;
};

// The outcome of an accepted operation. `changed` is false for idempotent repeats.
struct Transition {
  RecordingStatus status;
  bool changed = false;
};

// An operation that the current state does not allow (InvalidRequestException).
struct Refusal {
  std::string message;
};

// PRODUCT.md 3 as pure functions: no I/O, no clock, no storage.
//
//   NOT_STARTED --START--> RECORDING (agent joined) | WAITING_FOR_AGENT
//   WAITING_FOR_AGENT --agent joins--> RECORDING
//   RECORDING | WAITING_FOR_AGENT --PAUSE--> PAUSED --RESUME--> RECORDING | WAITING_FOR_AGENT
//   any started state --STOP--> STOPPED (final: START after STOP is refused)
//   any state --contact ends--> ENDED (keeps final_state)
// Repeating the operation that produced the current state succeeds unchanged.
class RecordingStateMachine {
 public:
  // `track` is the requested VoiceRecordingTrack and only matters for START.
  static Result<Transition, Refusal> Apply(const RecordingStatus& current, Operation operation,
                                           Track track = Track::kAll);

  // The agent's leg has joined: a waiting recording starts.
  static Transition AgentJoined(const RecordingStatus& current);

  // The contact has finished; the recording is finalised in whatever state it had.
  static Transition End(const RecordingStatus& current);

  // Whether `operation` would be accepted now (for UIs that disable buttons).
  static bool Allows(const RecordingStatus& current, Operation operation) {
    return Apply(current, operation).ok();
  }
};

}  // namespace callrec::core
