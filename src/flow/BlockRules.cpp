#include "flow/BlockRules.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "flow/JsonPath.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

// "Actions in the Amazon Connect Flow language" (API reference): contact,
// flow control, interaction and participant actions, Version 2019-10-30.
constexpr auto kDocumentedTypes =
    std::to_array<std::string_view>({"CompleteOutboundCall",
                                     "CreateCase",
                                     "CreateTask",
                                     "CreateWisdomSession",
                                     "DequeueContactAndTransferToQueue",
                                     "EndFlowModuleExecution",
                                     "GetCase",
                                     "InvokeFlowModule",
                                     "StartOutboundChatContact",
                                     "TagContact",
                                     "TransferContactToAgent",
                                     "TransferContactToQueue",
                                     "UnTagContact",
                                     "UpdateCase",
                                     "UpdateContactAttributes",
                                     "UpdateContactCallbackNumber",
                                     "UpdateContactData",
                                     "UpdateContactEventHooks",
                                     "UpdateContactMediaProcessing",
                                     "UpdateContactMediaStreamingBehavior",
                                     "UpdateContactRecordingAndAnalyticsBehavior",
                                     "UpdateContactRecordingBehavior",
                                     "ResumeContact",
                                     "UpdateContactRoutingBehavior",
                                     "UpdateContactTargetQueue",
                                     "UpdateContactTextToSpeechVoice",
                                     "UpdatePreviousContactParticipantState",
                                     "CheckHoursOfOperation",
                                     "CheckMetricData",
                                     "CheckOutboundCallStatus",
                                     "CheckVoiceId",
                                     "Compare",
                                     "DistributeByPercentage",
                                     "EndFlowExecution",
                                     "GetMetricData",
                                     "Loop",
                                     "StartVoiceIdStream",
                                     "TransferToFlow",
                                     "UpdateFlowAttributes",
                                     "UpdateFlowLoggingBehavior",
                                     "UpdateRoutingCriteria",
                                     "Wait",
                                     "AssociateContactToCustomerProfile",
                                     "CreateCallbackContact",
                                     "CreateCustomerProfile",
                                     "InvokeLambdaFunction",
                                     "GetCustomerProfile",
                                     "GetCustomerProfileObject",
                                     "GetCalculatedAttributesForCustomerProfile",
                                     "UpdateCustomerProfile",
                                     "ConnectParticipantWithLexBot",
                                     "DisconnectParticipant",
                                     "GetParticipantInput",
                                     "MessageParticipant",
                                     "MessageParticipantIteratively",
                                     "ShowView"});

constexpr std::array<std::pair<std::string_view, BlockType>, 8> kRunnable{{
    {"ShowView", BlockType::kShowView},
    {"UpdateContactAttributes", BlockType::kUpdateContactAttributes},
    {"Compare", BlockType::kCompare},
    {"InvokeLambdaFunction", BlockType::kInvokeLambdaFunction},
    {"UpdateFlowLoggingBehavior", BlockType::kUpdateFlowLoggingBehavior},
    {"UpdateContactRecordingBehavior", BlockType::kUpdateContactRecordingBehavior},
    {"DisconnectParticipant", BlockType::kDisconnectParticipant},
    {"EndFlowExecution", BlockType::kEndFlowExecution},
}};

constexpr std::array<std::pair<std::string_view, Operator>, 8> kOperators{{
    {"Equals", Operator::kEquals},
    {"NumberGreaterThan", Operator::kNumberGreaterThan},
    {"NumberGreaterOrEqualTo", Operator::kNumberGreaterOrEqualTo},
    {"NumberLessThan", Operator::kNumberLessThan},
    {"NumberLessOrEqualTo", Operator::kNumberLessOrEqualTo},
    {"TextStartsWith", Operator::kTextStartsWith},
    {"TextEndsWith", Operator::kTextEndsWith},
    {"TextContains", Operator::kTextContains},
}};

// A view version as Connect writes it: a number from 1, or the latest.
bool IsVersionText(std::string_view text) {
  if (text == "$LATEST" || text == "Latest") return true;
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos &&
         text.find_first_not_of('0') != std::string_view::npos;
}

bool IsViewVersion(const json::value& version) {
  if (version.is_string()) return IsVersionText(version.as_string());
  if (version.is_int64()) return version.as_int64() >= 1;
  return version.is_uint64();
}

