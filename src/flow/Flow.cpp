#include "flow/Flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "flow/BlockRules.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

FlowError FileError(std::string message) {
  return FlowError{"", "", std::move(message)};
}

std::string OperandText(const json::value& operand) {
  if (operand.is_string()) return std::string(operand.as_string());
  if (operand.is_int64()) return std::to_string(operand.as_int64());
  if (operand.is_uint64()) return std::to_string(operand.as_uint64());
  if (operand.is_double()) return json::serialize(operand);
  return {};
}

// Fills the block's transitions from the "Transitions" object.
std::optional<FlowError> ReadTransitions(const json::object& action, Block& block) {
  auto fail = [&](std::string message) {
    return FlowError{block.identifier, block.type, std::move(message)};
  };
  const json::value* transitions = action.if_contains("Transitions");
  if (transitions == nullptr) return std::nullopt;
  if (!transitions->is_object()) return fail("Transitions must be an object");
  const json::object& t = transitions->as_object();
  if (const json::value* next = t.if_contains("NextAction")) {
    if (!next->is_string()) return fail("Transitions.NextAction must be a string");
    block.next = std::string(next->as_string());
  }
  if (const json::value* conditions = t.if_contains("Conditions")) {
    if (!conditions->is_array()) return fail("Transitions.Conditions must be a list");
    for (const json::value& item : conditions->as_array()) {
      const json::object* branch = item.if_object();
      const json::value* next = branch ? branch->if_contains("NextAction") : nullptr;
      const json::value* condition = branch ? branch->if_contains("Condition") : nullptr;
      if (next == nullptr || !next->is_string() || condition == nullptr ||
          !condition->is_object()) {
        return fail("each of Transitions.Conditions needs a NextAction and a Condition");
      }
      const json::value* op = condition->as_object().if_contains("Operator");
      const json::value* operands = condition->as_object().if_contains("Operands");
      const std::string op_name = op && op->is_string() ? std::string(op->as_string()) : "";
      const auto parsed = ParseOperator(op_name);
      if (!parsed) return fail("unknown condition operator '" + op_name + "'");
      if (operands == nullptr || !operands->is_array() || operands->as_array().empty()) {
        return fail("condition " + op_name + " needs Operands");
      }
      ConditionBranch out{*parsed, {}, std::string(next->as_string())};
      for (const json::value& operand : operands->as_array()) {
        if (!operand.is_string() && !operand.is_number()) {
          return fail("condition operands must be strings or numbers");
        }
        out.operands.push_back(OperandText(operand));
      }
      block.conditions.push_back(std::move(out));
    }
  }
  if (const json::value* errors = t.if_contains("Errors")) {
    if (!errors->is_array()) return fail("Transitions.Errors must be a list");
    for (const json::value& item : errors->as_array()) {
      const json::object* branch = item.if_object();
      const json::value* next = branch ? branch->if_contains("NextAction") : nullptr;
      const json::value* type = branch ? branch->if_contains("ErrorType") : nullptr;
      if (next == nullptr || !next->is_string() || type == nullptr || !type->is_string()) {
        return fail("each of Transitions.Errors needs a NextAction and an ErrorType");
      }
      block.errors.push_back({std::string(type->as_string()), std::string(next->as_string())});
    }
  }
  return std::nullopt;
}

}  // namespace

const std::string* Block::NextOnError(std::string_view error_type) const {
  for (const ErrorBranch& branch : errors) {
    if (branch.error_type == error_type) return &branch.next;
  }
  for (const ErrorBranch& branch : errors) {
    if (branch.error_type == "NoMatchingError") return &branch.next;
  }
  return nullptr;
}

const Block* Flow::Find(std::string_view identifier) const {
  const auto found = index_.find(std::string(identifier));
  return found == index_.end() ? nullptr : &blocks_[found->second];
}

