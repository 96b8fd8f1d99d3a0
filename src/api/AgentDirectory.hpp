#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/Result.hpp"

namespace callrec::api {

// Who is calling /v1: the admin, or one agent (who may be a supervisor).
struct Caller {
  bool admin = false;
  std::string agent_id;     // when not admin
  bool supervisor = false;  // an agent who watches every contact
  // May act on, and read the recordings and guide of, a contact of this agent.
  bool Sees(const std::string& contact_agent_id) const {
    return admin || (!agent_id.empty() && contact_agent_id == agent_id);
  }
  // May see a contact's state and audit trail (list, contact, events): a
  // supervisor watches every agent's calls without listening to them.
  bool Watches(const std::string& contact_agent_id) const {
    return supervisor || Sees(contact_agent_id);
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

  enum class Role { kAgent, kSupervisor };
  struct Identity {
    std::string agent_id;
    Role role = Role::kAgent;
  };

  void Configure(const std::string& agent_id, const std::string& token);
  // A new token for the agent (replacing the one issued before, and its
  // role), once it is persisted. When it cannot be, nothing changes: the token
  // issued before stays valid and no new one exists.
  core::Result<std::string, SaveError> Issue(const std::string& agent_id, Role role = Role::kAgent);
  std::optional<std::string> AgentFor(std::string_view token) const;
  std::optional<Identity> Identify(std::string_view token) const;

 private:
  // Writes these digests to the file (temporary, fsync, rename).
  std::optional<SaveError> Save(const std::map<std::string, std::string>& digest_by_agent,
                                const std::set<std::string>& supervisors) const;

  const std::filesystem::path file_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> agent_by_digest_;         // issued and configured
  std::map<std::string, std::string> issued_digest_by_agent_;  // issued only (persisted)
  std::set<std::string> supervisors_;                          // issued as supervisors
};

}  // namespace callrec::api
