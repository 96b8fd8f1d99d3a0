#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/Result.hpp"

namespace callrec::api {

// Who is calling /v1: the admin, or one agent.
struct Caller {
  bool admin = false;
  std::string agent_id;  // when not admin
  bool Sees(const std::string& contact_agent_id) const {
    return admin || (!agent_id.empty() && contact_agent_id == agent_id);
  }
  std::string Principal() const { return admin ? "admin" : agent_id; }
};

// Agents' bearer tokens: issued by POST /v1/agents (kept as SHA-256 digests in
// <data-dir>/agents.json, mode 0600, so a token is shown once and never stored)
// or configured with --agent-token AGENT:TOKEN. Thread-safe.
class AgentDirectory {
 public:
  // Why a token could not be issued: the file could not be written (full disk,
  // I/O error, permissions), e.g. "cannot write .../agents.json.tmp: No space
  // left on device".
  struct SaveError {
    std::string message;
  };

  // `file` empty: nothing persisted (tests).
  explicit AgentDirectory(std::filesystem::path file);

  void Configure(const std::string& agent_id, const std::string& token);
  // A new token for the agent (replacing the one issued before), once it is
  // persisted. When it cannot be, nothing changes: the token issued before
  // stays valid and no new one exists.
  core::Result<std::string, SaveError> Issue(const std::string& agent_id);
  std::optional<std::string> AgentFor(std::string_view token) const;

 private:
  // Writes these digests to the file (temporary, fsync, rename).
  std::optional<SaveError> Save(const std::map<std::string, std::string>& digest_by_agent) const;

  const std::filesystem::path file_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> agent_by_digest_;         // issued and configured
  std::map<std::string, std::string> issued_digest_by_agent_;  // issued only (persisted)
};

}  // namespace callrec::api
