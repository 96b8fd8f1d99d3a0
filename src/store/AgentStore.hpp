#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/ContactStore.hpp"

namespace callrec::store {

// An agent's issued workspace token, by its SHA-256 digest (never the token).
struct AgentRecord {
  std::string agent_id;
  std::string digest;
  bool supervisor = false;
};

// Where issued agent tokens live when several servers share them (PostgreSQL);
// a lone server keeps them in <data-dir>/agents.json instead (api/AgentDirectory).
// Calls are synchronous and may come from any thread.
class AgentStore {
 public:
  virtual ~AgentStore() = default;
  // The agent whose current token has this digest (nullopt: none).
  virtual ReadResult<std::optional<AgentRecord>> FindAgent(std::string_view digest) = 0;
  // Replaces the agent's token (and role), durably: "" once committed, else why not.
  virtual std::string SaveAgent(const AgentRecord& record) = 0;
};

}  // namespace callrec::store
