#include "flow/Evaluation.hpp"

#include <charconv>

#include "flow/JsonPath.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

// Contact attributes: at most 32,768 UTF-8 bytes for a contact (Amazon Connect).
constexpr std::size_t kMaxAttributeBytes = 32768;

std::optional<double> Number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double number = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return number;
}

bool AllowedKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool Satisfies(const ConditionBranch& condition, std::string_view value, const json::object& data) {
  for (const std::string& raw : condition.operands) {
    const std::string operand = ResolveText(raw, data);
    bool match = false;
    switch (condition.op) {
      case Operator::kEquals:
        match = value == operand;
        break;
      case Operator::kTextStartsWith:
        match = value.starts_with(operand);
        break;
      case Operator::kTextEndsWith:
        match = value.ends_with(operand);
        break;
      case Operator::kTextContains:
        match = value.find(operand) != std::string_view::npos;
        break;
      default: {
        const auto left = Number(value);
        const auto right = Number(operand);
        if (!left || !right) break;
        if (condition.op == Operator::kNumberGreaterThan) match = *left > *right;
        if (condition.op == Operator::kNumberGreaterOrEqualTo) match = *left >= *right;
        if (condition.op == Operator::kNumberLessThan) match = *left < *right;
        if (condition.op == Operator::kNumberLessOrEqualTo) match = *left <= *right;
      }
    }
    if (match) return true;
  }
  return false;
}

const std::string* FirstMatch(const Block& block, std::string_view value,
                              const json::object& data) {
  for (const ConditionBranch& condition : block.conditions) {
    if (Satisfies(condition, value, data)) return &condition.next;
  }
  return nullptr;
}

std::optional<AttributeUpdate> ResolveAttributeUpdate(
    const Block& block, const json::object& data,
    const std::map<std::string, std::string>* existing, std::string* why) {
  AttributeUpdate update;
  const json::value* target = block.parameters.if_contains("TargetContact");
  update.target = target && target->is_string() ? std::string(target->as_string()) : "Current";
  const json::value* attributes = block.parameters.if_contains("Attributes");
  if (attributes == nullptr || !attributes->is_object()) {
    *why = "no Attributes";
    return std::nullopt;
  }
  for (const auto& member : attributes->as_object()) {
    std::string key = ResolveText(member.key(), data);
    if (!AllowedKey(key)) {
      *why = "attribute key '" + key + "' is not letters, digits, '-' and '_'";
      return std::nullopt;
    }
    update.attributes[std::move(key)] =
        member.value().is_string() ? ResolveText(member.value().as_string(), data) : std::string();
  }
  std::map<std::string, std::string> merged =
      existing ? *existing : std::map<std::string, std::string>{};
  for (const auto& [key, value] : update.attributes) merged[key] = value;
  std::size_t bytes = 0;
  for (const auto& [key, value] : merged) bytes += key.size() + value.size();
  if (bytes > kMaxAttributeBytes) {
    *why = "the contact's attributes would exceed 32 KiB";
    return std::nullopt;
  }
  return update;
}

}  // namespace callrec::flow
