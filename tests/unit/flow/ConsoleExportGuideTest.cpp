// A guide as the Amazon Connect console exports it
// (tests/fixtures/flows/console-export-guide.json, written by hand in that
// shape) end to end: each button's Lambda changes the recording state, the
// card shows what the Lambda answered, Back and NoMatchFound take their own
// branches.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "GuideHarness.hpp"
#include "flow/HtmlSanitiser.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

constexpr char kCard[] = "e3b1c2d4-5a6f-4b7c-8d9e-0f1a2b3c4d5e";
constexpr char kLambdaArn[] = "arn:aws:lambda:eu-west-2:123456789012:function:RecordingControl";

class ConsoleExportGuide : public testing::GuideHarness {
 protected:
  void SetUp() override { Use(testing::FixtureFlow("console-export-guide.json")); }
};

TEST_F(ConsoleExportGuide, StartShowsTheCardsViewWithWhatTheConsoleWrote) {
  GuideRun run = Run();
  const GuideView view = Started(run);
  EXPECT_EQ(view.action_identifier, kCard);
  EXPECT_EQ(view.view_resource, "cards");
  EXPECT_EQ(view.view_resource_id, "cards");
  EXPECT_EQ(view.time_limit, std::chrono::seconds(3600));
  EXPECT_EQ(view.view_data.at("Heading"), "Manage Call Recording");
  EXPECT_EQ(view.view_data.at("SubHeading"), "Pause before card details, resume afterwards");
  // AttributeBar links are passed through, their references resolved.
  const json::value& link = view.view_data.at("AttributeBar").at(0);
  EXPECT_EQ(link.at("Value"), "contact-2");
  EXPECT_EQ(link.at("LinkType"), "case");
  EXPECT_EQ(link.at("ResourceId"), "contact-2");
  EXPECT_EQ(link.at("Copyable"), true);
  EXPECT_EQ(view.view_data.at("AttributeBar").at(1).at("Value"), "contact-1");
  EXPECT_EQ(view.view_data.at("Back"), (json::value{{"Label", "Back"}}));
  EXPECT_EQ(view.view_data.at("NoMatchFound"), (json::value{{"Label", "None of these"}}));
  EXPECT_EQ(view.view_data.at("Cards").at(0).at("Summary").at("Status"), "OFF");
  EXPECT_NE(Badge(view).find("NOT RECORDING"), std::string::npos);
  EXPECT_TRUE(events_.empty());
}

TEST_F(ConsoleExportGuide, StartPauseResumeStopChangeTheRecordingThroughTheLambda) {
  GuideRun run = Run();
  Started(run);
  const std::vector<std::tuple<std::string, core::Operation, core::RecordingState, std::string>>
      steps{
          {"Start Recording", core::Operation::kStart, core::RecordingState::kRecording, "ON"},
          {"Pause Recording", core::Operation::kPause, core::RecordingState::kPaused, "PAUSED"},
          {"Resume Recording", core::Operation::kResume, core::RecordingState::kRecording, "ON"},
          {"Stop Recording", core::Operation::kStop, core::RecordingState::kStopped, "OFF"},
      };
  for (const auto& [label, operation, state, status] : steps) {
    SCOPED_TRACE(label);
    const std::size_t before = calls_.size();
    const GuideView view = Expect(run, Click(label));
    ASSERT_EQ(calls_.size(), before + 1);
    EXPECT_EQ(calls_.back().operation, operation);
    EXPECT_EQ(calls_.back().contact_id, "contact-2");
    EXPECT_EQ(calls_.back().initial_contact_id, "contact-1");
    EXPECT_EQ(status_.state, state);
    // Whatever account's Lambda the export names is the one invoked, with its limit.
    EXPECT_EQ(arns_.back(), kLambdaArn);
    EXPECT_EQ(limits_.back(), std::chrono::milliseconds(8000));
    const json::value& parameters = events_.back().at("Details").at("Parameters");
    EXPECT_EQ(parameters.at("operation"), json::value(core::ToString(operation)));
    EXPECT_EQ(parameters.at("contactId"), "contact-2");
    EXPECT_EQ(parameters.at("initialContactId"), "contact-1");
    EXPECT_EQ(parameters.as_object().count("voiceRecordingTrack"),
              operation == core::Operation::kStart ? 1u : 0u);
    // The card shows the state the Lambda answered.
    EXPECT_EQ(view.action_identifier, kCard);
    EXPECT_EQ(run.contact().attributes.at("callRecordingStatus"), status);
    EXPECT_EQ(view.view_data.at("Cards").at(0).at("Summary").at("Status"), json::value(status));
    EXPECT_EQ(Badge(view),
              SanitiseHtml(core::RecordingHtml(state)));  // STOPPED, not NOT RECORDING
    EXPECT_EQ(Message(view), std::string(core::ToString(operation)) + " succeeded.");
  }
  EXPECT_EQ(calls_[0].track, core::Track::kAll);
}

TEST_F(ConsoleExportGuide, BackAndNoMatchFoundTakeTheirBranchesWithoutTheLambda) {
  GuideRun run = Run();
  Started(run);
  GuideView view = Expect(run, json::value{{"Result", "Back"}});
  EXPECT_EQ(view.action_identifier, kCard);
  EXPECT_EQ(Message(view), "Recording has not been started.");
  view = Expect(run, json::value{{"Result", "NoMatchFound"}});
  EXPECT_EQ(view.action_identifier, kCard);
  EXPECT_EQ(Message(view), "No recording action was chosen.");
  view = Expect(run, Click("Format the disk"));
  EXPECT_EQ(view.action_identifier, kCard);
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(calls_.empty());
}

TEST_F(ConsoleExportGuide, ALambdaErrorShowsStatusUnknown) {
  GuideRun run = Run();
  Started(run);
  lambda_error_ = "AccessDeniedException: the instance may not invoke the function";
  const GuideView view = Expect(run, Click("Start Recording"));
  EXPECT_EQ(view.action_identifier, kCard);
  EXPECT_NE(Badge(view).find("STATUS UNKNOWN"), std::string::npos);
  EXPECT_EQ(run.contact().attributes.at("callRecordingStatus"), "OFF");
}

}  // namespace
}  // namespace callrec::flow
