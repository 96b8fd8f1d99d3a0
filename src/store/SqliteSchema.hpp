#pragma once

#include <sqlite3.h>

#include <string>

namespace callrec::store {

// The layout of the state database, versioned with PRAGMA user_version.
//
// Version 2: `audit` is append-only, keyed by a global sequence number, so a group
// commit's audit rows land on the rightmost page of one B-tree instead of at random
// places in a (contact_id, seq) index. Each row links to the previous row of the same
// contact (`prev_seq`, 0 for the first), and the contact's row holds the last one
// (`contacts.audit_head`), so one contact's trail is a walk of primary-key lookups.
// Trails of contacts that have no row (the interface allows it; the service never
// does it) keep their head in `loose_trails`.
//
// Version 3 adds `recordings` (what /v1 shows of an ended contact's recording) and
// a partial index of ended contacts by agent: ended contacts are not kept in memory
// but read back from here.
//
// Version 4 adds `uploads`, the durable queue of recordings on their way to object
// storage (and, once there, where they are).
//
// Version 0 with tables is the unversioned layout of earlier builds (AUTOINCREMENT
// audit table and an audit_by_contact index): it is rebuilt into version 2 in one
// transaction, then brought to 3 and 4 in others. A newer version is refused.
inline constexpr int kSchemaVersion = 4;

// Creates, migrates or checks the schema on `db` (the writer's connection, before any
// other connection uses it). Throws std::runtime_error naming `where` on failure.
void PrepareSchema(sqlite3* db, const std::string& where);

// The version the database file says it has.
int SchemaVersion(sqlite3* db);

}  // namespace callrec::store
