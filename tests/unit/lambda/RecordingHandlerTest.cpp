#include "lambda/RecordingHandler.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace callrec::lambda {
namespace {

namespace json = boost::json;
using core::RecordingState;

constexpr RecordingState kStates[] = {
    RecordingState::kNotStarted, RecordingState::kWaitingForAgent, RecordingState::kRecording,
    RecordingState::kPaused,     RecordingState::kStopped,         RecordingState::kEnded,
};

// WCAG 2 contrast ratio of #rrggbb on white.
double ContrastOnWhite(std::string_view hex) {
  auto channel = [&](std::size_t at) {
    const double c = std::stoi(std::string(hex.substr(at, 2)), nullptr, 16) / 255.0;
    return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  const double luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (luminance + 0.05);
}

TEST(RecordingHtml, ColoursAreReadableOnWhite) {
  // The reference design's named colours were not: orange 1.97:1, red 4.00:1.
  EXPECT_NEAR(ContrastOnWhite("#ffa500"), 1.97, 0.005);
  EXPECT_NEAR(ContrastOnWhite("#ff0000"), 4.00, 0.005);
  EXPECT_NEAR(ContrastOnWhite(kRecordingGreen), 5.19, 0.005);
  EXPECT_NEAR(ContrastOnWhite(kPausedAmber), 5.20, 0.005);
  EXPECT_NEAR(ContrastOnWhite(kNotRecordingRed), 5.16, 0.005);
  EXPECT_NEAR(ContrastOnWhite(kWaitingBlue), 4.82, 0.005);
  EXPECT_NEAR(ContrastOnWhite(kNeutralGrey), 5.43, 0.005);
  for (RecordingState state : kStates) {
    EXPECT_GE(ContrastOnWhite(RecordingColour(state)), 4.5) << core::ToString(state);
    EXPECT_NE(RecordingHtml(state).find("color:" + std::string(RecordingColour(state))),
              std::string::npos);
  }
}

TEST(RecordingHtml, KeepsTheReferenceDesignsMeaning) {
  EXPECT_EQ(RecordingHtml(RecordingState::kRecording),
            "<p style='display: inline-block;color:#037f0c'>RECORDING ⬤</p>");
  EXPECT_EQ(RecordingHtml(RecordingState::kPaused),
            "<p style='display: inline-block;color:#8d6605'>PAUSED ⬤</p>");
  EXPECT_EQ(RecordingHtml(RecordingState::kNotStarted),
            "<p style='display: inline-block;color:#d91515'>NOT RECORDING ⬤</p>");
  EXPECT_EQ(RecordingHtml(RecordingState::kStopped),
            "<p style='display: inline-block;color:#d91515'>STOPPED ⬤</p>");
  // Claims no state: neither green, amber nor red.
  EXPECT_EQ(UnknownRecordingHtml(),
            "<p style='display: inline-block;color:#5f6b7a'>STATUS UNKNOWN ⬤</p>");
}

// The workspace's badge (web/js/dom.js presentState) and the guide's badge name
// every state alike.
TEST(RecordingHtml, NamesEachStateAsTheWorkspaceBadgeDoes) {
  std::ifstream file(std::string(CALLREC_WEB_DIR) + "/js/dom.js");
  ASSERT_TRUE(file) << CALLREC_WEB_DIR;
  std::stringstream text;
  text << file.rdbuf();
  const std::string dom = text.str();
  for (RecordingState state : kStates) {
    const std::string label_of = "case '" + std::string(core::ToString(state)) + "'";
    const std::size_t at = dom.find(label_of);
    ASSERT_NE(at, std::string::npos) << label_of;
    const std::size_t label = dom.find("label: '", at);
    ASSERT_NE(label, std::string::npos);
    const std::size_t end = dom.find('\'', label + 8);
    EXPECT_EQ(dom.substr(label + 8, end - label - 8), RecordingLabel(state))
        << core::ToString(state);
    EXPECT_NE(RecordingHtml(state).find(">" + std::string(RecordingLabel(state)) + " ⬤<"),
              std::string::npos);
  }
  EXPECT_NE(dom.find("label: 'STATUS UNKNOWN'"), std::string::npos);
}

struct Answer {
  std::string status;
  std::string html;
};

Answer Handle(const std::string& operation, aws::ConnectClient::Outcome outcome,
              const std::string& before = "", const std::string& before_html = "") {
  RecordingHandler handler(
      "instance-1", [&](core::Operation, const std::string&, const std::string&, const std::string&,
                        core::Track, std::chrono::steady_clock::time_point) { return outcome; });
  json::object attributes;
  if (!before.empty()) attributes["callRecordingStatus"] = before;
  if (!before_html.empty()) attributes["callRecordingHTML"] = before_html;
  const json::value event = {{"Details",
                              {{"ContactData", {{"ContactId", "c-1"}, {"Attributes", attributes}}},
                               {"Parameters", {{"operation", operation}}}}}};
  const auto result = handler.Handle(event, std::chrono::steady_clock::now());
  return {std::string(result.response.at("callRecordingStatus").as_string()),
          std::string(result.response.at("callRecordingHTML").as_string())};
}

aws::ConnectClient::Outcome Ok(std::optional<RecordingState> state = std::nullopt) {
  aws::ConnectClient::Outcome outcome;
  outcome.attempts = 1;
  outcome.state = state;
  return outcome;
}

aws::ConnectClient::Outcome Refused(const std::string& message) {
  aws::ConnectClient::Outcome outcome = Ok();
  outcome.error = aws::ConnectCallError{400, "InvalidRequestException", message};
  return outcome;
}

TEST(RecordingHandler, AStopShowsStoppedAsTheBadgeDoes) {
  const Answer answer = Handle("STOP", Ok());
  EXPECT_EQ(answer.status, "OFF");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kStopped));
}

