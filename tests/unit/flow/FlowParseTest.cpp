#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "FlowFiles.hpp"
#include "core/StatusBadge.hpp"
#include "flow/Flow.hpp"
#include "flow/GuideRun.hpp"
#include "flow/InboundAttributes.hpp"

namespace callrec::flow {
namespace {

using testing::FixtureFlow;
using testing::MustLoad;
using testing::ProjectFlow;

FlowError Refusal(const std::filesystem::path& path, FlowKind kind = FlowKind::kGuide) {
  auto flow = Flow::Load(path, kind);
  EXPECT_FALSE(flow.ok()) << path << " was accepted";
  return flow.ok() ? FlowError{} : flow.error();
}

FlowError RefusalOf(std::string_view json) {
  auto flow = Flow::Parse(json);
  EXPECT_FALSE(flow.ok()) << json << " was accepted";
  return flow.ok() ? FlowError{} : flow.error();
}

TEST(FlowParse, LoadsTheProjectGuideWithItsPlaceholders) {
  const auto flow = MustLoad(ProjectFlow("agent-recording-guide.json"));
  ASSERT_TRUE(flow);
  EXPECT_EQ(flow->start().identifier, "Enable flow logs");
  EXPECT_EQ(flow->blocks().size(), 13u);
  const Block* card = flow->Find("Manage Call Recording card");
  ASSERT_NE(card, nullptr);
  EXPECT_EQ(card->kind, BlockType::kShowView);
  EXPECT_EQ(TimeLimit(*card), std::chrono::seconds(14400));
  const Block* pause = flow->Find("Lambda PAUSE");
  ASSERT_NE(pause, nullptr);
  EXPECT_EQ(TimeLimit(*pause), std::chrono::seconds(8));
  ASSERT_NE(pause->NextOnError("NoMatchingError"), nullptr);
  EXPECT_EQ(*pause->NextOnError("SomethingElse"), "Status unknown after Lambda error");
}

TEST(FlowParse, TheInboundFlowIsRefusedAsAGuideButLoadsAsInbound) {
  const FlowError error = Refusal(ProjectFlow("inbound-recording.json"));
  EXPECT_EQ(error.identifier, "Compliance prompt");
  EXPECT_EQ(error.type, "MessageParticipant");
  EXPECT_NE(MustLoad(ProjectFlow("inbound-recording.json"), FlowKind::kInbound), nullptr);
}

TEST(FlowParse, InboundAttributesAreWhatTheInboundFlowSets) {
  const auto inbound = MustLoad(ProjectFlow("inbound-recording.json"), FlowKind::kInbound);
  ASSERT_TRUE(inbound);
  ContactData contact;
  contact.contact_id = "c-2";
  contact.initial_contact_id = "c-1";
  const auto attributes = InboundAttributes(*inbound, contact);
  EXPECT_EQ(attributes.at("initialContactId"), "c-1");
  EXPECT_EQ(attributes.at("callRecordingStatus"), "OFF");
  EXPECT_EQ(attributes.at("callRecordingHTML"),
            "<p style='display: inline-block;color:#d91515'>NOT RECORDING ⬤</p>");
  EXPECT_EQ(attributes.at("callRecordingMessage"), "Recording has not been started.");
  EXPECT_EQ(attributes.size(), 4u);
  // The built-in defaults are the same values, and the badge is the Lambda's.
  EXPECT_EQ(DefaultInboundAttributes(contact), attributes);
  EXPECT_EQ(attributes.at("callRecordingHTML"),
            core::RecordingHtml(core::RecordingState::kNotStarted));
  // A first contact is its own initial contact.
  contact.initial_contact_id.clear();
  EXPECT_EQ(InboundAttributes(*inbound, contact).at("initialContactId"), "c-2");
  EXPECT_EQ(DefaultInboundAttributes(contact).at("initialContactId"), "c-2");
}

TEST(FlowParse, InboundAttributesFollowTheFlowOrderAndCompare) {
  const auto inbound = Flow::Parse(R"({
    "Version": "2019-10-30", "StartAction": "A",
    "Actions": [
      {"Identifier": "A", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"tier": "gold", "x": "first"}}, "Transitions": {"NextAction": "Prompt"}},
      {"Identifier": "Prompt", "Type": "MessageParticipant", "Parameters": {"Text": "hi"},
       "Transitions": {"NextAction": "Is gold"}},
      {"Identifier": "Is gold", "Type": "Compare", "Parameters": {"ComparisonValue": "$.Attributes.tier"},
       "Transitions": {"NextAction": "Other",
         "Conditions": [{"NextAction": "Gold", "Condition": {"Operator": "Equals", "Operands": ["gold"]}}],
         "Errors": [{"NextAction": "Other", "ErrorType": "NoMatchingCondition"}]}},
      {"Identifier": "Gold", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"x": "second", "copy": "$.Attributes.x"}}, "Transitions": {"NextAction": "Related"}},
      {"Identifier": "Related", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"elsewhere": "yes"}, "TargetContact": "Related"}, "Transitions": {"NextAction": "End"}},
      {"Identifier": "Other", "Type": "UpdateContactAttributes",
       "Parameters": {"Attributes": {"x": "other"}}, "Transitions": {"NextAction": "End"}},
      {"Identifier": "End", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]})",
                                   FlowKind::kInbound);
  ASSERT_TRUE(inbound.ok()) << inbound.error().message;
  ContactData contact;
  contact.contact_id = "c";
  const auto attributes = InboundAttributes(inbound.value(), contact);
  EXPECT_EQ(attributes, (std::map<std::string, std::string>{
                            {"tier", "gold"}, {"x", "second"}, {"copy", "first"}}));
}

