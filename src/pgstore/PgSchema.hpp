#pragma once

#include <string>

#include "pgstore/PgConnection.hpp"

namespace callrec::pgstore {

// The layout this build writes (schema_version's one row). Version 1: contacts
// (each with its owner, the node holding its media), audit, recordings, uploads,
// agents (issued workspace tokens' digests). Version 2 adds `nodes`: each
// node's advertise URL and heartbeat (the database's clock), its lease.
inline constexpr int kSchemaVersion = 2;

// Creates the schema in an empty database, or migrates an older one, in one
// transaction under an advisory lock (two servers starting at once take turns).
// Throws std::runtime_error naming `where`: a newer version than this build
// knows, a database holding other tables named like callrec's, or SQL errors.
void PrepareSchema(PgConnection& conn, const std::string& where);

// The version recorded in the database (0: no schema_version table). Throws.
int SchemaVersion(PgConnection& conn);

}  // namespace callrec::pgstore
