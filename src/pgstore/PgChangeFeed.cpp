#include "pgstore/PgChangeFeed.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>

#include "log/Log.hpp"
#include "store/StoreRows.hpp"

namespace callrec::pgstore {
namespace {

namespace json = boost::json;

// Under PostgreSQL's 8000 bytes, with room for its own framing.
constexpr int kMaxPayload = 7900;

std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ContactArray() {
  // json_build_array keeps each column's type: text, bigint, boolean.
  return std::string("json_build_array(") + store::kContactColumns + ")";
}

core::Contact ContactFromJson(const json::array& row) {
  if (row.size() != static_cast<std::size_t>(store::kContactColumnCount)) {
    throw std::runtime_error("a contact of " + std::to_string(row.size()) + " columns");
  }
  return store::ContactFromColumns(
      0, [&row](int i) { return std::string(row.at(static_cast<std::size_t>(i)).as_string()); },
      [&row](int i) { return row.at(static_cast<std::size_t>(i)).to_number<std::int64_t>(); },
      [&row](int i) { return row.at(static_cast<std::size_t>(i)).as_bool(); });
}

}  // namespace

const Statement& NotifyStatement() {
  static const Statement statement{
      "notify",
      std::string("SELECT pg_notify('") + kChangeChannel + "', CASE WHEN octet_length(p.body) < " +
          std::to_string(kMaxPayload) +
          " THEN p.body ELSE json_build_object("
          "'n', $2::text, 'q', $3::bigint, "
          "'i', CASE WHEN octet_length($1::text) < 4000 THEN $1::text ELSE '' END)::text END) "
          "FROM (SELECT json_build_object("
          "'n', $2::text, 'q', $3::bigint, 'i', $1::text, "
          "'c', COALESCE(NULLIF($10::text, '')::json, (SELECT " +
          ContactArray() +
          " FROM contacts WHERE contact_id = $1)), "
          "'a', CASE WHEN $4::boolean THEN json_build_array($5::bigint, $6::text, $7::text, "
          "$8::text, $9::text) END)::text AS body) AS p"};
  return statement;
}

std::optional<ChangeNotice> ParseChangeNotice(std::string_view payload, std::string& error) {
  try {
    const json::value parsed = json::parse(payload);
    const json::object& o = parsed.as_object();
    ChangeNotice notice;
    notice.node_id = std::string(o.at("n").as_string());
    notice.contact_id = std::string(o.at("i").as_string());
    if (const json::value* c = o.if_contains("c"); c && !c->is_null()) {
      notice.contact = ContactFromJson(c->as_array());
      if (notice.contact->contact_id != notice.contact_id) {
        throw std::runtime_error("the row is another contact's");
      }
    }
    if (const json::value* a = o.if_contains("a"); a && !a->is_null()) {
      const json::array& line = a->as_array();
      if (line.size() != 5)
        throw std::runtime_error("an audit line of " + std::to_string(line.size()) + " fields");
      notice.audit = core::AuditEntry{notice.contact_id,
                                      line.at(0).to_number<std::int64_t>(),
                                      std::string(line.at(1).as_string()),
                                      std::string(line.at(2).as_string()),
                                      std::string(line.at(3).as_string()),
                                      std::string(line.at(4).as_string())};
    }
    return notice;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

PgChangeFeed::PgChangeFeed(std::string conninfo, std::string node_id,
                           store::ContactStore::RemoteChanges changes)
    : conn_(std::move(conninfo), "callrec-server " + node_id + " feed"),
      node_id_(std::move(node_id)),
      changes_(std::move(changes)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("cannot create the change feed's pipe");
  }
  // Listening before the server takes requests: a change another node makes
  // right after this one started is not missed. If it cannot yet, whatever
  // changed from now on is read once it can.
  if (!Listen()) lost_at_ms_ = WallMs();
  thread_ = std::thread([this] { Run(); });
}

PgChangeFeed::~PgChangeFeed() {
  Stop();
  if (wake_[0] >= 0) close(wake_[0]);
  if (wake_[1] >= 0) close(wake_[1]);
}

void PgChangeFeed::Stop() {
  if (!stopping_.exchange(true)) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = write(wake_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
}

bool PgChangeFeed::Listen() {
  std::string error = conn_.Open({});
  if (error.empty()) {
    conn_.Exec(std::string("LISTEN ") + kChangeChannel, {}, error);
  }
  if (!error.empty()) {
    if (error != last_error_) {
      log::Warn("store.feed_connect_failed", {{"error", error}});
      last_error_ = error;
    }
    conn_.Close();
    return false;
  }
  last_error_.clear();
  listening_ = true;
  // Listening first, then reading: a change committed in between comes both
  // ways (harmless), none comes neither way.
  if (lost_at_ms_ && Resync(*lost_at_ms_ - kResyncMarginMs)) {
    log::Info("store.feed_resumed", {{"lost_ms", WallMs() - *lost_at_ms_}});
    lost_at_ms_.reset();
  }
  return listening_;
}

void PgChangeFeed::Lost(const std::string& why) {
  if (listening_) log::Warn("store.feed_lost", {{"error", why}});
  listening_ = false;
  conn_.Close();
  if (!lost_at_ms_) lost_at_ms_ = WallMs();
}

void PgChangeFeed::Wait(int ms) {
  pollfd wake{wake_[0], POLLIN, 0};
  poll(&wake, 1, ms);
}

void PgChangeFeed::Run() {
  while (!stopping_) {
    if (!listening_ && !Listen()) {
      Wait(1000);
      continue;
    }
    pollfd fds[2] = {{PQsocket(conn_.get()), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    if (stopping_) break;
    if (fds[0].revents == 0) continue;
    const bool read = PQconsumeInput(conn_.get()) == 1;
    Drain();
    if (!read || PQstatus(conn_.get()) != CONNECTION_OK || conn_.EndedByServer()) {
      Lost(read ? "the server ended the connection" : conn_.Error());
    }
  }
}

void PgChangeFeed::Drain() {
  while (listening_ && !stopping_) {
    PGnotify* raw = PQnotifies(conn_.get());
    if (!raw) break;
    const std::string payload = raw->extra ? raw->extra : "";
    PQfreemem(raw);
    Handle(payload);
  }
}

void PgChangeFeed::Handle(std::string_view payload) {
  std::string error;
  std::optional<ChangeNotice> notice = ParseChangeNotice(payload, error);
  if (!notice) {
    log::Warn("store.feed_bad_notice", {{"error", error}});
    return;
  }
  if (notice->node_id == node_id_) return;  // published here already
  notices_ += 1;
  if (notice->contact_id.empty()) {
    // An id too long to send: read what changed lately instead.
    Resync(WallMs() - kResyncMarginMs);
    return;
  }
  if (!notice->contact) notice->contact = ReadContact(notice->contact_id);
  if (notice->contact) Deliver(*notice->contact, notice->audit);
}

std::optional<core::Contact> PgChangeFeed::ReadContact(const std::string& contact_id) {
  std::string error;
  PgResult result = conn_.Exec(
      std::string("SELECT ") + store::kContactColumns + " FROM contacts WHERE contact_id = $1",
      {contact_id}, error);
  if (!result) {
    log::Warn("store.feed_read_failed", {{"contact", contact_id}, {"error", error}});
    return std::nullopt;
  }
  if (PQntuples(result.get()) == 0) return std::nullopt;
  const PGresult* r = result.get();
  try {
    return store::ContactFromColumns(
        0, [r](int i) { return std::string(PQgetvalue(r, 0, i)); },
        [r](int i) { return static_cast<std::int64_t>(std::stoll(PQgetvalue(r, 0, i))); },
        [r](int i) { return PQgetvalue(r, 0, i)[0] == 't'; });
  } catch (const std::exception& e) {
    log::Warn("store.feed_read_failed", {{"contact", contact_id}, {"error", e.what()}});
    return std::nullopt;
  }
}

bool PgChangeFeed::Resync(std::int64_t since_ms) {
  resyncs_ += 1;
  std::string error;
  PgResult result = conn_.Exec(std::string("SELECT ") + store::kContactColumns +
                                   " FROM contacts WHERE owner <> $1 AND updated_ms >= $2"
                                   " ORDER BY updated_ms DESC, contact_id LIMIT " +
                                   std::to_string(kResyncLimit),
                               {node_id_, std::to_string(since_ms)}, error);
  if (!result) {
    Lost("resync: " + error);
    return false;
  }
  const PGresult* r = result.get();
  const int rows = PQntuples(r);
  int delivered = 0;
  // Oldest first, as they happened.
  for (int row = rows - 1; row >= 0 && !stopping_; --row) {
    try {
      Deliver(store::ContactFromColumns(
                  0, [r, row](int i) { return std::string(PQgetvalue(r, row, i)); },
                  [r, row](int i) {
                    return static_cast<std::int64_t>(std::stoll(PQgetvalue(r, row, i)));
                  },
                  [r, row](int i) { return PQgetvalue(r, row, i)[0] == 't'; }),
              std::nullopt);
      ++delivered;
    } catch (const std::exception& e) {
      log::Warn("store.feed_read_failed", {{"error", e.what()}});
    }
  }
  log::Info("store.feed_resynced", {{"since_ms", since_ms}, {"contacts", delivered}});
  return true;
}

void PgChangeFeed::Deliver(const core::Contact& contact,
                           const std::optional<core::AuditEntry>& audit) {
  try {
    changes_(contact, audit);
  } catch (const std::exception& e) {
    log::Warn("store.feed_handler_failed", {{"contact", contact.contact_id}, {"error", e.what()}});
  }
}

}  // namespace callrec::pgstore
