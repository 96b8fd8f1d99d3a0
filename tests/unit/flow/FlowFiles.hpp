#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "flow/Flow.hpp"

namespace callrec::flow::testing {

inline std::filesystem::path ProjectFlow(const std::string& name) {
  return std::filesystem::path(CALLREC_FLOWS_DIR) / name;
}

inline std::filesystem::path FixtureFlow(const std::string& name) {
  return std::filesystem::path(CALLREC_FIXTURES_DIR) / "flows" / name;
}

// Loads a flow the test expects to load; a refusal fails the test with its reason.
inline std::shared_ptr<const Flow> MustLoad(const std::filesystem::path& path,
                                            FlowKind kind = FlowKind::kGuide) {
  auto flow = Flow::Load(path, kind);
  if (!flow.ok()) {
    ADD_FAILURE() << path << " refused: [" << flow.error().identifier << "/" << flow.error().type
                  << "] " << flow.error().message;
    return nullptr;
  }
  return std::make_shared<const Flow>(std::move(flow).value());
}

}  // namespace callrec::flow::testing
