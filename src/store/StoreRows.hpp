#pragma once

// The rows both state stores (SQLite here, PostgreSQL in pgstore/) keep, with
// one column list and one decoder each: a store reads a row through its own
// engine's accessors (a column's text, integer, flag), so the two cannot drift.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/Contact.hpp"
#include "store/ContactStore.hpp"

namespace callrec::store {

inline constexpr const char* kContactColumns =
    "contact_id, instance_id, initial_contact_id, agent_id, codec, state, final_state, track, "
    "agent_joined, created_ms, updated_ms, version";
inline constexpr int kContactColumnCount = 12;

inline constexpr const char* kUploadColumns =
    "contact_id, wav_path, state, created_ms, attempts, next_attempt_ms, upload_id, bucket, "
    "object_key, etag, bytes, last_error, uploaded_ms, local_done";
inline constexpr int kUploadColumnCount = 14;

// A contact from kContactColumns starting at column `first`. `text(i)` gives
// column i as a string, `integer(i)` as an int64, `flag(i)` as a bool. A state
// this build does not know throws std::runtime_error (a read error).
template <typename Text, typename Integer, typename Flag>
core::Contact ContactFromColumns(int first, Text text, Integer integer, Flag flag) {
  core::Contact c;
  c.contact_id = text(first + 0);
  c.instance_id = text(first + 1);
  c.initial_contact_id = text(first + 2);
  c.agent_id = text(first + 3);
  c.codec = text(first + 4);
  const std::string state = text(first + 5);
  const std::string final_state = text(first + 6);
  const auto parsed_state = core::ParseRecordingState(state);
  const auto parsed_final = core::ParseRecordingState(final_state);
  if (!parsed_state || !parsed_final) {
    throw std::runtime_error("state database holds an unknown state '" +
                             (parsed_state ? final_state : state) + "' for contact " +
                             c.contact_id);
  }
  c.recording.state = *parsed_state;
  c.recording.final_state = *parsed_final;
  c.recording.track = core::ParseTrack(text(first + 7)).value_or(core::Track::kNone);
  c.recording.agent_joined = flag(first + 8);
  c.created_ms = integer(first + 9);
  c.updated_ms = integer(first + 10);
  c.version = integer(first + 11);
  return c;
}

// An upload row from kUploadColumns starting at column `first`.
template <typename Text, typename Integer, typename Flag>
UploadRow UploadFromColumns(int first, Text text, Integer integer, Flag flag) {
  UploadRow r;
  r.contact_id = text(first + 0);
  r.wav_path = text(first + 1);
  r.state = text(first + 2);
  r.created_ms = integer(first + 3);
  r.attempts = integer(first + 4);
  r.next_attempt_ms = integer(first + 5);
  r.upload_id = text(first + 6);
  r.bucket = text(first + 7);
  r.key = text(first + 8);
  r.etag = text(first + 9);
  r.bytes = static_cast<std::uint64_t>(integer(first + 10));
  r.last_error = text(first + 11);
  r.uploaded_ms = integer(first + 12);
  r.local_done = flag(first + 13);
  return r;
}

}  // namespace callrec::store
