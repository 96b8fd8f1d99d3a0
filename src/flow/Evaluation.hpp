#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "flow/Flow.hpp"

namespace callrec::flow {

// The pure part of running a block: no I/O, no state beyond the flow data.

// Whether `value` satisfies the condition (operands resolved against `data`).
// Equals and Text* compare text exactly; Number* compare decimal numbers and
// are false when either side is not one.
bool Satisfies(const ConditionBranch& condition, std::string_view value,
               const boost::json::object& data);

// The NextAction of the first condition `value` satisfies, or nullptr.
const std::string* FirstMatch(const Block& block, std::string_view value,
                              const boost::json::object& data);

// UpdateContactAttributes: its Attributes with keys and values resolved, or
// why Connect would take the error branch (a key it does not allow, or the
// contact's attributes growing past 32 KiB). `existing` are the target
// contact's attributes when known.
struct AttributeUpdate {
  std::string target;  // "Current" or "Related"
  std::map<std::string, std::string> attributes;
};
std::optional<AttributeUpdate> ResolveAttributeUpdate(
    const Block& block, const boost::json::object& data,
    const std::map<std::string, std::string>* existing, std::string* why);

}  // namespace callrec::flow
