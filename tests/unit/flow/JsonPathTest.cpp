#include "flow/JsonPath.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "flow/Evaluation.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

const json::object kData = json::value{
    {"Attributes", {{"name", "Ada"}, {"with space", "yes"}, {"n", "12"}}},
    {"External", {{"list", json::array{"a", "b"}}, {"deep", {{"x", 1}}}, {"flag", true}}},
    {"Views", {{"Result", "ActionSelected"}, {"ViewResultData", {{"actionName", "Pause"}}}}},
    {"InitialContactId",
     "c-1"}}.as_object();

std::string Text(std::string_view reference) {
  return ResolveText(reference, kData);
}

TEST(JsonPath, ResolvesMembersQuotedNamesAndIndexes) {
  EXPECT_EQ(Text("$.Attributes.name"), "Ada");
  EXPECT_EQ(Text("$.Attributes['with space']"), "yes");
  EXPECT_EQ(Text("$.Attributes.[\"with space\"]"), "yes");
  EXPECT_EQ(Text("$.External.list[1]"), "b");
  EXPECT_EQ(Text("$.External.deep.x"), "1");
  EXPECT_EQ(Text("$.External.flag"), "true");
  EXPECT_EQ(Text("$.External.deep"), "{\"x\":1}");
  EXPECT_EQ(Text("$.Views.ViewResultData.actionName"), "Pause");
  EXPECT_EQ(Text("$.InitialContactId"), "c-1");
  EXPECT_EQ(Text("static text"), "static text");
  EXPECT_EQ(Text("${CallRecordingLambdaArn}"), "${CallRecordingLambdaArn}");
}

TEST(JsonPath, MissingMembersAreEmpty) {
  EXPECT_EQ(Text("$.Attributes.nobody"), "");
  EXPECT_EQ(Text("$.External.list[7]"), "");
  EXPECT_EQ(Text("$.Attributes.name.deeper"), "");
  EXPECT_EQ(Text("$.Queue.Name"), "");  // a namespace the runtime has no data for
}

TEST(JsonPath, RefusesMalformedPathsAndUnknownNamespaces) {
  for (const char* bad :
       {"$.", "$.Attributes.", "$.Attributes..x", "$..Attributes", "$.Attributes['x",
        "$.Attributes[x]", "$.Attributes['']", "$.Attributes[1", "$.[0]", "$.Atributes.x",
        "$.attributes.x", "$.Attributes x"}) {
    std::string why;
    EXPECT_FALSE(ParseJsonPath(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  std::string why;
  EXPECT_TRUE(ParseJsonPath("$.Attributes.a-b_c", &why)) << why;
}

TEST(JsonPath, ResolveTreeResolvesEveryStringAndSanitisesTemplateStrings) {
  const json::value tree = {
      {"Heading", "$.Attributes.name"},
      {"Items", json::array{"$.Views.Result", 3, "plain"}},
      {"Sections", json::array{json::object{{"TemplateString", "<b onclick=x>$</b>"}},
                               json::object{{"TemplateString", "$.External.deep"}}}},
      {"Actions", "$.External.list"}};
  const json::value resolved = ResolveTree(tree, kData);
  EXPECT_EQ(resolved.at("Heading"), "Ada");
  EXPECT_EQ(resolved.at("Items"), (json::array{"ActionSelected", 3, "plain"}));
  EXPECT_EQ(resolved.at("Sections").at(0).at("TemplateString"), "<b>$</b>");
  EXPECT_EQ(resolved.at("Sections").at(1).at("TemplateString"), "{&quot;x&quot;:1}");
  EXPECT_EQ(resolved.at("Actions"), (json::array{"a", "b"}));  // a list stays a list
}

ConditionBranch Condition(Operator op, std::string operand) {
  return {op, {operand}, "next"};
}

TEST(Conditions, CompareTextAndNumbersAsConnectDocuments) {
  EXPECT_TRUE(Satisfies(Condition(Operator::kEquals, "Pause"), "Pause", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kEquals, "Pause"), "pause", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kEquals, "$.Attributes.name"), "Ada", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kTextStartsWith, "Pa"), "Pause", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kTextStartsWith, "au"), "Pause", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kTextEndsWith, "use"), "Pause", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kTextContains, "aus"), "Pause", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kTextContains, "x"), "Pause", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kNumberGreaterThan, "9"), "10", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kNumberGreaterThan, "10"), "10", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kNumberGreaterOrEqualTo, "10"), "10.0", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kNumberLessThan, "$.Attributes.n"), "-3", kData));
  EXPECT_TRUE(Satisfies(Condition(Operator::kNumberLessOrEqualTo, "12"), " 12 ", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kNumberLessThan, "12"), "abc", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kNumberLessThan, "x"), "1", kData));
  EXPECT_FALSE(Satisfies(Condition(Operator::kNumberLessThan, "12"), "", kData));
  ConditionBranch any{Operator::kEquals, {"a", "b"}, "next"};
  EXPECT_TRUE(Satisfies(any, "b", kData));
}

}  // namespace
}  // namespace callrec::flow