TEST(FlowParse, LoadsAGuideUsingEverySupportedBlock) {
  const auto flow = MustLoad(FixtureFlow("all-blocks-guide.json"));
  ASSERT_TRUE(flow);
  EXPECT_EQ(flow->name(), "every block the guide runtime supports");
  EXPECT_EQ(TimeLimit(*flow->Find("Ask Lambda")), std::chrono::seconds(3));
  EXPECT_EQ(TimeLimit(*flow->Find("Menu")), std::chrono::seconds(600));
}

TEST(FlowParse, RefusesAnUnknownBlockTypeNamingIt) {
  const FlowError error = Refusal(FixtureFlow("refuse-unknown-type.json"));
  EXPECT_EQ(error.identifier, "Say hello");
  EXPECT_EQ(error.type, "PlayPrompt");
  EXPECT_NE(error.message.find("unknown block type PlayPrompt"), std::string::npos)
      << error.message;
}

TEST(FlowParse, RefusesADocumentedBlockTheGuideCannotRun) {
  const FlowError error = Refusal(FixtureFlow("refuse-unsupported-block.json"));
  EXPECT_EQ(error.identifier, "Tell the customer");
  EXPECT_EQ(error.type, "MessageParticipant");
  EXPECT_NE(error.message.find("not supported"), std::string::npos) << error.message;
}

TEST(FlowParse, RefusesAViewOtherThanCards) {
  const FlowError error = Refusal(FixtureFlow("refuse-unsupported-view.json"));
  EXPECT_EQ(error.identifier, "Ask for details");
  EXPECT_EQ(error.type, "ShowView");
  EXPECT_NE(error.message.find("view/form"), std::string::npos) << error.message;
}

TEST(FlowParse, RefusesBadJsonPaths) {
  FlowError error = Refusal(FixtureFlow("refuse-bad-jsonpath.json"));
  EXPECT_EQ(error.identifier, "Copy");
  EXPECT_EQ(error.type, "UpdateContactAttributes");
  EXPECT_NE(error.message.find("$.Atributes.typo"), std::string::npos) << error.message;
  error = Refusal(FixtureFlow("refuse-malformed-jsonpath.json"));
  EXPECT_EQ(error.identifier, "Show");
  EXPECT_NE(error.message.find("$.Attributes..name"), std::string::npos) << error.message;
}

