#include "core/RecordingStateMachine.hpp"

namespace callrec::core {
namespace {

using enum RecordingState;

Result<Transition, Refusal> Refuse(Operation operation, RecordingState state, std::string why) {
  std::string message = "Cannot ";
  message += ToString(operation);
  message += " recording: the recording is ";
  message += ToString(state);
  if (!why.empty()) {
    message += "; ";
    message += why;
  }
  return Refusal{std::move(message)};
}

Transition Unchanged(const RecordingStatus& current) {
  return Transition{current, false};
}

Transition MoveTo(RecordingStatus next, RecordingState state) {
  next.state = state;
  return Transition{next, true};
}

RecordingState Running(const RecordingStatus& status) {
  return status.agent_joined ? kRecording : kWaitingForAgent;
}

}  // namespace

Result<Transition, Refusal> RecordingStateMachine::Apply(const RecordingStatus& current,
                                                         Operation operation, Track track) {
  const RecordingState state = current.state;
  if (state == kEnded) {
    return Refuse(operation, state, "the contact has ended");
  }
  switch (operation) {
    case Operation::kStart:
      if (state == kNotStarted) {
        RecordingStatus next = current;
        next.track = track == Track::kNone ? Track::kAll : track;
        return MoveTo(next, Running(current));
      }
      if (state == kRecording || state == kWaitingForAgent) return Unchanged(current);
      if (state == kPaused) return Refuse(operation, state, "use RESUME to continue it");
      return Refuse(operation, state, "a stopped recording cannot be restarted");

    case Operation::kPause:
      if (state == kRecording || state == kWaitingForAgent) return MoveTo(current, kPaused);
      if (state == kPaused) return Unchanged(current);
      if (state == kNotStarted) return Refuse(operation, state, "START it first");
      return Refuse(operation, state, "a stopped recording cannot be paused");

    case Operation::kResume:
      if (state == kPaused) return MoveTo(current, Running(current));
      if (state == kRecording || state == kWaitingForAgent) return Unchanged(current);
      if (state == kNotStarted) return Refuse(operation, state, "START it first");
      return Refuse(operation, state, "a stopped recording cannot be resumed");

    case Operation::kStop:
      if (state == kRecording || state == kWaitingForAgent || state == kPaused) {
        return MoveTo(current, kStopped);
      }
      if (state == kStopped) return Unchanged(current);
      return Refuse(operation, state, "there is nothing to stop");
  }
  return Refuse(operation, state, "unknown operation");
}

Transition RecordingStateMachine::AgentJoined(const RecordingStatus& current) {
  if (current.agent_joined) return Unchanged(current);
  RecordingStatus next = current;
  next.agent_joined = true;
  if (next.state == kWaitingForAgent) next.state = kRecording;
  return Transition{next, true};
}

Transition RecordingStateMachine::End(const RecordingStatus& current) {
  if (current.state == kEnded) return Unchanged(current);
  RecordingStatus next = current;
  next.final_state = current.state;
  next.state = kEnded;
  return Transition{next, true};
}

}  // namespace callrec::core
