// The project's agent guide (flows/agent-recording-guide.json) end to end, with
// the real recording handler (lambda::RecordingHandler) behind the invoker and a
// Connect API that keeps each contact's recording state like callrec-server's.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "GuideHarness.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

constexpr char kArn[] = "${CallRecordingLambdaArn}";

class ProjectGuide : public testing::GuideHarness {
 protected:
  void SetUp() override { Use(testing::ProjectFlow("agent-recording-guide.json")); }
};

TEST_F(ProjectGuide, StartShowsTheCardWithTheContactsAttributes) {
  GuideRun run = Run();
  const GuideView view = Started(run);
  EXPECT_FALSE(view.finished);
  EXPECT_EQ(view.action_identifier, "Manage Call Recording card");
  EXPECT_EQ(view.view_resource, "cards");
  EXPECT_EQ(view.view_resource_id, "arn:${AWS::Partition}:connect:${AWS::Region}:aws:view/cards");
  EXPECT_EQ(view.time_limit, std::chrono::seconds(14400));
  EXPECT_EQ(view.view_data.at("Heading"), "Manage Call Recording");
  EXPECT_EQ(view.view_data.at("AttributeBar").at(0).at("Value"), "contact-1");
  EXPECT_EQ(view.view_data.at("AttributeBar").at(0).at("Copyable"), true);
  EXPECT_EQ(Message(view), "Recording has not been started.");
  EXPECT_EQ(Badge(view), "<p style=\"display:inline-block;color:#d91515\">NOT RECORDING ⬤</p>");
  const json::array& actions =
      view.view_data.at("Cards").at(0).at("Detail").at("Actions").as_array();
  ASSERT_EQ(actions.size(), 6u);
  EXPECT_EQ(actions[3], "Pause recording");
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(writes_.empty());
  EXPECT_EQ(run.Current().view_data, view.view_data);
}

TEST_F(ProjectGuide, StartThenPauseRecordsThroughTheLambdaAndShowsTheNewBadge) {
  GuideRun run = Run();
  Started(run);
  GuideView view = Expect(run, Click("Start recording"));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].operation, core::Operation::kStart);
  EXPECT_EQ(calls_[0].track, core::Track::kAll);
  EXPECT_NE(Badge(view).find("RECORDING ⬤"), std::string::npos);
  EXPECT_NE(Badge(view).find("color:#037f0c"), std::string::npos);

  view = Expect(run, Click("Pause recording"));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(arns_[1], kArn);
  EXPECT_EQ(limits_[1], std::chrono::milliseconds(8000));
  const json::value& event = events_[1];
  EXPECT_EQ(event.at("Name"), "ContactFlowEvent");
  EXPECT_EQ(event.at("Details").at("Parameters"),
            (json::value{{"operation", "PAUSE"}, {"initialContactId", "contact-1"}}));
  EXPECT_EQ(event.at("Details").at("ContactData").at("ContactId"), "contact-2");
  EXPECT_EQ(event.at("Details").at("ContactData").at("InitialContactId"), "contact-1");
  EXPECT_EQ(event.at("Details").at("ContactData").at("Channel"), "VOICE");
  EXPECT_EQ(event.at("Details").at("ContactData").at("Attributes").at("callRecordingStatus"), "ON");
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1].operation, core::Operation::kPause);
  EXPECT_EQ(calls_[1].contact_id, "contact-2");
  EXPECT_EQ(calls_[1].initial_contact_id, "contact-1");
  EXPECT_EQ(status_.state, core::RecordingState::kPaused);

  // Saved on the guide's contact, then on the call.
  ASSERT_EQ(writes_.size(), 4u);
  EXPECT_EQ(writes_[2].target, "Current");
  EXPECT_EQ(writes_[3].target, "Related");
  const std::map<std::string, std::string> paused{
      {"callRecordingStatus", "PAUSED"},
      {"callRecordingHTML", core::RecordingHtml(core::RecordingState::kPaused)},
      {"callRecordingMessage", "PAUSE succeeded."}};
  EXPECT_EQ(writes_[2].attributes, paused);
  EXPECT_EQ(writes_[3].attributes, paused);
  EXPECT_EQ(run.contact().attributes.at("callRecordingStatus"), "PAUSED");

  EXPECT_EQ(view.action_identifier, "Manage Call Recording card");
  EXPECT_EQ(Badge(view), "<p style=\"display:inline-block;color:#8d6605\">PAUSED ⬤</p>");
  EXPECT_EQ(Message(view), "PAUSE succeeded.");
}

