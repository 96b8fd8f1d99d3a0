#pragma once

#include <optional>
#include <string_view>

namespace callrec::core {

// Where a contact's recording stands (PRODUCT.md 3). ENDED means the contact
// itself has finished; the recording state it had is kept beside it.
enum class RecordingState { kNotStarted, kWaitingForAgent, kRecording, kPaused, kStopped, kEnded };

// What a client (agent, Lambda, API, recording client) asks for.
enum class Operation { kStart, kStop, kPause, kResume };

// VoiceRecordingTrack: TO_AGENT = customer side, FROM_AGENT = agent's voice.
enum class Track { kNone, kToAgent, kFromAgent, kAll };

std::string_view ToString(RecordingState state);
std::string_view ToString(Operation operation);
std::string_view ToString(Track track);

std::optional<RecordingState> ParseRecordingState(std::string_view text);
std::optional<Operation> ParseOperation(std::string_view text);
// Accepts the Connect enum names (TO_AGENT, FROM_AGENT, ALL); kNone is never parsed.
std::optional<Track> ParseTrack(std::string_view text);

}  // namespace callrec::core