TEST(FlowParse, RefusesADanglingTransition) {
  const FlowError error = Refusal(FixtureFlow("refuse-dangling.json"));
  EXPECT_EQ(error.identifier, "Show");
  EXPECT_EQ(error.type, "ShowView");
  EXPECT_NE(error.message.find("'Nowhere'"), std::string::npos) << error.message;
}

TEST(FlowParse, RefusesAnUnknownConditionOperator) {
  const FlowError error = Refusal(FixtureFlow("refuse-unknown-operator.json"));
  EXPECT_EQ(error.identifier, "Decide");
  EXPECT_EQ(error.type, "Compare");
  EXPECT_NE(error.message.find("'Matches'"), std::string::npos) << error.message;
}

TEST(FlowParse, RefusesBrokenFiles) {
  EXPECT_NE(RefusalOf("{\"Version\": ").message.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(RefusalOf("[]").identifier, "");
  EXPECT_NE(RefusalOf(R"({"Version": "2019-10-30", "Actions": []})").message.find("StartAction"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Version": "2019-10-30", "StartAction": "X", "Actions": []})")
                .message.find("'X'"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Version": "2020-01-01", "StartAction": "X", "Actions": []})")
                .message.find("Version"),
            std::string::npos);
  const FlowError twice = RefusalOf(R"({"StartAction": "A", "Actions": [
      {"Identifier": "A", "Type": "DisconnectParticipant"},
      {"Identifier": "A", "Type": "EndFlowExecution"}]})");
  EXPECT_EQ(twice.identifier, "A");
  EXPECT_EQ(twice.type, "EndFlowExecution");
  const FlowError missing = Flow::Load(FixtureFlow("no-such-flow.json")).error();
  EXPECT_NE(missing.message.find("cannot read"), std::string::npos);
}

TEST(FlowParse, RefusesBlockParametersTheRuntimeCannotHonour) {
  auto refused = [](std::string_view block) {
    const std::string json = R"({"StartAction": "B", "Actions": [)" + std::string(block) +
                             R"(, {"Identifier": "End", "Type": "DisconnectParticipant"}]})";
    return RefusalOf(json);
  };
  const FlowError async = refused(R"({"Identifier": "B", "Type": "InvokeLambdaFunction",
      "Parameters": {"LambdaFunctionARN": "arn", "InvocationType": "ASYNCHRONOUS"}})");
  EXPECT_EQ(async.identifier, "B");
  EXPECT_NE(async.message.find("SYNCHRONOUS"), std::string::npos);
  EXPECT_NE(refused(R"({"Identifier": "B", "Type": "InvokeLambdaFunction",
      "Parameters": {"LambdaFunctionARN": "arn", "InvocationTimeLimitSeconds": "9"}})")
                .message.find("1 to 8"),
            std::string::npos);
  EXPECT_NE(refused(R"({"Identifier": "B", "Type": "InvokeLambdaFunction", "Parameters": {}})")
                .message.find("LambdaFunctionARN"),
            std::string::npos);
  EXPECT_NE(refused(R"({"Identifier": "B", "Type": "UpdateContactAttributes",
      "Parameters": {"Attributes": {"a": "b"}, "TargetContact": "Other"}})")
                .message.find("TargetContact"),
            std::string::npos);
  EXPECT_NE(refused(R"({"Identifier": "B", "Type": "Compare",
      "Parameters": {"ComparisonValue": "static"}, "Transitions": {"Conditions": [
        {"NextAction": "End", "Condition": {"Operator": "Equals", "Operands": ["x"]}}]}})")
                .message.find("ComparisonValue"),
            std::string::npos);
  EXPECT_NE(refused(R"({"Identifier": "B", "Type": "ShowView",
      "Parameters": {"ViewResource": {"Id": "arn:aws:connect:eu-west-2:111122223333:instance/i/view/cards"}}})")
                .message.find("not supported"),
            std::string::npos);
}

