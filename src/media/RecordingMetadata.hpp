#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/Contact.hpp"
#include "core/Result.hpp"
#include "media/MediaError.hpp"
#include "media/RecordingSession.hpp"

namespace callrec::media {

// What `<ContactId>.json` beside each recording says (PRODUCT.md 5).
struct RecordingMetadata {
  std::string contact_id;
  std::string initial_contact_id;
  std::string instance_id;
  std::string agent_id;
  std::string track;
  std::string codec;
  bool skip_paused = false;
  std::int64_t start_wall_ms = 0;
  std::int64_t end_wall_ms = -1;  // -1: not finished
  std::uint64_t frames = 0;
  std::vector<PauseInterval> pauses;
  std::string dtmf_policy = "record";  // --dtmf-policy
  std::vector<MaskedSpan> masked;      // DTMF replaced by silence
  std::vector<core::AuditEntry> audit_trail;
  SessionCounters counters;
  std::uint64_t storage_dropped_frames = 0;
  std::string sha256;
  std::string storage_error;
  bool complete = false;
  bool repaired = false;
};

boost::json::object MetadataToJson(const RecordingMetadata& metadata);
boost::json::array AuditTrailJson(const std::vector<core::AuditEntry>& trail);

// recordings/YYYY/MM/DD/<InitialContactId>/<ContactId>.wav, the date in UTC;
// ids are made safe as file names (anything but [A-Za-z0-9._-] is %XX-encoded).
std::filesystem::path RecordingPath(const std::filesystem::path& recordings_dir,
                                    const std::string& initial_contact_id,
                                    const std::string& contact_id, std::int64_t start_wall_ms);

// Temporary file (+ fsync when `durable`) + rename: readers see the old or the
// new file, never half of one.
core::Result<bool, MediaError> WriteJsonAtomically(const std::filesystem::path& path,
                                                   const boost::json::object& json,
                                                   bool durable = true);
core::Result<std::string, MediaError> Sha256OfFile(const std::filesystem::path& path);

}  // namespace callrec::media
