#pragma once

#include <string>
#include <string_view>

#include "core/RecordingState.hpp"

namespace callrec::core {

// What a recording state is called and shown as wherever a person or a flow
// reads it: Connect's callRecordingStatus, and the guide's badge (the Lambda's
// callRecordingHTML; the workspace's badge in web/js/dom.js says the same).

// callRecordingStatus for a state, as flows compare it: ON (recording, or
// waiting for the agent to start), PAUSED, OFF.
std::string RecordingStatusAttribute(core::RecordingState state);

// The guide's badge (callRecordingHTML) names each state as the workspace's
// badge does (web/js/dom.js): RECORDING, PAUSED, NOT RECORDING, WAITING FOR
// AGENT, STOPPED, ENDED. Colours keep the reference design's meaning (green
// recording, amber paused, red not recording) in the workspace's own shades,
// each at least 4.5:1 on white (WCAG AA; RecordingHandlerTest measures them).
inline constexpr std::string_view kRecordingGreen = "#037f0c";
inline constexpr std::string_view kPausedAmber = "#8d6605";
inline constexpr std::string_view kNotRecordingRed = "#d91515";
inline constexpr std::string_view kWaitingBlue = "#0972d3";
inline constexpr std::string_view kNeutralGrey = "#5f6b7a";  // ENDED, STATUS UNKNOWN

std::string_view RecordingLabel(core::RecordingState state);
std::string_view RecordingColour(core::RecordingState state);
std::string RecordingHtml(core::RecordingState state);
// What a flow shows when the Lambda failed: neutral, claiming no state.
std::string UnknownRecordingHtml();

}  // namespace callrec::core