TEST_F(ProjectGuide, EachButtonAsksTheLambdaForItsOperationAndTrack) {
  const std::vector<std::tuple<std::string, core::Operation, core::Track, std::string>> buttons{
      {"Start customer only", core::Operation::kStart, core::Track::kToAgent, "TO_AGENT"},
      {"Start agent only", core::Operation::kStart, core::Track::kFromAgent, "FROM_AGENT"},
      {"Start recording", core::Operation::kStart, core::Track::kAll, "ALL"},
      {"Resume recording", core::Operation::kResume, core::Track::kAll, ""},
      {"Stop recording", core::Operation::kStop, core::Track::kAll, ""},
  };
  for (const auto& [label, operation, track, track_text] : buttons) {
    status_ = {};
    calls_.clear();
    events_.clear();
    GuideRun run = Run();
    Started(run);
    Expect(run, Click(label));
    ASSERT_EQ(calls_.size(), 1u) << label;
    EXPECT_EQ(calls_[0].operation, operation) << label;
    if (operation == core::Operation::kStart) {
      EXPECT_EQ(calls_[0].track, track) << label;
      EXPECT_EQ(events_[0].at("Details").at("Parameters").at("voiceRecordingTrack"),
                json::value(track_text));
    } else {
      EXPECT_EQ(events_[0].at("Details").at("Parameters").as_object().count("voiceRecordingTrack"),
                0u);
    }
  }
}

TEST_F(ProjectGuide, ARefusedOperationShowsTheStateTheApiReallyHas) {
  GuideRun run = Run();
  Started(run);
  const GuideView view = Expect(run, Click("Resume recording"));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(Badge(view), "<p style=\"display:inline-block;color:#d91515\">NOT RECORDING ⬤</p>");
  EXPECT_NE(Message(view).find("InvalidRequestException"), std::string::npos) << Message(view);
  EXPECT_EQ(run.contact().attributes.at("callRecordingStatus"), "OFF");
}

TEST_F(ProjectGuide, ALambdaErrorShowsStatusUnknownAndKeepsTheLastConfirmedState) {
  GuideRun run = Run();
  Started(run);
  Expect(run, Click("Start recording"));
  writes_.clear();
  lambda_error_ = "Task timed out after 8.00 seconds";
  const GuideView view = Expect(run, Click("Pause recording"));
  EXPECT_EQ(view.action_identifier, "Manage Call Recording card");
  EXPECT_EQ(Badge(view), "<p style=\"display:inline-block;color:#5f6b7a\">STATUS UNKNOWN ⬤</p>");
  EXPECT_NE(Message(view).find("did not answer"), std::string::npos);
  ASSERT_EQ(writes_.size(), 1u);
  EXPECT_EQ(writes_[0].target, "Current");
  EXPECT_EQ(writes_[0].attributes.count("callRecordingStatus"), 0u);
  EXPECT_EQ(run.contact().attributes.at("callRecordingStatus"), "ON");
}

TEST_F(ProjectGuide, AnAnswerThatIsNotAFlatStringMapIsALambdaError) {
  GuideRun run = Run();
  Started(run);
  answer_override_ = json::object{{"statusCode", 200}, {"callRecordingStatus", "ON"}};
  const GuideView view = Expect(run, Click("Start recording"));
  EXPECT_NE(Badge(view).find("STATUS UNKNOWN"), std::string::npos);
  answer_override_ =
      json::object{{"callRecordingStatus", "ON"}, {"nested", json::object{{"a", "b"}}}};
  EXPECT_NE(Badge(Expect(run, Click("Start recording"))).find("STATUS UNKNOWN"), std::string::npos);
}

TEST_F(ProjectGuide, BackTimeOutAndUnknownActionsShowTheCardAgainWithoutTheLambda) {
  GuideRun run = Run();
  Started(run);
  for (const json::value& output :
       {json::value{{"Result", "Back"}}, json::value{{"Result", "NoMatchFound"}},
        json::value{{"Result", "TimeLimitExceeded"}}, Click("Format the disk"),
        json::value{{"Result", "ActionSelected"}}}) {
    const GuideView view = Expect(run, output);
    EXPECT_EQ(view.action_identifier, "Manage Call Recording card") << output;
    EXPECT_FALSE(view.finished);
  }
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(writes_.empty());
}

