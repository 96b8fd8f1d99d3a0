#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "control/ContactService.hpp"

// The wire form of a forwarded operation and of the owner's answer (JSON).
namespace callrec::cluster {

inline constexpr const char* kApplyPath = "/internal/v1/apply";
inline constexpr const char* kEndPath = "/internal/v1/end";

std::string OperationToJson(const control::OperationRequest& request);
// nullopt: not a forwarded operation (`why` says what is wrong).
std::optional<control::OperationRequest> OperationFromJson(std::string_view body, std::string& why);

// An END: {"ContactId", "Principal", "Reason"}.
std::string EndToJson(const control::EndRequest& request);
std::optional<control::EndRequest> EndFromJson(std::string_view body, std::string& why);

// {"Error":null} or {"Error":{"Kind":"InvalidRequest","Message":"..."}}.
std::string AnswerToJson(const std::optional<control::ControlError>& error);
// false: not an answer.
bool AnswerFromJson(std::string_view body, std::optional<control::ControlError>& error);

}  // namespace callrec::cluster