TEST(RecordingHandler, TheStateTheServiceReportsIsTheOneShown) {
  // callrec's in-process API: a Start before the agent joined waits for them.
  const Answer answer = Handle("START", Ok(RecordingState::kWaitingForAgent));
  EXPECT_EQ(answer.status, "ON");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kWaitingForAgent));
  EXPECT_EQ(Handle("START", Ok()).html, RecordingHtml(RecordingState::kRecording));
  EXPECT_EQ(Handle("PAUSE", Ok()).html, RecordingHtml(RecordingState::kPaused));
}

TEST(RecordingHandler, ARefusalShowsTheStateItNames) {
  Answer answer = Handle("RESUME", Refused("Contact c-1 is STOPPED."), "OFF");
  EXPECT_EQ(answer.status, "OFF");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kStopped));
  answer = Handle("PAUSE", Refused("Contact c-1 is WAITING_FOR_AGENT."), "OFF");
  EXPECT_EQ(answer.status, "ON");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kWaitingForAgent));
  answer = Handle("PAUSE", Refused("Contact c-1 is ENDED."), "ON");
  EXPECT_EQ(answer.status, "OFF");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kEnded));
}

TEST(RecordingHandler, ARefusalNamingNoStateKeepsTheStateBefore) {
  Answer answer = Handle("RESUME", Refused("no"), "OFF", RecordingHtml(RecordingState::kStopped));
  EXPECT_EQ(answer.status, "OFF");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kStopped));
  answer = Handle("RESUME", Refused("no"), "OFF", RecordingHtml(RecordingState::kNotStarted));
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kNotStarted));
  answer = Handle("STOP", Refused("no"), "PAUSED");
  EXPECT_EQ(answer.status, "PAUSED");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kPaused));
  answer = Handle("STOP", Refused("no"));
  EXPECT_EQ(answer.status, "OFF");
  EXPECT_EQ(answer.html, RecordingHtml(RecordingState::kNotStarted));
}

}  // namespace
}  // namespace callrec::lambda
