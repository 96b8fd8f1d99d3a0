#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/Result.hpp"
#include "store/AgentStore.hpp"

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
// With a shared store (servers sharing PostgreSQL) issued tokens live there
// instead of the file: a token issued on one server signs in on every one, and
// a server asks the store again about a token it has not seen for kRecheck, so
// a token replaced on another server stops working here within that time.
class AgentDirectory {
 public:
  // Why a token could not be issued: the file could not be written (full disk,
  // I/O error, permissions), e.g. "cannot write .../agents.json.tmp: No space
  // left on device".
  struct SaveError {
    std::string message;
  };

  using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::seconds kRecheck{2};

  // `file` empty: nothing persisted (tests). `shared`: issued tokens live there
  // (the file is not used); `clock` times the rechecks (default: steady_clock).
  explicit AgentDirectory(std::filesystem::path file, store::AgentStore* shared = nullptr,
                          SteadyClock clock = {});

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

  // An issued token as the shared store last said, and when.
  struct Checked {
    std::string agent_id;
    bool supervisor = false;
    std::chrono::steady_clock::time_point at;
  };
  std::optional<Identity> IdentifyShared(const std::string& digest) const;

  const std::filesystem::path file_;
  store::AgentStore* const shared_;
  const SteadyClock clock_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Checked> checked_;             // shared store only, by digest
  std::map<std::string, std::string> agent_by_digest_;         // issued and configured
  std::map<std::string, std::string> issued_digest_by_agent_;  // issued only (persisted)
  std::set<std::string> supervisors_;                          // issued as supervisors
};

}  // namespace callrec::api
