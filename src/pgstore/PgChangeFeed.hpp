#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "pgstore/PgConnection.hpp"
#include "store/ContactStore.hpp"

namespace callrec::pgstore {

// The channel every server's writers notify and every server's feed listens on.
inline constexpr const char* kChangeChannel = "callrec_contacts";

// The statement a writer runs for each write of a contact or an audit line,
// once that write's transaction committed (durable), in a transaction of
// notifications (NOTIFY is delivered at COMMIT, to every listening session, in
// commit order): $1 the contact id, $2 this node, $3 a sequence number of this
// node (so that two equal changes in one transaction are not folded into one),
// $4 whether the write has an audit line, $5..$9 its at_ms, operation,
// principal, result, detail, $10 the contact's row as the write left it (a JSON
// array of store::kContactColumns) or "" for the row as it is. A payload that
// would not fit in a notification (8000 bytes) carries the ids only and the
// receiver reads the row.
const Statement& NotifyStatement();

// One notification's payload, as NotifyStatement builds it.
struct ChangeNotice {
  std::string node_id;
  std::string contact_id;                // empty: too long to send, resync instead
  std::optional<core::Contact> contact;  // nullopt: read the row
  std::optional<core::AuditEntry> audit;
};

// nullopt (and why in `error`) for a payload that is not a notice of ours.
std::optional<ChangeNotice> ParseChangeNotice(std::string_view payload, std::string& error);

// One server's view of the others' changes: a connection of its own that
// LISTENs on kChangeChannel and hands every notice from another node to
// `changes`, on its own thread, one at a time (the backlog waits in
// PostgreSQL, not here: memory does not grow with a flood). A notice from this
// node is skipped (its changes are published locally). A lost connection is
// opened again every second; once it listens again, the contacts other nodes
// changed since shortly before the loss (updated_ms, with a margin for clocks
// and for noticing the loss) are read and handed over as they are now, without
// an audit line, so a receiver misses no state silently.
class PgChangeFeed {
 public:
  // Connects and listens before it returns (a failure is retried by the thread,
  // and followed by a resync).
  PgChangeFeed(std::string conninfo, std::string node_id,
               store::ContactStore::RemoteChanges changes);
  ~PgChangeFeed();
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // Stops the thread (no call to `changes` after it returns). Idempotent.
  void Stop();

  std::uint64_t notices() const { return notices_.load(); }
  std::uint64_t resyncs() const { return resyncs_.load(); }

  // How far before a loss a resync reads (clock skew between nodes, and the
  // time a silent peer takes to be noticed by TCP keepalives).
  static constexpr std::int64_t kResyncMarginMs = 60'000;
  // At most this many contacts per resync (the most recently updated).
  static constexpr int kResyncLimit = 10'000;

 private:
  void Run();
  // Opens, LISTENs, and resyncs if the feed was lost: whether it listens now.
  bool Listen();
  void Lost(const std::string& why);
  // Hands over every notification libpq has parsed.
  void Drain();
  void Handle(std::string_view payload);
  // Hands over the contacts other nodes changed since `since_ms`; false if
  // the connection was lost meanwhile.
  bool Resync(std::int64_t since_ms);
  std::optional<core::Contact> ReadContact(const std::string& contact_id);
  void Deliver(const core::Contact& contact, const std::optional<core::AuditEntry>& audit);
  // Sleeps up to `ms`, or less if Stop() was called.
  void Wait(int ms);

  PgConnection conn_;
  const std::string node_id_;
  store::ContactStore::RemoteChanges changes_;
  int wake_[2] = {-1, -1};  // a pipe: Stop() writes, poll() wakes
  std::atomic<bool> stopping_{false};
  bool listening_ = false;
  std::optional<std::int64_t> lost_at_ms_;  // wall clock, when the feed was lost
  std::string last_error_;                  // logged once per outage
  std::atomic<std::uint64_t> notices_{0};
  std::atomic<std::uint64_t> resyncs_{0};
  std::thread thread_;
};

}  // namespace callrec::pgstore
