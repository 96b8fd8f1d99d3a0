#pragma once

#include <cstdint>
#include <string>

namespace callrec::upload {

// Amazon Connect's key for a call recording:
// PREFIX/CallRecordings/YYYY/MM/DD/<ContactId>_<YYYYMMDD>T<HH:MM>_UTC.wav, the
// date and time the recording started, in UTC, to the minute, with a literal
// colon. No prefix: the key starts at CallRecordings/.
std::string ConnectRecordingKey(const std::string& prefix, const std::string& contact_id,
                                std::int64_t start_ms);
// The metadata object beside it: the same key ending .json.
std::string MetadataKeyFor(const std::string& wav_key);

}  // namespace callrec::upload
