#include "pgstore/PostgresAgentStore.hpp"

#include <chrono>
#include <stdexcept>

namespace callrec::pgstore {
namespace {

const std::vector<Statement>& AgentStatements() {
  static const std::vector<Statement> statements = {
      {"find_agent", "SELECT agent_id, supervisor FROM agents WHERE digest = $1"},
      {"save_agent", R"sql(
        INSERT INTO agents(agent_id, digest, supervisor, issued_ms) VALUES($1, $2, $3, $4)
        ON CONFLICT(agent_id) DO UPDATE SET
          digest=excluded.digest, supervisor=excluded.supervisor, issued_ms=excluded.issued_ms)sql"},
  };
  return statements;
}

}  // namespace

PostgresAgentStore::PostgresAgentStore(std::string conninfo)
    : conn_(std::move(conninfo), "callrec-server agents") {
  if (std::string error = conn_.Open(AgentStatements()); !error.empty()) {
    throw std::runtime_error("cannot connect to the state store for agents: " + error);
  }
}

PgResult PostgresAgentStore::Run(const char* statement, const std::vector<std::string>& params,
                                 std::string& error) {
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn_.Usable()) {
      if (std::string failed = conn_.Open(AgentStatements()); !failed.empty()) {
        error = "cannot connect to the state store: " + failed;
        conn_.Close();
        return nullptr;
      }
    }
    PgResult result = conn_.Exec(statement, params, error, true);
    if (result || conn_.Usable()) return result;
  }
  return nullptr;
}

store::ReadResult<std::optional<store::AgentRecord>> PostgresAgentStore::FindAgent(
    std::string_view digest) {
  std::string error;
  PgResult result = Run("find_agent", {std::string(digest)}, error);
  if (!result) return store::ReadError{error};
  if (PQntuples(result.get()) == 0) return std::optional<store::AgentRecord>();
  return std::optional<store::AgentRecord>(
      store::AgentRecord{PQgetvalue(result.get(), 0, 0), std::string(digest),
                         PQgetvalue(result.get(), 0, 1)[0] == 't'});
}

std::string PostgresAgentStore::SaveAgent(const store::AgentRecord& record) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::string error;
  Run("save_agent",
      {record.agent_id, record.digest, record.supervisor ? "t" : "f", std::to_string(now)}, error);
  return error;
}

}  // namespace callrec::pgstore