// One ARN field: a ${...} placeholder (which may hold "::") or text up to the next ':'.
// Empty when the field is neither.
std::string_view TakeArnField(std::string_view& rest) {
  std::size_t end = 0;
  if (rest.starts_with("${")) {
    end = rest.find('}');
    if (end == std::string_view::npos) return {};
    ++end;
  } else {
    end = std::min(rest.find(':'), rest.size());
  }
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

bool IsArnWord(std::string_view field) {
  if (field.starts_with("${")) return field.size() > 3;
  return !field.empty() &&
         field.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

class Checker {
 public:
  explicit Checker(const Block& block) : block_(block) {}

  std::optional<FlowError> Fail(std::string message) const {
    return FlowError{block_.identifier, block_.type, std::move(message)};
  }

  // Every string (keys included) that starts with "$." must be a valid reference.
  std::optional<FlowError> References(const json::value& value, const std::string& where) const {
    std::string why;
    if (value.is_string()) {
      const std::string_view text = value.as_string();
      if (IsReference(text) && !ParseJsonPath(text, &why)) {
        return Fail("bad JSONPath '" + std::string(text) + "' in " + where + ": " + why);
      }
    } else if (value.is_object()) {
      for (const auto& member : value.as_object()) {
        if (IsReference(member.key()) && !ParseJsonPath(member.key(), &why)) {
          return Fail("bad JSONPath '" + std::string(member.key()) + "' in " + where + ": " + why);
        }
        if (auto error = References(member.value(), where + "." + std::string(member.key()))) {
          return error;
        }
      }
    } else if (value.is_array()) {
      for (const json::value& item : value.as_array()) {
        if (auto error = References(item, where)) return error;
      }
    }
    return std::nullopt;
  }

  const json::value* Param(std::string_view name) const {
    return block_.parameters.if_contains(name);
  }

  std::optional<FlowError> StringMap(std::string_view name, bool required) const {
    const json::value* map = Param(name);
    if (map == nullptr) {
      return required ? Fail("Parameters." + std::string(name) + " is required") : std::nullopt;
    }
    if (!map->is_object()) return Fail("Parameters." + std::string(name) + " must be an object");
    for (const auto& member : map->as_object()) {
      if (!member.value().is_string()) {
        return Fail("Parameters." + std::string(name) + "." + std::string(member.key()) +
                    " must be a string");
      }
    }
    return std::nullopt;
  }

  std::optional<FlowError> OneOf(std::string_view name,
                                 std::initializer_list<std::string_view> allowed,
                                 bool required) const {
    const json::value* value = Param(name);
    if (value == nullptr) {
      return required ? Fail("Parameters." + std::string(name) + " is required") : std::nullopt;
    }
    if (value->is_string()) {
      for (std::string_view option : allowed) {
        if (value->as_string() == option) return std::nullopt;
      }
    }
    std::string list;
    for (std::string_view option : allowed)
      list += (list.empty() ? "" : ", ") + std::string(option);
    return Fail("Parameters." + std::string(name) + " must be one of " + list);
  }

  std::optional<FlowError> Seconds(int max, bool required) const {
    const json::value* value = Param("InvocationTimeLimitSeconds");
    if (value == nullptr) {
      return required ? Fail("Parameters.InvocationTimeLimitSeconds is required") : std::nullopt;
    }
    long long seconds = 0;
    if (value->is_int64()) {
      seconds = value->as_int64();
    } else if (value->is_uint64()) {
      seconds = static_cast<long long>(std::min<std::uint64_t>(value->as_uint64(), 1u << 30));
    } else if (value->is_string()) {
      const std::string_view text = value->as_string();
      const auto parsed = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) seconds = 0;
    }
    if (seconds < 1 || seconds > max) {
      return Fail(
          "Parameters.InvocationTimeLimitSeconds must be a whole number of seconds from 1 to " +
          std::to_string(max));
    }
    return std::nullopt;
  }

 private:
  const Block& block_;
};

std::optional<FlowError> CheckShowView(const Checker& check, FlowKind kind) {
  const json::value* resource = check.Param("ViewResource");
  const json::value* id =
      resource && resource->is_object() ? resource->as_object().if_contains("Id") : nullptr;
  if (id == nullptr || !id->is_string() || id->as_string().empty()) {
    return check.Fail("Parameters.ViewResource.Id is required");
  }
  if (kind == FlowKind::kInbound) return std::nullopt;  // shown by Connect, never here
  if (ViewName(id->as_string()).empty()) {
    return check.Fail("view '" + std::string(id->as_string()) +
                      "' is not supported: only the AWS-managed Cards view is (Id \"cards\" or "
                      "arn:<partition>:connect:<region>:aws:view/cards, optionally :<version>)");
  }
  // The console writes the version beside the name; callrec has one Cards view,
  // so any version names it, but a Version that is none is a broken export.
  if (const json::value* version = resource->as_object().if_contains("Version");
      version != nullptr && !IsViewVersion(*version)) {
    return check.Fail("Parameters.ViewResource.Version " + json::serialize(*version) +
                      " is not a view version (Latest, $LATEST or a number from 1)");
  }
  const json::value* data = check.Param("ViewData");
  if (data == nullptr || !data->is_object())
    return check.Fail("Parameters.ViewData must be an object");
  const json::value* cards = data->as_object().if_contains("Cards");
  if (cards != nullptr && !cards->is_array() &&
      !(cards->is_string() && IsReference(cards->as_string()))) {
    return check.Fail("ViewData.Cards must be a list of cards");
  }
  if (cards != nullptr && cards->is_array()) {
    for (const json::value& card : cards->as_array()) {
      if (!card.is_object()) return check.Fail("ViewData.Cards must be a list of cards (objects)");
    }
  }
  return check.Seconds(1 << 30, false);
}

std::optional<FlowError> CheckLambda(const Checker& check) {
  const json::value* arn = check.Param("LambdaFunctionARN");
  if (arn == nullptr || !arn->is_string() || arn->as_string().empty()) {
    return check.Fail("Parameters.LambdaFunctionARN is required");
  }
  if (auto error = check.Seconds(8, false)) return error;
  const json::value* type = check.Param("InvocationType");
  if (type != nullptr && !(type->is_string() && type->as_string() == "SYNCHRONOUS")) {
    return check.Fail("Parameters.InvocationType: only SYNCHRONOUS invocations are supported");
  }
  if (auto error = check.StringMap("LambdaInvocationAttributes", false)) return error;
  const json::value* validation = check.Param("ResponseValidation");
  if (validation != nullptr) {
    const json::value* response_type =
        validation->is_object() ? validation->as_object().if_contains("ResponseType") : nullptr;
    if (response_type == nullptr || !response_type->is_string() ||
        (response_type->as_string() != "STRING_MAP" && response_type->as_string() != "JSON")) {
      return check.Fail("Parameters.ResponseValidation.ResponseType must be STRING_MAP or JSON");
    }
  }
  return std::nullopt;
}

// UpdateContactRecordingBehavior: RecordingBehavior.RecordedParticipants, a
// static list of "Agent" and "Customer" (empty: no recording), and Connect's
// other members in their documented forms.
std::optional<FlowError> CheckRecordingBehavior(const Checker& check) {
  const json::value* behavior = check.Param("RecordingBehavior");
  if (behavior == nullptr || !behavior->is_object()) {
    return check.Fail("Parameters.RecordingBehavior must be an object");
  }
  const json::value* recorded = behavior->as_object().if_contains("RecordedParticipants");
  if (recorded == nullptr || !recorded->is_array()) {
    return check.Fail(
        "Parameters.RecordingBehavior.RecordedParticipants must be a list of \"Agent\" and "
        "\"Customer\" (empty: not recorded)");
  }
  bool seen[2] = {false, false};
  for (const json::value& who : recorded->as_array()) {
    const int k = !who.is_string()                ? -1
                  : who.as_string() == "Agent"    ? 0
                  : who.as_string() == "Customer" ? 1
                                                  : -1;
    if (k < 0 || seen[k]) {
      return check.Fail(
          "Parameters.RecordingBehavior.RecordedParticipants: each entry is \"Agent\" or "
          "\"Customer\", once (set statically)");
    }
    seen[k] = true;
  }
  if (const json::value* ivr = behavior->as_object().if_contains("IVRRecordingBehavior")) {
    if (!ivr->is_string() || (ivr->as_string() != "Enabled" && ivr->as_string() != "Disabled")) {
      return check.Fail(
          "Parameters.RecordingBehavior.IVRRecordingBehavior must be Enabled or Disabled");
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<BlockType> ClassifyBlock(std::string_view type) {
  for (const auto& [name, kind] : kRunnable) {
    if (name == type) return kind;
  }
  for (std::string_view name : kDocumentedTypes) {
    if (name == type) return BlockType::kOther;
  }
  return std::nullopt;
}

std::optional<Operator> ParseOperator(std::string_view name) {
  for (const auto& [text, op] : kOperators) {
    if (text == name) return op;
  }
  return std::nullopt;
}

std::optional<FlowError> CheckBlock(const Block& block, FlowKind kind) {
  const Checker check(block);
  if (auto error = check.References(block.parameters, "Parameters")) return error;
  for (const ConditionBranch& condition : block.conditions) {
    for (const std::string& operand : condition.operands) {
      if (auto error = check.References(json::value(operand), "Condition.Operands")) return error;
    }
  }
  switch (block.kind) {
    case BlockType::kShowView:
      return CheckShowView(check, kind);
    case BlockType::kUpdateContactAttributes:
      if (auto error = check.StringMap("Attributes", true)) return error;
      return check.OneOf("TargetContact", {"Current", "Related"}, false);
    case BlockType::kCompare: {
      const json::value* value = check.Param("ComparisonValue");
      if (value == nullptr || !value->is_string() || !IsReference(value->as_string())) {
        return check.Fail("Parameters.ComparisonValue must be a \"$.\" reference");
      }
      if (block.conditions.empty()) return check.Fail("Compare needs Conditions");
      return std::nullopt;
    }
    case BlockType::kInvokeLambdaFunction:
      return kind == FlowKind::kGuide ? CheckLambda(check) : std::nullopt;
    case BlockType::kUpdateFlowLoggingBehavior:
      return check.OneOf("FlowLoggingBehavior", {"Enabled", "Disabled"}, true);
    case BlockType::kUpdateContactRecordingBehavior:
      return CheckRecordingBehavior(check);
    case BlockType::kDisconnectParticipant:
    case BlockType::kEndFlowExecution:
      return std::nullopt;
    case BlockType::kOther:
      if (kind == FlowKind::kGuide) {
        return check.Fail(
            "block type " + block.type +
            " is not supported by the guide runtime (supported: ShowView with the Cards "
            "view, UpdateContactAttributes, Compare, InvokeLambdaFunction, "
            "UpdateContactRecordingBehavior, UpdateFlowLoggingBehavior, DisconnectParticipant, "
            "EndFlowExecution)");
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::string ViewName(std::string_view id) {
  // "cards" (as the console exports it, the version in ViewResource.Version) or
  // arn:<partition>:connect:<region>:aws:view/cards; either optionally
  // :<version>. The partition and region may still be ${...} placeholders.
  std::string_view name = id;
  if (id.starts_with("arn:")) {
    std::string_view rest = id.substr(4);
    if (!IsArnWord(TakeArnField(rest)) || !rest.starts_with(":connect:")) return {};
    rest.remove_prefix(9);
    if (!IsArnWord(TakeArnField(rest)) || !rest.starts_with(":aws:view/")) return {};
    name = rest.substr(10);
  }
  if (const std::size_t colon = name.find(':'); colon != std::string_view::npos) {
    const std::string_view version = name.substr(colon + 1);
    if (version == "Latest" || !IsVersionText(version)) return {};  // ARNs say $LATEST
    name = name.substr(0, colon);
  }
  return name == "cards" ? "cards" : "";
}

std::chrono::seconds TimeLimit(const Block& block) {
  const json::value* value = block.parameters.if_contains("InvocationTimeLimitSeconds");
  long long seconds = 0;
  if (value != nullptr && value->is_int64()) seconds = value->as_int64();
  if (value != nullptr && value->is_string()) {
    const std::string_view text = value->as_string();
    std::from_chars(text.data(), text.data() + text.size(), seconds);
  }
  if (seconds <= 0) seconds = block.kind == BlockType::kShowView ? 14400 : 8;
  return std::chrono::seconds(seconds);
}

}  // namespace callrec::flow
