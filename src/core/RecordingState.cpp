#include "core/RecordingState.hpp"

#include <array>
#include <utility>

namespace callrec::core {
namespace {

constexpr std::array kStateNames{
    std::pair{RecordingState::kNotStarted, std::string_view{"NOT_STARTED"}},
    std::pair{RecordingState::kWaitingForAgent, std::string_view{"WAITING_FOR_AGENT"}},
    std::pair{RecordingState::kRecording, std::string_view{"RECORDING"}},
    std::pair{RecordingState::kPaused, std::string_view{"PAUSED"}},
    std::pair{RecordingState::kStopped, std::string_view{"STOPPED"}},
    std::pair{RecordingState::kEnded, std::string_view{"ENDED"}},
};

constexpr std::array kOperationNames{
    std::pair{Operation::kStart, std::string_view{"START"}},
    std::pair{Operation::kStop, std::string_view{"STOP"}},
    std::pair{Operation::kPause, std::string_view{"PAUSE"}},
    std::pair{Operation::kResume, std::string_view{"RESUME"}},
};

constexpr std::array kTrackNames{
    std::pair{Track::kNone, std::string_view{"NONE"}},
    std::pair{Track::kToAgent, std::string_view{"TO_AGENT"}},
    std::pair{Track::kFromAgent, std::string_view{"FROM_AGENT"}},
    std::pair{Track::kAll, std::string_view{"ALL"}},
};

template <typename Table, typename Enum>
std::string_view NameOf(const Table& table, Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "UNKNOWN";
}

template <typename Enum, typename Table>
std::optional<Enum> ValueOf(const Table& table, std::string_view text) {
  for (const auto& [v, name] : table) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(RecordingState state) {
  return NameOf(kStateNames, state);
}
std::string_view ToString(Operation operation) {
  return NameOf(kOperationNames, operation);
}
std::string_view ToString(Track track) {
  return NameOf(kTrackNames, track);
}

std::optional<RecordingState> ParseRecordingState(std::string_view text) {
  return ValueOf<RecordingState>(kStateNames, text);
}
std::optional<Operation> ParseOperation(std::string_view text) {
  return ValueOf<Operation>(kOperationNames, text);
}
std::optional<Track> ParseTrack(std::string_view text) {
  if (text == "NONE") return std::nullopt;
  return ValueOf<Track>(kTrackNames, text);
}

}  // namespace callrec::core