TEST(FlowParse, NamesTheCardsViewWhateverItsPartitionRegionAndVersion) {
  EXPECT_EQ(ViewName("arn:${AWS::Partition}:connect:${AWS::Region}:aws:view/cards"), "cards");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards"), "cards");
  EXPECT_EQ(ViewName("arn:aws-cn:connect:cn-north-1:aws:view/cards:3"), "cards");
  EXPECT_EQ(ViewName("arn:aws-us-gov:connect:us-gov-west-1:aws:view/cards"), "cards");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards:$LATEST"), "cards");
  EXPECT_EQ(ViewName("arn:aws:connect:${AWS::Region}:aws:view/cards:12"), "cards");
  // The console's export: the bare name, the version beside it.
  EXPECT_EQ(ViewName("cards"), "cards");
  EXPECT_EQ(ViewName("cards:$LATEST"), "cards");
  EXPECT_EQ(ViewName("cards:2"), "cards");

  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards:x"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards:Latest"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards:0"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards:"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/detail"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cardsx"), "");
  EXPECT_EQ(ViewName("arn:aws:lambda:us-west-2:aws:view/cards"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:111122223333:view/cards"), "");
  EXPECT_EQ(ViewName("arn::connect:us-west-2:aws:view/cards"), "");
  EXPECT_EQ(ViewName("arn:aws:connect::aws:view/cards"), "");
  EXPECT_EQ(ViewName("arn:${AWS::Partition:connect:us-west-2:aws:view/cards"), "");
  EXPECT_EQ(ViewName("arn:aws:connect:us-west-2:aws:view/cards/extra"), "");
  EXPECT_EQ(ViewName("Cards"), "");
  EXPECT_EQ(ViewName("xcards"), "");
  EXPECT_EQ(ViewName("view/cards"), "");
  EXPECT_EQ(ViewName(""), "");
}

// A guide whose one ShowView shows `view_resource` (a ViewResource object).
std::string GuideShowing(std::string_view view_resource, std::string_view time_limit = "\"60\"") {
  return R"({"Version": "2019-10-30", "StartAction": "Card", "Actions": [
      {"Identifier": "Card", "Type": "ShowView",
       "Parameters": {"ViewResource": )" +
         std::string(view_resource) + R"(, "InvocationTimeLimitSeconds": )" +
         std::string(time_limit) + R"(, "ViewData": {"Heading": "Recording"}},
       "Transitions": {"NextAction": "End", "Errors": [
         {"NextAction": "End", "ErrorType": "NoMatchingError"}]}},
      {"Identifier": "End", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]})";
}

