#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/Result.hpp"

namespace callrec::flow {

// Why a flow was refused or a run stopped. `identifier` and `type` name the
// offending block; both are empty when the whole file is at fault.
struct FlowError {
  std::string identifier;
  std::string type;
  std::string message;
};

// What a flow is loaded for. A guide runs every block, so it may only use the
// blocks the runtime implements; an inbound flow is only read for the contact
// attributes it sets, so any documented block is accepted.
enum class FlowKind { kGuide, kInbound };

enum class BlockType {
  kShowView,
  kUpdateContactAttributes,
  kCompare,
  kInvokeLambdaFunction,
  kUpdateFlowLoggingBehavior,
  kUpdateContactRecordingBehavior,
  kDisconnectParticipant,
  kEndFlowExecution,
  kOther,  // a documented block an inbound flow may hold; never run
};

// Compare's and ShowView's condition operators (Amazon Connect Flow language).
enum class Operator {
  kEquals,
  kNumberGreaterThan,
  kNumberGreaterOrEqualTo,
  kNumberLessThan,
  kNumberLessOrEqualTo,
  kTextStartsWith,
  kTextEndsWith,
  kTextContains,
};

struct ConditionBranch {
  Operator op = Operator::kEquals;
  std::vector<std::string> operands;  // static text or "$." references
  std::string next;
};

struct ErrorBranch {
  std::string error_type;  // NoMatchingError is the catch-all
  std::string next;
};

// One action ("block") of the flow, checked at load.
struct Block {
  std::string identifier;
  std::string type;
  BlockType kind = BlockType::kOther;
  boost::json::object parameters;
  std::string next;  // Transitions.NextAction; empty: the flow ends after this block
  std::vector<ConditionBranch> conditions;
  std::vector<ErrorBranch> errors;

  // Where an error goes: its own branch, else NoMatchingError's, else nullptr.
  const std::string* NextOnError(std::string_view error_type) const;
};

// A flow in the Amazon Connect Flow language (Version 2019-10-30), checked
// once at load: well-formed JSON, unique identifiers, every transition
// pointing at a block, valid "$." references, known condition operators, and
// (for a guide) only blocks and views the runtime supports. Immutable once
// loaded, so one Flow can be shared by every run on every thread.
class Flow {
 public:
  static core::Result<Flow, FlowError> Parse(std::string_view text,
                                             FlowKind kind = FlowKind::kGuide);
  static core::Result<Flow, FlowError> Load(const std::filesystem::path& path,
                                            FlowKind kind = FlowKind::kGuide);

  FlowKind kind() const { return kind_; }
  const std::string& name() const { return name_; }  // Metadata.name, may be empty
  const Block& start() const { return blocks_[start_]; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const Block* Find(std::string_view identifier) const;

 private:
  Flow() = default;

  FlowKind kind_ = FlowKind::kGuide;
  std::string name_;
  std::vector<Block> blocks_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t start_ = 0;
};

// The short name of a supported view resource ("cards" for the AWS-managed
// Cards view), or "" when the view is not supported. A ShowView's
// ViewResource.Id names the Cards view as the console exports it ("cards",
// its version in ViewResource.Version) or by ARN
// (arn:<partition>:connect:<region>:aws:view/cards, partition and region real
// or ${...} placeholders); either may end in :<version> or :$LATEST.
std::string ViewName(std::string_view view_resource_id);

// A ShowView's or InvokeLambdaFunction's InvocationTimeLimitSeconds; when the
// flow sets none, 8 s for a Lambda (Connect's maximum) and 14400 s for a view.
std::chrono::seconds TimeLimit(const Block& block);

}  // namespace callrec::flow
