#include "pgstore/PgSchema.hpp"

#include <stdexcept>

namespace callrec::pgstore {
namespace {

// The advisory lock (a fixed key) that serialises schema changes.
constexpr const char* kSchemaLock = "63616c6c72656301";  // "callrec" in ASCII, then 01

constexpr const char* kCreate = R"sql(
CREATE TABLE contacts(
  contact_id text COLLATE "C" PRIMARY KEY,
  instance_id text NOT NULL,
  initial_contact_id text NOT NULL,
  agent_id text COLLATE "C" NOT NULL,
  codec text NOT NULL,
  state text NOT NULL,
  final_state text NOT NULL,
  track text NOT NULL,
  agent_joined boolean NOT NULL,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL,
  version bigint NOT NULL,
  owner text NOT NULL);
CREATE INDEX contacts_ended_by_agent ON contacts(agent_id, contact_id) WHERE state = 'ENDED';
CREATE INDEX contacts_live_by_owner ON contacts(owner) WHERE state <> 'ENDED';
CREATE TABLE audit(
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  contact_id text NOT NULL,
  at_ms bigint NOT NULL,
  operation text NOT NULL,
  principal text NOT NULL,
  result text NOT NULL,
  detail text NOT NULL);
CREATE INDEX audit_by_contact ON audit(contact_id, seq);
CREATE TABLE recordings(
  contact_id text PRIMARY KEY,
  path text NOT NULL,
  packets bigint NOT NULL,
  lost bigint NOT NULL,
  late bigint NOT NULL,
  gated bigint NOT NULL,
  invalid bigint NOT NULL,
  duplicates bigint NOT NULL,
  frames_written bigint NOT NULL);
CREATE TABLE uploads(
  contact_id text PRIMARY KEY,
  wav_path text NOT NULL,
  state text NOT NULL,
  created_ms bigint NOT NULL,
  attempts bigint NOT NULL,
  next_attempt_ms bigint NOT NULL,
  upload_id text NOT NULL,
  bucket text NOT NULL,
  object_key text NOT NULL,
  etag text NOT NULL,
  bytes bigint NOT NULL,
  last_error text NOT NULL,
  uploaded_ms bigint NOT NULL,
  local_done boolean NOT NULL);
CREATE INDEX uploads_open ON uploads(created_ms) WHERE state = 'pending' OR NOT local_done;
CREATE TABLE agents(
  agent_id text COLLATE "C" PRIMARY KEY,
  digest text NOT NULL,
  supervisor boolean NOT NULL,
  issued_ms bigint NOT NULL);
CREATE INDEX agents_by_digest ON agents(digest);
CREATE TABLE schema_version(version integer NOT NULL);
INSERT INTO schema_version(version) VALUES (1);
)sql";

// Version 1 to 2: the node registry. `heartbeat` is written with the
// database's now(), so leases compare one clock, not the nodes'.
constexpr const char* kMigrate2 = R"sql(
CREATE TABLE nodes(
  node_id text COLLATE "C" PRIMARY KEY,
  advertise_url text NOT NULL,
  started timestamptz NOT NULL,
  heartbeat timestamptz NOT NULL);
UPDATE schema_version SET version = 2;
)sql";

void Run(PgConnection& conn, const std::string& sql, const std::string& what) {
  std::string error;
  // Simple-query protocol: several statements in one string.
  PgResult result(PQexec(conn.get(), sql.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(what + ": " + ResultError(result.get(), conn.get()));
  }
}

bool HasTable(PgConnection& conn, const char* name) {
  std::string error;
  PgResult result = conn.Exec("SELECT to_regclass($1) IS NOT NULL", {name}, error);
  if (!result) throw std::runtime_error("cannot read the schema: " + error);
  return std::string(PQgetvalue(result.get(), 0, 0)) == "t";
}

}  // namespace

int SchemaVersion(PgConnection& conn) {
  if (!HasTable(conn, "schema_version")) return 0;
  std::string error;
  PgResult result = conn.Exec("SELECT max(version) FROM schema_version", {}, error);
  if (!result) throw std::runtime_error("cannot read the schema version: " + error);
  if (PQgetisnull(result.get(), 0, 0)) return 0;
  return std::stoi(PQgetvalue(result.get(), 0, 0));
}

void PrepareSchema(PgConnection& conn, const std::string& where) {
  Run(conn, std::string("BEGIN; SELECT pg_advisory_xact_lock(x'") + kSchemaLock + "'::bigint)",
      "cannot lock the schema of " + where);
  try {
    const int version = SchemaVersion(conn);
    if (version > kSchemaVersion) {
      throw std::runtime_error(where + " has schema version " + std::to_string(version) +
                               ", newer than this build of callrec knows (" +
                               std::to_string(kSchemaVersion) +
                               "); refusing to use it: upgrade callrec-server");
    }
    if (version == 0) {
      for (const char* table : {"contacts", "audit", "recordings", "uploads", "agents"}) {
        if (HasTable(conn, table)) {
          throw std::runtime_error(where + " has a '" + table +
                                   "' table but no schema_version: not a callrec database "
                                   "(give callrec a database of its own)");
        }
      }
      Run(conn, kCreate, "cannot create the schema in " + where);
    }
    // One step per version, each in this transaction.
    if (version < 2) Run(conn, kMigrate2, "cannot migrate the schema of " + where + " to 2");
    Run(conn, "COMMIT", "cannot commit the schema of " + where);
  } catch (...) {
    PgResult rollback(PQexec(conn.get(), "ROLLBACK"));
    throw;
  }
}

}  // namespace callrec::pgstore
