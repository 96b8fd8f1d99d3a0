#include "flow/InboundAttributes.hpp"

#include "core/StatusBadge.hpp"
#include "flow/Evaluation.hpp"
#include "flow/JsonPath.hpp"

namespace callrec::flow {

std::map<std::string, std::string> InboundAttributes(const Flow& inbound,
                                                     const ContactData& contact) {
  constexpr int kMaxSteps = 1000;  // a Loop or a Compare cycle must not hang the caller
  ContactData current = contact;
  std::map<std::string, std::string> set;
  const boost::json::object none;
  const Block* block = &inbound.start();
  for (int steps = 0; block != nullptr && steps < kMaxSteps; ++steps) {
    const boost::json::object data = FlowData(current, none, none);
    const std::string* next = &block->next;
    switch (block->kind) {
      case BlockType::kUpdateContactAttributes: {
        std::string why;
        const auto update = ResolveAttributeUpdate(*block, data, &current.attributes, &why);
        if (!update) {
          next = block->NextOnError("NoMatchingError");
        } else if (update->target == "Current") {
          for (const auto& [key, value] : update->attributes) {
            current.attributes[key] = value;
            set[key] = value;
          }
        }
        break;
      }
      case BlockType::kCompare: {
        const std::string value =
            ResolveText(block->parameters.at("ComparisonValue").as_string(), data);
        next = FirstMatch(*block, value, data);
        if (next == nullptr) next = block->NextOnError("NoMatchingCondition");
        break;
      }
      case BlockType::kShowView:
      case BlockType::kInvokeLambdaFunction:
      case BlockType::kDisconnectParticipant:
      case BlockType::kEndFlowExecution:
        next = nullptr;
        break;
      default:
        break;  // acts on the call, not on attributes: follow its success path
    }
    block = next && !next->empty() ? inbound.Find(*next) : nullptr;
  }
  return set;
}

std::map<std::string, std::string> DefaultInboundAttributes(const ContactData& contact) {
  return {
      {"initialContactId", InitialContactIdOf(contact)},
      {"callRecordingStatus", "OFF"},
      {"callRecordingHTML", core::RecordingHtml(core::RecordingState::kNotStarted)},
      {"callRecordingMessage", "Recording has not been started."},
  };
}

}  // namespace callrec::flow
