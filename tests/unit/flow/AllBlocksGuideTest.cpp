// Every block and branch the guide runtime supports, on a hand-written guide
// (tests/fixtures/flows/all-blocks-guide.json) and small inline flows.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "FlowFiles.hpp"
#include "flow/GuideRun.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

using Outcome = core::Result<GuideView, FlowError>;

class AllBlocksGuide : public ::testing::Test {
 protected:
  void SetUp() override {
    flow_ = testing::MustLoad(testing::FixtureFlow("all-blocks-guide.json"));
    ASSERT_TRUE(flow_);
    contact_.contact_id = "c-9";
    contact_.agent_id = "agent-7";
  }

  GuideRun Run() { return Run(flow_); }

  GuideRun Run(std::shared_ptr<const Flow> flow) {
    return GuideRun(
        std::move(flow), contact_,
        [this](const std::string& arn, json::value event, std::chrono::milliseconds limit,
               LambdaDone done) {
          arns_.push_back(arn);
          events_.push_back(std::move(event));
          limits_.push_back(limit);
          if (answer_.ok()) return done(answer_.value());
          done(answer_.error());
        },
        [this](const std::string& target, const std::map<std::string, std::string>& attributes) {
          writes_.emplace_back(target, attributes);
        });
  }

  static Outcome Start(GuideRun& run) {
    std::optional<Outcome> got;
    run.Start([&](Outcome outcome) { got.emplace(std::move(outcome)); });
    EXPECT_TRUE(got.has_value());
    return got ? *got : Outcome(FlowError{"", "", "done not called"});
  }

  static Outcome Act(GuideRun& run, const json::value& output) {
    std::optional<Outcome> got;
    run.Act(output, [&](Outcome outcome) { got.emplace(std::move(outcome)); });
    EXPECT_TRUE(got.has_value());
    return got ? *got : Outcome(FlowError{"", "", "done not called"});
  }

  static json::value Click(std::string action) {
    return json::value{{"Result", "ActionSelected"}, {"ViewResultData", {{"actionName", action}}}};
  }

  static std::string Level(const GuideView& view) {
    return std::string(view.view_data.at("AttributeBar").at(1).at("Value").as_string());
  }

  std::shared_ptr<const Flow> flow_;
  ContactData contact_;
  core::Result<json::object, std::string> answer_{json::object()};
  std::vector<std::string> arns_;
  std::vector<json::value> events_;
  std::vector<std::chrono::milliseconds> limits_;
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> writes_;
};

TEST_F(AllBlocksGuide, StartSetsAttributesAndResolvesTheView) {
  GuideRun run = Run();
  const Outcome started = Start(run);
  ASSERT_TRUE(started.ok()) << started.error().message;
  const GuideView& view = started.value();
  EXPECT_EQ(view.action_identifier, "Menu");
  EXPECT_EQ(view.view_resource, "cards");
  EXPECT_EQ(view.time_limit, std::chrono::seconds(600));
  EXPECT_EQ(view.view_data.at("Heading"), "agent-7");                     // $.Agent.UserName
  EXPECT_EQ(view.view_data.at("AttributeBar").at(0).at("Value"), "c-9");  // ['contact']
  EXPECT_EQ(Level(view), "");                                             // not set yet
  const json::value& card = view.view_data.at("Cards").at(0);
  EXPECT_EQ(card.at("Summary").at("Description"), "");  // missing attribute
  EXPECT_EQ(card.at("Detail").at("Sections").at(0).at("TemplateString"), "<b>welcome</b>");
  EXPECT_EQ(card.at("Detail").at("Sections").at(1).at("TemplateString"), "<a>static</a>");
  ASSERT_EQ(writes_.size(), 1u);
  EXPECT_EQ(writes_[0].first, "Current");
  EXPECT_EQ(writes_[0].second.at("greeting"), "agent-7");
  EXPECT_EQ(writes_[0].second.at("contact"), "c-9");
  // The attribute keeps the raw text; only what is rendered is sanitised.
  EXPECT_NE(writes_[0].second.at("note").find("<script>"), std::string::npos);
}