TEST_F(ProjectGuide, RefusesOutputWhenNoViewIsShownOrItIsMalformed) {
  GuideRun run = Run();
  bool called = false;
  run.Act(Click("Pause recording"), [&](core::Result<GuideView, FlowError> view) {
    called = true;
    ASSERT_FALSE(view.ok());
    EXPECT_NE(view.error().message.find("no view"), std::string::npos);
  });
  EXPECT_TRUE(called);
  EXPECT_TRUE(run.Current().action_identifier.empty());
  Started(run);
  for (const json::value& output :
       {json::value("ActionSelected"), json::value{{"ViewResultData", {{"actionName", "x"}}}},
        json::value{{"Result", "ActionSelected"}, {"ViewResultData", "Pause recording"}}}) {
    called = false;
    run.Act(output, [&](core::Result<GuideView, FlowError> view) {
      called = true;
      EXPECT_FALSE(view.ok()) << output;
    });
    EXPECT_TRUE(called);
    // The card is still shown and still answers.
    EXPECT_EQ(run.Current().action_identifier, "Manage Call Recording card");
  }
  EXPECT_TRUE(events_.empty());
}

TEST_F(ProjectGuide, CurrentReRendersWithAttributesChangedElsewhere) {
  GuideRun run = Run();
  Started(run);
  ContactData fresh = contact_;
  fresh.attributes["callRecordingHTML"] = core::RecordingHtml(core::RecordingState::kRecording);
  fresh.attributes["callRecordingMessage"] = "Started from the API.";
  run.UpdateContact(fresh);
  const GuideView view = run.Current();
  EXPECT_EQ(Badge(view), "<p style=\"display:inline-block;color:#037f0c\">RECORDING ⬤</p>");
  EXPECT_EQ(Message(view), "Started from the API.");
}

TEST_F(ProjectGuide, AnAttributeCarryingScriptIsRenderedHarmless) {
  contact_.attributes["callRecordingHTML"] =
      "<p onmouseover=\"alert(1)\" style=\"color:red;background:url(javascript:alert(1))\">X</p>"
      "<script>alert(document.cookie)</script>";
  GuideRun run = Run();
  EXPECT_EQ(Badge(Started(run)), "<p style=\"color:red\">X</p>");
}

TEST_F(ProjectGuide, ALambdaAnsweringLaterContinuesTheRun) {
  std::vector<LambdaDone> pending;
  GuideRun run(
      flow_, contact_,
      [&](const std::string&, json::value, std::chrono::milliseconds, LambdaDone done) {
        pending.push_back(std::move(done));
      },
      [&](const std::string& target, const std::map<std::string, std::string>& attributes) {
        writes_.push_back({target, attributes});
      });
  Started(run);
  std::optional<core::Result<GuideView, FlowError>> got;
  run.Act(Click("Start recording"),
          [&](core::Result<GuideView, FlowError> view) { got.emplace(view); });
  EXPECT_FALSE(got.has_value());
  ASSERT_EQ(pending.size(), 1u);
  // While the Lambda is out the run refuses more output.
  bool refused = false;
  run.Act(Click("Stop recording"),
          [&](core::Result<GuideView, FlowError> view) { refused = !view.ok(); });
  EXPECT_TRUE(refused);
  pending[0](
      json::object{{"statusCode", "200"},
                   {"message", "START succeeded."},
                   {"operation", "START"},
                   {"callRecordingStatus", "ON"},
                   {"callRecordingHTML", core::RecordingHtml(core::RecordingState::kRecording)}});
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_NE(Badge(got->value()).find("color:#037f0c"), std::string::npos);
  // A second answer to the same invocation is ignored.
  pending[0](std::string("late error"));
  EXPECT_EQ(writes_.size(), 2u);
}

TEST_F(ProjectGuide, ALambdaAnsweringAfterTheRunIsGoneIsIgnored) {
  std::vector<LambdaDone> pending;
  bool called = false;
  {
    GuideRun run(
        flow_, contact_,
        [&](const std::string&, json::value, std::chrono::milliseconds, LambdaDone done) {
          pending.push_back(std::move(done));
        },
        nullptr);
    Started(run);
    run.Act(Click("Start recording"), [&](core::Result<GuideView, FlowError>) { called = true; });
  }
  ASSERT_EQ(pending.size(), 1u);
  pending[0](json::object{{"callRecordingStatus", "ON"}});
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace callrec::flow
