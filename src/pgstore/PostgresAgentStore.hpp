#pragma once

#include <mutex>
#include <string>

#include "pgstore/PgConnection.hpp"
#include "store/AgentStore.hpp"

namespace callrec::pgstore {

// Issued agent tokens (their digests) in the `agents` table, shared by every
// server on the database. One connection, one caller at a time; a lost
// connection is opened again, and the call retried once.
class PostgresAgentStore final : public store::AgentStore {
 public:
  // The schema must exist (PostgresContactStore creates it). Throws
  // std::runtime_error if the server cannot be reached.
  explicit PostgresAgentStore(std::string conninfo);

  store::ReadResult<std::optional<store::AgentRecord>> FindAgent(std::string_view digest) override;
  std::string SaveAgent(const store::AgentRecord& record) override;

 private:
  // The prepared statement's result, or an error message in `error`.
  PgResult Run(const char* statement, const std::vector<std::string>& params, std::string& error);

  std::mutex mutex_;
  PgConnection conn_;
};

}  // namespace callrec::pgstore
