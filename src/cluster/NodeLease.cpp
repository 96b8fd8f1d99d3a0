#include "cluster/NodeLease.hpp"

#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "log/Log.hpp"

namespace callrec::cluster {
namespace {

// The advisory lock that makes one node at a time end lost nodes' contacts (and
// keeps a registering node out of a sweep under way): "callrec" in ASCII, then 02.
constexpr const char* kSweepLock = "SELECT pg_advisory_xact_lock(x'63616c6c72656302'::bigint)";
constexpr const char* kTrySweepLock =
    "SELECT pg_try_advisory_xact_lock(x'63616c6c72656302'::bigint)";

// How long a sweep waits for its ENDs to be durable before it lets go of the lock.
constexpr auto kEndWait = std::chrono::seconds(10);

const std::vector<pgstore::Statement>& Statements() {
  static const std::vector<pgstore::Statement> statements = {
      {"register", R"sql(
        INSERT INTO nodes(node_id, advertise_url, started, heartbeat) VALUES($1, $2, now(), now())
        ON CONFLICT(node_id) DO UPDATE SET
          advertise_url=excluded.advertise_url, started=now(), heartbeat=now())sql"},
      // Also says whether the heartbeat before was older than the lease ($3 s):
      // the CTE reads the row as it was before this statement.
      {"beat", R"sql(
        WITH before AS (SELECT heartbeat FROM nodes WHERE node_id = $1)
        INSERT INTO nodes(node_id, advertise_url, started, heartbeat) VALUES($1, $2, now(), now())
        ON CONFLICT(node_id) DO UPDATE SET
          advertise_url=excluded.advertise_url, heartbeat=now()
        RETURNING coalesce((SELECT heartbeat < now() - make_interval(secs => $3::integer)
                            FROM before), false))sql"},
      {"lost_contacts", R"sql(
        SELECT c.contact_id, c.owner FROM contacts c JOIN nodes n ON n.node_id = c.owner
        WHERE c.state <> 'ENDED' AND c.owner <> $1
          AND n.heartbeat < now() - make_interval(secs => $2::integer)
        ORDER BY c.owner, c.contact_id LIMIT 500)sql"},  // the rest in the next sweep
  };
  return statements;
}

bool Ok(const pgstore::PgResult& result) {
  if (!result) return false;
  const ExecStatusType status = PQresultStatus(result.get());
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

NodeLease::NodeLease(LeaseConfig config, EndContact end_contact, Lapsed lapsed)
    : config_(std::move(config)),
      end_contact_(std::move(end_contact)),
      lapsed_(std::move(lapsed)),
      conn_(config_.conninfo, "callrec-server " + config_.node_id + " lease") {}

NodeLease::~NodeLease() {
  Stop();
}

void NodeLease::Register() {
  if (std::string error = conn_.Open(Statements()); !error.empty()) {
    throw std::runtime_error("cannot register this node in the state store: " + error);
  }
  std::string error;
  auto run = [&](const char* sql, const std::vector<std::string>& params, bool prepared) {
    pgstore::PgResult result = conn_.Exec(sql, params, error, prepared);
    if (!Ok(result) && error.empty()) error = pgstore::ResultError(result.get(), conn_.get());
    return error.empty();
  };
  // Under the sweep's lock: a survivor ending this node's contacts finishes
  // first, and none starts once this row is fresh.
  if (!run("BEGIN", {}, false) || !run(kSweepLock, {}, false) ||
      !run("register", {config_.node_id, config_.advertise_url}, true) ||
      !run("COMMIT", {}, false)) {
    conn_.Close();
    throw std::runtime_error("cannot register this node in the state store: " + error);
  }
  log::Info("cluster.registered", {{"node", config_.node_id},
                                   {"advertise_url", config_.advertise_url},
                                   {"lease_s", config_.lease.count()}});
}

void NodeLease::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void NodeLease::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeLease::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool lapsed = false;
    std::string error = Beat(lapsed);
    if (error.empty() && lapsed && beaten_) {
      // Survivors may have ended this node's contacts meanwhile: once their
      // sweep is over, memory follows the store.
      log::Warn("cluster.lease_lapsed",
                {{"node", config_.node_id}, {"lease_s", config_.lease.count()}});
      error = WaitForSweep();
      if (error.empty() && lapsed_) lapsed_();
    }
    if (error.empty()) beaten_ = true;
    if (error.empty()) error = Sweep();
    if (error != last_error_) {
      if (!error.empty()) {
        log::Warn("cluster.heartbeat_failed", {{"node", config_.node_id}, {"error", error}});
      } else {
        log::Info("cluster.heartbeat_restored", {{"node", config_.node_id}});
      }
      last_error_ = error;
    }
    lock.lock();
    cv_.wait_for(lock, config_.beat, [this] { return stopping_; });
  }
}

std::string NodeLease::Beat(bool& lapsed) {
  if (!conn_.Usable()) {
    if (std::string error = conn_.Open(Statements()); !error.empty()) return error;
  }
  std::string error;
  pgstore::PgResult result = conn_.Exec(
      "beat", {config_.node_id, config_.advertise_url, std::to_string(config_.lease.count())},
      error, true);
  if (!error.empty()) return error;
  if (!Ok(result)) return pgstore::ResultError(result.get(), conn_.get());
  lapsed = PQntuples(result.get()) == 1 && std::string(PQgetvalue(result.get(), 0, 0)) == "t";
  return {};
}

std::string NodeLease::WaitForSweep() {
  for (const char* sql : {"BEGIN", kSweepLock, "COMMIT"}) {
    std::string error;
    pgstore::PgResult result = conn_.Exec(sql, {}, error);
    if (!error.empty()) {
      pgstore::PgResult rollback(PQexec(conn_.get(), "ROLLBACK"));
      return error;
    }
  }
  return {};
}

std::string NodeLease::Sweep() {
  std::string error;
  auto exec = [&](const char* sql, const std::vector<std::string>& params, bool prepared) {
    pgstore::PgResult result = conn_.Exec(sql, params, error, prepared);
    if (!Ok(result) && error.empty()) error = pgstore::ResultError(result.get(), conn_.get());
    return result;
  };
  exec("BEGIN", {}, false);
  if (!error.empty()) return error;
  pgstore::PgResult locked = exec(kTrySweepLock, {}, false);
  std::vector<std::pair<std::string, std::string>> lost;  // contact, owner
  if (error.empty() && std::string(PQgetvalue(locked.get(), 0, 0)) == "t") {
    pgstore::PgResult rows =
        exec("lost_contacts", {config_.node_id, std::to_string(config_.lease.count())}, true);
    if (error.empty()) {
      for (int i = 0; i < PQntuples(rows.get()); ++i) {
        lost.emplace_back(PQgetvalue(rows.get(), i, 0), PQgetvalue(rows.get(), i, 1));
      }
    }
  }
  if (error.empty() && !lost.empty()) {
    std::map<std::string, std::size_t> per_owner;
    for (const auto& [contact, owner] : lost) per_owner[owner] += 1;
    for (const auto& [owner, count] : per_owner) {
      log::Warn("cluster.node_lost",
                {{"node", owner}, {"live_contacts", count}, {"by", config_.node_id}});
    }
    // Each END through the contact service (audited, observed, durable); the
    // lock is held until they all are.
    struct Waiting {
      std::mutex mutex;
      std::condition_variable cv;
      std::size_t left;
      std::size_t failed = 0;
    };
    auto waiting = std::make_shared<Waiting>();
    waiting->left = lost.size();
    for (const auto& [contact, owner] : lost) {
      end_contact_(contact, owner, [this, waiting, contact = contact](bool ok) {
        std::lock_guard lock(waiting->mutex);
        if (ok) {
          ended_ += 1;
        } else {
          waiting->failed += 1;
          log::Warn("cluster.lost_contact_not_ended", {{"contact", contact}});
        }
        if (--waiting->left == 0) waiting->cv.notify_all();
      });
    }
    std::unique_lock lock(waiting->mutex);
    if (!waiting->cv.wait_for(lock, kEndWait, [&] { return waiting->left == 0; })) {
      error = std::to_string(waiting->left) + " END(s) of a lost node's contacts still unsettled";
    }
  }
  // COMMIT (or ROLLBACK after an error) lets go of the lock.
  pgstore::PgResult done(PQexec(conn_.get(), error.empty() ? "COMMIT" : "ROLLBACK"));
  if (!Ok(done) && error.empty()) error = pgstore::ResultError(done.get(), conn_.get());
  return error;
}

}  // namespace callrec::cluster