core::Result<Flow, FlowError> Flow::Parse(std::string_view text, FlowKind kind) {
  // An export saved again by a Windows editor starts with a UTF-8 byte order mark.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return FileError("the flow is not valid JSON: " + ec.message());
  if (!root.is_object()) return FileError("the flow must be a JSON object");
  const json::object& top = root.as_object();
  if (const json::value* version = top.if_contains("Version")) {
    if (!version->is_string() || version->as_string() != "2019-10-30") {
      return FileError("unsupported flow language Version (expected \"2019-10-30\")");
    }
  }
  const json::value* actions = top.if_contains("Actions");
  if (actions == nullptr || !actions->is_array()) return FileError("the flow has no Actions list");
  const json::value* start = top.if_contains("StartAction");
  if (start == nullptr || !start->is_string()) return FileError("the flow has no StartAction");

  Flow flow;
  flow.kind_ = kind;
  if (const json::value* metadata = top.if_contains("Metadata");
      metadata && metadata->is_object()) {
    if (const json::value* name = metadata->as_object().if_contains("name");
        name && name->is_string()) {
      flow.name_ = std::string(name->as_string());
    }
  }
  for (const json::value& item : actions->as_array()) {
    const json::object* action = item.if_object();
    if (action == nullptr) return FileError("every entry of Actions must be an object");
    Block block;
    const json::value* identifier = action->if_contains("Identifier");
    const json::value* type = action->if_contains("Type");
    if (identifier && identifier->is_string())
      block.identifier = std::string(identifier->as_string());
    if (type && type->is_string()) block.type = std::string(type->as_string());
    if (block.identifier.empty()) {
      return FlowError{"", block.type, "an action has no Identifier"};
    }
    if (block.type.empty()) return FlowError{block.identifier, "", "the action has no Type"};
    const auto classified = ClassifyBlock(block.type);
    if (!classified) {
      return FlowError{block.identifier, block.type,
                       "unknown block type " + block.type +
                           ": not an action of the Amazon Connect Flow language"};
    }
    block.kind = *classified;
    if (const json::value* parameters = action->if_contains("Parameters")) {
      if (!parameters->is_object()) {
        return FlowError{block.identifier, block.type, "Parameters must be an object"};
      }
      block.parameters = parameters->as_object();
    }
    if (auto error = ReadTransitions(*action, block)) return *error;
    if (flow.index_.count(block.identifier) != 0) {
      return FlowError{block.identifier, block.type, "two actions have this Identifier"};
    }
    flow.index_.emplace(block.identifier, flow.blocks_.size());
    flow.blocks_.push_back(std::move(block));
  }
  if (flow.index_.count(std::string(start->as_string())) == 0) {
    return FileError("StartAction '" + std::string(start->as_string()) + "' names no action");
  }
  flow.start_ = flow.index_.at(std::string(start->as_string()));
  for (const Block& block : flow.blocks_) {
    auto dangling = [&](const std::string& next,
                        std::string_view what) -> std::optional<FlowError> {
      if (next.empty() || flow.index_.count(next) != 0) return std::nullopt;
      return FlowError{block.identifier, block.type,
                       std::string(what) + " '" + next + "' names no action in the flow"};
    };
    if (auto error = dangling(block.next, "NextAction")) return *error;
    for (const ConditionBranch& branch : block.conditions) {
      if (auto error = dangling(branch.next, "a condition's NextAction")) return *error;
    }
    for (const ErrorBranch& branch : block.errors) {
      if (auto error = dangling(branch.next, "error " + branch.error_type + "'s NextAction")) {
        return *error;
      }
    }
    if (auto error = CheckBlock(block, kind)) return *error;
  }
  return flow;
}

core::Result<Flow, FlowError> Flow::Load(const std::filesystem::path& path, FlowKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = Parse(text.str(), kind);
  if (!parsed.ok()) {
    FlowError error = parsed.error();
    error.message = path.filename().string() + ": " + error.message;
    return error;
  }
  return parsed;
}

}  // namespace callrec::flow
