#pragma once

#include <cstdint>
#include <string>

#include "core/RecordingStateMachine.hpp"

namespace callrec::core {

// One call leg (PRODUCT.md 3). Times are milliseconds since the Unix epoch,
// supplied by the caller: core reads no clock.
struct Contact {
  std::string instance_id;
  std::string contact_id;
  std::string initial_contact_id;
  std::string agent_id;
  std::string codec;  // PCMU or PCMA
  RecordingStatus recording;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  // Bumped on every change; lets a failed write undo exactly its own change.
  std::int64_t version = 0;

  // The state shown to clients: ENDED, or the recording state.
  RecordingState state() const { return recording.state; }
};

// One line of a contact's audit trail: who asked for what, and what came of it.
struct AuditEntry {
  std::string contact_id;
  std::int64_t at_ms = 0;
  std::string operation;  // START, STOP, PAUSE, RESUME, CREATE, END, AGENT_JOINED
  std::string principal;  // access key id, "admin", an agent id, "recording-client"
  std::string result;     // OK, UNCHANGED, or the error type
  std::string detail;     // state reached, or the refusal's message
};

}  // namespace callrec::core
