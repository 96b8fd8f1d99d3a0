// Amazon Connect flow files (the Flow language, Version 2019-10-30) as
// callrec-server loads them with --guide-flow and --inbound-flow. The first
// byte's low bit chooses the kind (0 guide, 1 inbound); the rest is the JSON.
// What Flow::Parse accepts is then used: an inbound flow for the attributes it
// sets, a guide run from its start through a few agent actions, with a Lambda
// that answers at once.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/json.hpp>

#include "FuzzCheck.hpp"
#include "flow/Flow.hpp"
#include "flow/GuideRun.hpp"
#include "flow/InboundAttributes.hpp"

using namespace callrec;
namespace json = boost::json;

namespace {

flow::ContactData Contact() {
  flow::ContactData contact;
  contact.contact_id = "c-2";
  contact.initial_contact_id = "c-1";
  contact.instance_id = "local";
  contact.agent_id = "alice";
  contact.attributes = {{"callRecordingStatus", "OFF"}, {"customerTier", "gold"}};
  return contact;
}

// Every transition of a loaded flow names one of its blocks.
void CheckTransitions(const flow::Flow& loaded) {
  CALLREC_FUZZ_CHECK(!loaded.blocks().empty());
  for (const flow::Block& block : loaded.blocks()) {
    CALLREC_FUZZ_CHECK(loaded.Find(block.identifier) == &block);
    if (!block.next.empty()) CALLREC_FUZZ_CHECK(loaded.Find(block.next) != nullptr);
    for (const flow::ConditionBranch& branch : block.conditions) {
      CALLREC_FUZZ_CHECK(loaded.Find(branch.next) != nullptr);
    }
    for (const flow::ErrorBranch& branch : block.errors) {
      CALLREC_FUZZ_CHECK(loaded.Find(branch.next) != nullptr);
    }
    (void)flow::TimeLimit(block);
  }
}

void RunGuide(std::shared_ptr<const flow::Flow> loaded) {
  int lambdas = 0;
  int writes = 0;
  flow::GuideRun run(
      std::move(loaded), Contact(),
      [&lambdas](const std::string&, json::value event, std::chrono::milliseconds,
                 flow::LambdaDone done) {
        CALLREC_FUZZ_CHECK(event.is_object());
        // Alternately an answer and a failure, as a real Lambda might give.
        if (++lambdas % 2 == 1) {
          done(json::object{{"statusCode", "200"}, {"callRecordingStatus", "ON"}});
        } else {
          done(std::string("Lambda timed out"));
        }
      },
      [&writes](const std::string& target, const std::map<std::string, std::string>&) {
        CALLREC_FUZZ_CHECK(target == "Current" || target == "Related");
        ++writes;
      });
  bool answered = false;
  run.Start(
      [&answered](const core::Result<flow::GuideView, flow::FlowError>&) { answered = true; });
  CALLREC_FUZZ_CHECK(answered);
  const json::value outputs[] = {
      json::parse(
          R"({"Result":"ActionSelected","ViewResultData":{"actionName":"Pause recording"}})"),
      json::parse(R"({"Result":"Back"})"),
      json::parse(R"({"Result":"TimeLimitExceeded"})"),
      json::parse(R"({"Result":"ActionSelected","ViewResultData":{"actionName":"Resume"}})"),
  };
  for (const json::value& output : outputs) {
    if (run.Current().action_identifier.empty()) break;
    answered = false;
    run.Act(output, [&answered](const core::Result<flow::GuideView, flow::FlowError>&) {
      answered = true;
    });
    CALLREC_FUZZ_CHECK(answered);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto kind = (data[0] & 1) ? flow::FlowKind::kInbound : flow::FlowKind::kGuide;
  auto parsed = flow::Flow::Parse(fuzz::AsText(data + 1, size - 1), kind);
  if (!parsed) {
    CALLREC_FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  auto loaded = std::make_shared<const flow::Flow>(std::move(parsed).value());
  CheckTransitions(*loaded);
  if (kind == flow::FlowKind::kInbound) {
    (void)flow::InboundAttributes(*loaded, Contact());
  } else {
    RunGuide(std::move(loaded));
  }
  return 0;
}
