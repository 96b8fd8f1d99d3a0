#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "pgstore/PgConnection.hpp"

namespace callrec::cluster {

struct LeaseConfig {
  std::string conninfo;       // the shared PostgreSQL store (--store)
  std::string node_id;        // --node-id
  std::string advertise_url;  // how the others reach this node ("" if they cannot)
  std::chrono::seconds lease{5};
  std::chrono::milliseconds beat{1000};
};

// Liveness of the nodes sharing one PostgreSQL store. Each node writes its
// row of `nodes` (advertise URL, heartbeat from the database's own now()) once
// a second; a node whose heartbeat is older than the lease is lost, and one
// surviving node at a time (a transaction-scoped advisory lock) ends each of
// its live contacts through `end_contact`, holding the lock until those ENDs
// are durable, so no other survivor ends them again. A node starting takes the
// same lock to register, so it never loads contacts a survivor is ending.
class NodeLease {
 public:
  // Ends `contact_id`, owned by the lost node `owner`; `done` runs once the END
  // is durable (true) or failed (false), on any thread.
  using EndContact = std::function<void(const std::string& contact_id, const std::string& owner,
                                        std::function<void(bool)> done)>;

  // Told when this node finds its own heartbeat had lapsed (frozen, or cut off
  // from the database, past the lease) and survivors may have ended its live
  // contacts: after any sweep under way has finished, on the lease's thread.
  using Lapsed = std::function<void()>;

  NodeLease(LeaseConfig config, EndContact end_contact, Lapsed lapsed = {});
  ~NodeLease();
  NodeLease(const NodeLease&) = delete;
  NodeLease& operator=(const NodeLease&) = delete;

  // Writes this node's row (waiting for a survivor's sweep under way). Throws
  // std::runtime_error if the store cannot be written: the server does not start.
  void Register();
  // The heartbeat and the sweep, once a second on their own thread.
  void Start();
  // Stops the thread; the row stays (its heartbeat ages: after the lease a
  // survivor ends what this node left live, which a clean stop leaves none of).
  void Stop();

  // Lost nodes' contacts this node ended.
  std::uint64_t ended() const { return ended_.load(); }

 private:
  void Loop();
  // One heartbeat ("" or why not); `lapsed`: the one before was older than the lease.
  std::string Beat(bool& lapsed);
  // Waits for a sweep under way (takes and lets go of its lock).
  std::string WaitForSweep();
  std::string Sweep();

  const LeaseConfig config_;
  EndContact end_contact_;
  Lapsed lapsed_;
  pgstore::PgConnection conn_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::string last_error_;  // logged once per change
  bool beaten_ = false;     // a heartbeat of this process went through
  std::atomic<std::uint64_t> ended_{0};
};

}  // namespace callrec::cluster