TEST_F(AllBlocksGuide, AJsonLambdaAnswerIsComparedAsANumberAndCopiedToTheRelatedContact) {
  GuideRun run = Run();
  ASSERT_TRUE(Start(run).ok());
  answer_ = json::object{{"result", json::object{{"score", 42}}}};
  const Outcome after = Act(run, Click("Ask"));
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(arns_[0], "arn:aws:lambda:eu-west-2:111122223333:function:scorer");
  EXPECT_EQ(limits_[0], std::chrono::milliseconds(3000));
  EXPECT_EQ(events_[0].at("Details").at("Parameters"),
            (json::value{{"question", "Ask"}, {"agent", "agent-7"}, {"fixed", "yes"}}));
  EXPECT_EQ(events_[0].at("Details").at("ContactData").at("Attributes").at("greeting"), "agent-7");
  ASSERT_EQ(writes_.size(), 2u);
  EXPECT_EQ(writes_[1].first, "Related");
  EXPECT_EQ(writes_[1].second,
            (std::map<std::string, std::string>{{"score", "42"}, {"level", "high"}}));
  EXPECT_EQ(Level(after.value()), "");  // the related contact's attributes are not this one's
  EXPECT_EQ(run.contact().attributes.count("level"), 0u);
}

TEST_F(AllBlocksGuide, ALowScoreIsWrittenOnTheCurrentContactAndShown) {
  GuideRun run = Run();
  ASSERT_TRUE(Start(run).ok());
  answer_ = json::object{{"result", json::object{{"score", "7.5"}}}, {"note", "<i>close</i>"}};
  const Outcome after = Act(run, Click("Ask"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Level(after.value()), "low");
  EXPECT_EQ(after.value()
                .view_data.at("Cards")
                .at(0)
                .at("Detail")
                .at("Sections")
                .at(0)
                .at("TemplateString"),
            "<i>close</i>");
}

TEST_F(AllBlocksGuide, ANonNumericScoreAndALambdaErrorTakeTheErrorBranches) {
  GuideRun run = Run();
  ASSERT_TRUE(Start(run).ok());
  answer_ = json::object{{"result", json::object{{"score", "high"}}}};
  Outcome after = Act(run, Click("Ask"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Level(after.value()), "unknown");

  run.UpdateContact(contact_);  // forget "unknown"
  EXPECT_EQ(Level(run.Current()), "");
  answer_ = std::string("Lambda throttled");
  after = Act(run, Click("Ask"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Level(after.value()), "unknown");
  EXPECT_EQ(events_.size(), 2u);
}

TEST_F(AllBlocksGuide, ALoopWithoutAViewIsCutAndEndsTheRun) {
  GuideRun run = Run();
  ASSERT_TRUE(Start(run).ok());
  const Outcome looped = Act(run, Click("Loop"));
  ASSERT_FALSE(looped.ok());
  EXPECT_TRUE(looped.error().identifier == "Spin" || looped.error().identifier == "Spin again");
  EXPECT_NE(looped.error().message.find("1000 blocks"), std::string::npos)
      << looped.error().message;
  EXPECT_TRUE(run.Current().finished);
  EXPECT_FALSE(Act(run, Click("Ask")).ok());
  // Start begins a fresh run.
  const Outcome again = Start(run);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().action_identifier, "Menu");
}

TEST_F(AllBlocksGuide, EndsOnDisconnectEndFlowExecutionAndTimeOut) {
  for (const json::value& output : {json::value{{"Result", "Back"}}, Click("Quit"),
                                    json::value{{"Result", "TimeLimitExceeded"}}}) {
    GuideRun run = Run();
    ASSERT_TRUE(Start(run).ok());
    const Outcome ended = Act(run, output);
    ASSERT_TRUE(ended.ok()) << output;
    EXPECT_TRUE(ended.value().finished) << output;
    EXPECT_TRUE(ended.value().action_identifier.empty());
    EXPECT_TRUE(run.Current().finished);
    EXPECT_FALSE(Act(run, Click("Ask")).ok());
  }
}

TEST_F(AllBlocksGuide, AnUnmatchedResultGoesToNoMatchingCondition) {
  GuideRun run = Run();
  ASSERT_TRUE(Start(run).ok());
  const Outcome again = Act(run, json::value{{"Result", "NoMatchFound"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().action_identifier, "Menu");
  EXPECT_TRUE(events_.empty());
}

std::shared_ptr<const Flow> Inline(std::string_view json) {
  auto flow = Flow::Parse(json);
  EXPECT_TRUE(flow.ok()) << flow.error().identifier << ": " << flow.error().message;
  return flow.ok() ? std::make_shared<const Flow>(std::move(flow).value()) : nullptr;
}

constexpr char kView[] = R"({"Identifier": "View", "Type": "ShowView",
    "Parameters": {"ViewResource": {"Id": "arn:aws:connect:eu-west-2:aws:view/cards"},
                   "ViewData": {"Heading": "$.Attributes.state"}},
    "Transitions": {"NextAction": "End"}},
  {"Identifier": "End", "Type": "DisconnectParticipant"})";

TEST_F(AllBlocksGuide, AnErrorWithoutABranchEndsTheRunNamingTheBlock) {
  const auto flow = Inline(std::string(R"({"StartAction": "Decide", "Actions": [
      {"Identifier": "Decide", "Type": "Compare", "Parameters": {"ComparisonValue": "$.Attributes.x"},
       "Transitions": {"NextAction": "View", "Conditions": [
         {"NextAction": "View", "Condition": {"Operator": "Equals", "Operands": ["yes"]}}]}},)") +
                           kView + "]}");
  ASSERT_TRUE(flow);
  GuideRun run = Run(flow);
  const Outcome outcome = Start(run);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().identifier, "Decide");
  EXPECT_EQ(outcome.error().type, "Compare");
  EXPECT_NE(outcome.error().message.find("NoMatchingCondition"), std::string::npos);
  contact_.attributes["x"] = "yes";
  GuideRun matching = Run(flow);
  EXPECT_TRUE(Start(matching).ok());
}

TEST_F(AllBlocksGuide, AttributesConnectWouldRefuseTakeTheErrorBranch) {
  const auto flow = Inline(std::string(R"({"StartAction": "Set", "Actions": [
      {"Identifier": "Set", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"$.Attributes.key": "value", "state": "set"}},
       "Transitions": {"NextAction": "View", "Errors": [{"NextAction": "Failed", "ErrorType": "NoMatchingError"}]}},
      {"Identifier": "Failed", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"state": "failed"}}, "Transitions": {"NextAction": "View"}},)") +
                           kView + "]}");
  ASSERT_TRUE(flow);
  auto state = [&](std::string key) {
    contact_.attributes = {{"key", key}};
    writes_.clear();
    GuideRun run = Run(flow);
    const Outcome outcome = Start(run);
    EXPECT_TRUE(outcome.ok());
    return outcome.ok() ? std::string(outcome.value().view_data.at("Heading").as_string()) : "";
  };
  EXPECT_EQ(state("good_key-1"), "set");
  EXPECT_EQ(writes_.at(0).second.at("good_key-1"), "value");
  EXPECT_EQ(state("has space"), "failed");
  EXPECT_EQ(state(""), "failed");
  // Past 32 KiB: Set takes its error branch, and Failed, which has none, ends the run.
  contact_.attributes = {{"key", "big"}, {"filler", std::string(32760, 'f')}};
  GuideRun run = Run(flow);
  const Outcome outcome = Start(run);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().identifier, "Failed");
  EXPECT_NE(outcome.error().message.find("NoMatchingError"), std::string::npos);
}

}  // namespace
}  // namespace callrec::flow
