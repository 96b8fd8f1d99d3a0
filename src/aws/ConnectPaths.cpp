#include "aws/ConnectPaths.hpp"

#include <array>
#include <utility>

namespace callrec::aws {
namespace {

using core::Operation;

constexpr std::array kPaths{
    std::pair{Operation::kStart, std::string_view{"/contact/start-recording"}},
    std::pair{Operation::kStop, std::string_view{"/contact/stop-recording"}},
    std::pair{Operation::kPause, std::string_view{"/contact/suspend-recording"}},
    std::pair{Operation::kResume, std::string_view{"/contact/resume-recording"}},
};

}  // namespace

std::string_view ConnectPath(Operation operation) {
  for (const auto& [op, path] : kPaths) {
    if (op == operation) return path;
  }
  return "/";
}

std::optional<Operation> OperationAtConnectPath(std::string_view path) {
  for (const auto& [op, candidate] : kPaths) {
    if (candidate == path) return op;
  }
  return std::nullopt;
}

}  // namespace callrec::aws