TEST(FlowParse, AcceptsEveryFormConnectWritesTheCardsViewIn) {
  for (const std::string_view resource : {
           R"({"Id": "cards", "Version": "Latest"})",
           R"({"Id": "cards", "Version": "$LATEST"})",
           R"({"Id": "cards", "Version": 3})",
           R"({"Id": "cards", "Version": "12"})",
           R"({"Id": "cards"})",
           R"({"Id": "cards:$LATEST"})",
           R"({"Id": "arn:aws:connect:us-east-1:aws:view/cards"})",
           R"({"Id": "arn:aws:connect:us-east-1:aws:view/cards:1"})",
           R"({"Id": "arn:aws:connect:us-east-1:aws:view/cards:$LATEST"})",
           R"({"Id": "arn:aws-us-gov:connect:us-gov-west-1:aws:view/cards", "Version": "Latest"})",
           R"({"Id": "arn:aws-cn:connect:cn-north-1:aws:view/cards:7", "Version": 7})",
           R"({"Id": "arn:${AWS::Partition}:connect:${AWS::Region}:aws:view/cards"})",
           R"({"Id": "arn:${AWS::Partition}:connect:${AWS::Region}:aws:view/cards:$LATEST"})",
           R"({"Id": "arn:aws:connect:${AWS::Region}:aws:view/cards", "Version": "$LATEST"})",
       }) {
    SCOPED_TRACE(resource);
    auto parsed = Flow::Parse(GuideShowing(resource));
    ASSERT_TRUE(parsed.ok()) << "[" << parsed.error().identifier << "] " << parsed.error().message;
    // The runtime shows it as the Cards view, whatever the form and version.
    GuideRun run(std::make_shared<const Flow>(std::move(parsed).value()), ContactData{}, nullptr,
                 nullptr);
    std::optional<core::Result<GuideView, FlowError>> shown;
    run.Start([&](core::Result<GuideView, FlowError> view) { shown.emplace(std::move(view)); });
    ASSERT_TRUE(shown && shown->ok());
    EXPECT_EQ(shown->value().view_resource, "cards");
    EXPECT_EQ(shown->value().view_resource_id,
              boost::json::parse(resource).at("Id").as_string().c_str());
    EXPECT_EQ(shown->value().time_limit, std::chrono::seconds(60));
  }
  // InvocationTimeLimitSeconds as a JSON number, as the flow language reference writes it.
  auto parsed = Flow::Parse(GuideShowing(R"({"Id": "cards", "Version": "Latest"})", "400"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(TimeLimit(*parsed.value().Find("Card")), std::chrono::seconds(400));
}

TEST(FlowParse, RefusesEveryOtherViewNamingTheBlock) {
  const std::vector<std::pair<std::string_view, std::string_view>> refused{
      {R"({"Id": "form", "Version": "Latest"})", "view 'form' is not supported"},
      {R"({"Id": "arn:aws:connect:us-east-1:aws:view/detail"})", "view/detail"},
      {R"({"Id": "arn:aws:connect:us-east-1:aws:view/detail:$LATEST", "Version": "$LATEST"})",
       "view/detail"},
      {R"({"Id": "Cards", "Version": "Latest"})", "'Cards'"},
      {R"({"Id": "cards:banana"})", "'cards:banana'"},
      {R"({"Id": "arn:aws:connect:us-east-1:aws:view/cards:banana"})", "cards:banana"},
      {R"({"Id": "arn:aws:connect:us-east-1:123456789012:view/cards"})", "123456789012"},
      {R"({"Id": "arn:aws:lambda:us-east-1:aws:view/cards"})", "lambda"},
      {R"({"Id": "cards", "Version": "banana"})", "Version \"banana\""},
      {R"({"Id": "cards", "Version": ""})", "Version \"\""},
      {R"({"Id": "cards", "Version": 0})", "Version 0"},
      {R"({"Id": "cards", "Version": -1})", "Version -1"},
      {R"({"Id": "cards", "Version": 1.5})", "is not a view version"},
      {R"({"Id": "cards", "Version": true})", "Version true"},
      {R"({"Id": "cards", "Version": null})", "Version null"},
      {R"({"Id": "arn:aws:connect:us-east-1:aws:view/cards", "Version": "latest"})", "latest"},
      {R"({"Id": "", "Version": "Latest"})", "ViewResource.Id is required"},
      {R"({"Version": "Latest"})", "ViewResource.Id is required"},
      {R"("cards")", "ViewResource.Id is required"},
  };
  for (const auto& [resource, why] : refused) {
    SCOPED_TRACE(resource);
    const FlowError error = RefusalOf(GuideShowing(resource));
    EXPECT_EQ(error.identifier, "Card");
    EXPECT_EQ(error.type, "ShowView");
    EXPECT_NE(error.message.find(why), std::string::npos) << error.message;
  }
  // An inbound flow's views are Connect's to show: only the Id is required.
  EXPECT_TRUE(
      Flow::Parse(GuideShowing(R"({"Id": "form", "Version": "Latest"})"), FlowKind::kInbound).ok());
}

TEST(FlowParse, TakesAFileSavedWithAByteOrderMark) {
  auto parsed = Flow::Parse("\xEF\xBB\xBF" + GuideShowing(R"({"Id": "cards"})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value().start().identifier, "Card");
  EXPECT_FALSE(Flow::Parse("\xEF\xBB" + GuideShowing(R"({"Id": "cards"})")).ok());
}

TEST(FlowParse, LoadsAGuideAsTheConsoleExportsIt) {
  // Hand-written in the console's export shape: UUID identifiers, the Metadata
  // section (entryPointPosition, ActionMetadata, Annotations), the bare-name
  // Cards view with a Version, strings for numbers, STRING_MAP validation, a
  // Lambda of another account, AttributeBar links, Back and NoMatchFound.
  const auto flow = MustLoad(FixtureFlow("console-export-guide.json"));
  ASSERT_TRUE(flow);
  EXPECT_EQ(flow->name(), "Recording control guide");
  EXPECT_EQ(flow->start().type, "UpdateFlowLoggingBehavior");
  EXPECT_EQ(flow->blocks().size(), 11u);
  const Block* card = flow->Find("e3b1c2d4-5a6f-4b7c-8d9e-0f1a2b3c4d5e");
  ASSERT_NE(card, nullptr);
  EXPECT_EQ(card->kind, BlockType::kShowView);
  EXPECT_EQ(TimeLimit(*card), std::chrono::seconds(3600));
  EXPECT_EQ(card->conditions.size(), 3u);
  std::size_t lambdas = 0;
  for (const Block& block : flow->blocks()) {
    if (block.kind != BlockType::kInvokeLambdaFunction) continue;
    ++lambdas;
    EXPECT_EQ(TimeLimit(block), std::chrono::seconds(8)) << block.identifier;
  }
  EXPECT_EQ(lambdas, 4u);
}

}  // namespace
}  // namespace callrec::flow

namespace callrec::flow {
namespace {

std::string GuideSettingRecording(std::string_view behavior) {
  return R"({"Version": "2019-10-30", "StartAction": "Set", "Actions": [
    {"Identifier": "Set", "Type": "UpdateContactRecordingBehavior",
     "Parameters": {"RecordingBehavior": )" +
         std::string(behavior) + R"(},
     "Transitions": {"NextAction": "End",
                     "Errors": [{"NextAction": "End", "ErrorType": "NoMatchingError"}]}},
    {"Identifier": "End", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]})";
}

TEST(FlowParse, RecordingBehaviorRunsInAGuideInItsDocumentedForms) {
  for (std::string_view ok :
       {R"({"RecordedParticipants": []})", R"({"RecordedParticipants": ["Agent", "Customer"]})",
        R"({"RecordedParticipants": ["Customer"], "IVRRecordingBehavior": "Enabled"})"}) {
    auto parsed = Flow::Parse(GuideSettingRecording(ok));
    ASSERT_TRUE(parsed.ok()) << ok << ": " << parsed.error().message;
    EXPECT_EQ(parsed.value().Find("Set")->kind, BlockType::kUpdateContactRecordingBehavior);
  }
  for (std::string_view bad : {R"({})", R"({"RecordedParticipants": "Agent"})",
                               R"({"RecordedParticipants": ["Agent", "Agent"]})",
                               R"({"RecordedParticipants": ["Supervisor"]})",
                               R"({"RecordedParticipants": [], "IVRRecordingBehavior": "On"})"}) {
    const FlowError error = RefusalOf(GuideSettingRecording(bad));
    EXPECT_EQ(error.identifier, "Set") << bad;
    EXPECT_NE(error.message.find("RecordingBehavior"), std::string::npos) << error.message;
  }
}

}  // namespace
}  // namespace callrec::flow
