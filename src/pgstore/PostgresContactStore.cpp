#include "pgstore/PostgresContactStore.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>

#include "log/Log.hpp"
#include "pgstore/PgChangeFeed.hpp"
#include "pgstore/PgSchema.hpp"
#include "store/StoreRows.hpp"

namespace callrec::pgstore {
namespace {

// Writes per transaction at most: a bigger queue goes in several.
constexpr std::size_t kMaxBatch = 1000;

using store::kContactColumns;
using store::kUploadColumns;

// The writer's statements. A contact's identity and owner never change once written,
// and an ENDED contact stays ENDED: a node declared lost (its contacts ended by a
// survivor) that comes back cannot bring one of them back to life.
const std::vector<Statement>& WriterStatements() {
  static const std::vector<Statement> statements = {
      {"contact", R"sql(
        INSERT INTO contacts(contact_id, instance_id, initial_contact_id, agent_id, codec, state,
                             final_state, track, agent_joined, created_ms, updated_ms, version,
                             owner)
        VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT(contact_id) DO UPDATE SET
          agent_id=excluded.agent_id, state=excluded.state, final_state=excluded.final_state,
          track=excluded.track, agent_joined=excluded.agent_joined,
          updated_ms=excluded.updated_ms, version=excluded.version
        WHERE contacts.state <> 'ENDED' OR excluded.state = 'ENDED')sql"},
      {"audit", R"sql(
        INSERT INTO audit(contact_id, at_ms, operation, principal, result, detail)
        VALUES($1, $2, $3, $4, $5, $6))sql"},
      {"recording", R"sql(
        INSERT INTO recordings(contact_id, path, packets, lost, late, gated, invalid, duplicates,
                               frames_written)
        VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT(contact_id) DO UPDATE SET
          path=excluded.path, packets=excluded.packets, lost=excluded.lost, late=excluded.late,
          gated=excluded.gated, invalid=excluded.invalid, duplicates=excluded.duplicates,
          frames_written=excluded.frames_written)sql"},
      {"upload", R"sql(
        INSERT INTO uploads(contact_id, wav_path, state, created_ms, attempts, next_attempt_ms,
                            upload_id, bucket, object_key, etag, bytes, last_error, uploaded_ms,
                            local_done)
        VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT(contact_id) DO UPDATE SET
          wav_path=excluded.wav_path, state=excluded.state, created_ms=excluded.created_ms,
          attempts=excluded.attempts, next_attempt_ms=excluded.next_attempt_ms,
          upload_id=excluded.upload_id, bucket=excluded.bucket, object_key=excluded.object_key,
          etag=excluded.etag, bytes=excluded.bytes, last_error=excluded.last_error,
          uploaded_ms=excluded.uploaded_ms, local_done=excluded.local_done)sql"},
      {"upload_new", R"sql(
        INSERT INTO uploads(contact_id, wav_path, state, created_ms, attempts, next_attempt_ms,
                            upload_id, bucket, object_key, etag, bytes, last_error, uploaded_ms,
                            local_done)
        VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT(contact_id) DO NOTHING)sql"},
      NotifyStatement(),
  };
  return statements;
}

// The point reads' statements.
const std::vector<Statement>& ReaderStatements() {
  static const std::vector<Statement> statements = {
      {"contact",
       std::string("SELECT ") + kContactColumns + " FROM contacts WHERE contact_id = $1"},
      {"trail", R"sql(
        SELECT at_ms, operation, principal, result, detail FROM audit
        WHERE contact_id = $1 ORDER BY seq)sql"},
      {"recording", R"sql(
        SELECT path, packets, lost, late, gated, invalid, duplicates, frames_written
        FROM recordings WHERE contact_id = $1)sql"},
  };
  return statements;
}

std::string Text(const PGresult* result, int row, int column) {
  return PQgetvalue(result, row, column);
}

std::int64_t Int(const PGresult* result, int row, int column) {
  return std::stoll(PQgetvalue(result, row, column));
}

bool Bool(const PGresult* result, int row, int column) {
  return PQgetvalue(result, row, column)[0] == 't';
}

const char* BoolText(bool value) {
  return value ? "t" : "f";
}

// One row of kContactColumns (store/StoreRows.hpp), from column `base` on.
core::Contact ContactFromRow(const PGresult* result, int row, int base = 0) {
  return store::ContactFromColumns(
      base, [result, row](int i) { return Text(result, row, i); },
      [result, row](int i) { return Int(result, row, i); },
      [result, row](int i) { return Bool(result, row, i); });
}

std::vector<core::Contact> ContactsFrom(const PGresult* result) {
  std::vector<core::Contact> contacts;
  const int rows = PQntuples(result);
  contacts.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) contacts.push_back(ContactFromRow(result, row));
  return contacts;
}

// "a.x, a.y" from "x, y".
std::string Qualified(const char* alias, const char* columns) {
  std::string out;
  std::string_view rest(columns);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view column = rest.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += std::string(alias) + "." + std::string(column);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return out;
}

}  // namespace

PostgresContactStore::PostgresContactStore(std::string conninfo, std::string node_id,
                                           Dispatch dispatch)
    : conninfo_(std::move(conninfo)),
      node_id_(std::move(node_id)),
      dispatch_(std::move(dispatch)),
      reader_(conninfo_, "callrec-server " + node_id_),
      lister_(conninfo_, "callrec-server " + node_id_) {
  // The schema first (it may not exist yet), then the prepared statements.
  if (std::string error = reader_.conn.Open({}); !error.empty()) {
    throw std::runtime_error("cannot connect to the state store " + reader_.conn.Describe() + ": " +
                             error);
  }
  where_ = reader_.conn.Describe();
  PrepareSchema(reader_.conn, "state store " + where_);
  for (std::size_t i = 0; i < kWriters; ++i) {
    auto writer = std::make_unique<Writer>(conninfo_, "callrec-server " + node_id_);
    if (std::string error = writer->conn.Open(WriterStatements()); !error.empty()) {
      throw std::runtime_error("state store " + where_ + ": " + error);
    }
    writers_.push_back(std::move(writer));
  }
  if (std::string error = reader_.conn.Open(ReaderStatements()); !error.empty()) {
    throw std::runtime_error("state store " + where_ + ": " + error);
  }
  if (std::string error = lister_.conn.Open({}); !error.empty()) {
    throw std::runtime_error("state store " + where_ + ": " + error);
  }
  for (auto& writer : writers_) {
    writer->thread = std::thread([this, w = writer.get()] { WriterLoop(*w); });
  }
}

PostgresContactStore::~PostgresContactStore() {
  Close();
}

void PostgresContactStore::WatchOtherServers(RemoteChanges changes) {
  std::unique_ptr<PgChangeFeed> feed;
  {
    std::lock_guard lock(feed_mutex_);
    feed.swap(feed_);
  }
  feed.reset();  // the one before stops first: one feed at a time
  if (!changes) return;
  feed = std::make_unique<PgChangeFeed>(conninfo_, node_id_, std::move(changes));
  std::lock_guard lock(feed_mutex_);
  feed_ = std::move(feed);
}

void PostgresContactStore::Close() {
  WatchOtherServers({});
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  for (auto& writer : writers_) {
    writer->cv.notify_all();
    if (writer->thread.joinable()) writer->thread.join();
  }
}

PgResult PostgresContactStore::Query(Reader& reader, const char* statement,
                                     const std::vector<std::string>& params) {
  std::string error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!reader.conn.Usable()) {
      const bool prepared = &reader == &reader_;
      if (std::string failed =
              reader.conn.Open(prepared ? ReaderStatements() : std::vector<Statement>{});
          !failed.empty()) {
        throw std::runtime_error("cannot connect to the state store: " + failed);
      }
    }
    PgResult result = reader.conn.Exec(statement, params, error, &reader == &reader_);
    if (result) return result;
    // Lost between the check and the query (a restart): once more on a new one.
    if (reader.conn.Usable()) break;
  }
  throw std::runtime_error(error);
}

PgResult PostgresContactStore::QuerySql(Reader& reader, const std::string& sql,
                                        const std::vector<std::string>& params) {
  return Query(reader, sql.c_str(), params);
}

store::ReadError PostgresContactStore::ReadFailed(const char* what, std::string_view contact_id,
                                                  const std::exception& error) {
  read_failures_ += 1;
  log::Warn("store.read_failed",
            {{"read", what}, {"contact", std::string(contact_id)}, {"error", error.what()}});
  return store::ReadError{error.what()};
}

std::vector<core::Contact> PostgresContactStore::LoadContacts() {
  std::lock_guard lock(lister_.mutex);
  PgResult result = QuerySql(
      lister_, std::string("SELECT ") + kContactColumns + " FROM contacts ORDER BY contact_id", {});
  return ContactsFrom(result.get());
}

std::vector<core::Contact> PostgresContactStore::LoadLiveContacts() {
  std::lock_guard lock(lister_.mutex);
  PgResult result = QuerySql(lister_,
                             std::string("SELECT ") + kContactColumns +
                                 " FROM contacts WHERE state <> 'ENDED' AND owner = $1"
                                 " ORDER BY contact_id",
                             {node_id_});
  return ContactsFrom(result.get());
}

std::size_t PostgresContactStore::CountEndedContacts() {
  std::lock_guard lock(lister_.mutex);
  PgResult result = QuerySql(lister_, "SELECT count(*) FROM contacts WHERE state = 'ENDED'", {});
  return static_cast<std::size_t>(Int(result.get(), 0, 0));
}

store::ReadResult<std::vector<core::Contact>> PostgresContactStore::LoadEndedContacts(
    const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) {
  return ListContacts("ended contacts", "state = 'ENDED'", {}, agent_id, after, limit);
}

store::ReadResult<std::vector<core::Contact>> PostgresContactStore::LoadOthersLiveContacts(
    const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) {
  return ListContacts("other nodes' live contacts", "state <> 'ENDED' AND owner <> $1", {node_id_},
                      agent_id, after, limit);
}

store::ReadResult<std::vector<core::Contact>> PostgresContactStore::ListContacts(
    const char* what, const char* where, std::vector<std::string> params,
    const std::optional<std::string>& agent_id, std::string_view after, std::size_t limit) {
  try {
    params.emplace_back(after);
    std::string sql = std::string("SELECT ") + kContactColumns + " FROM contacts WHERE " + where +
                      " AND contact_id > $" + std::to_string(params.size());
    if (agent_id) {
      params.push_back(*agent_id);
      sql += " AND agent_id = $" + std::to_string(params.size());
    }
    sql += " ORDER BY contact_id";
    if (limit != 0) sql += " LIMIT " + std::to_string(limit);
    std::lock_guard lock(lister_.mutex);
    PgResult result = QuerySql(lister_, sql, params);
    return ContactsFrom(result.get());
  } catch (const std::exception& error) {
    return ReadFailed(what, "", error);
  }
}

store::ReadResult<std::optional<core::Contact>> PostgresContactStore::LoadContact(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(reader_.mutex);
    PgResult result = Query(reader_, "contact", {std::string(contact_id)});
    if (PQntuples(result.get()) == 0) return std::optional<core::Contact>();
    return std::optional<core::Contact>(ContactFromRow(result.get(), 0));
  } catch (const std::exception& error) {
    return ReadFailed("contact", contact_id, error);
  }
}

store::ReadResult<std::optional<store::RecordingSummary>> PostgresContactStore::LoadRecording(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(reader_.mutex);
    PgResult result = Query(reader_, "recording", {std::string(contact_id)});
    if (PQntuples(result.get()) == 0) return std::optional<store::RecordingSummary>();
    const PGresult* r = result.get();
    store::RecordingSummary s;
    s.contact_id = std::string(contact_id);
    s.path = Text(r, 0, 0);
    std::uint64_t* counters[] = {&s.packets, &s.lost,       &s.late,          &s.gated,
                                 &s.invalid, &s.duplicates, &s.frames_written};
    int column = 1;
    for (std::uint64_t* counter : counters) {
      *counter = static_cast<std::uint64_t>(Int(r, 0, column++));
    }
    return std::optional<store::RecordingSummary>(std::move(s));
  } catch (const std::exception& error) {
    return ReadFailed("recording", contact_id, error);
  }
}

store::ReadResult<std::vector<core::AuditEntry>> PostgresContactStore::LoadAuditTrail(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(reader_.mutex);
    PgResult result = Query(reader_, "trail", {std::string(contact_id)});
    std::vector<core::AuditEntry> trail;
    const int rows = PQntuples(result.get());
    trail.reserve(static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; ++row) {
      core::AuditEntry entry;
      entry.contact_id = std::string(contact_id);
      entry.at_ms = Int(result.get(), row, 0);
      entry.operation = Text(result.get(), row, 1);
      entry.principal = Text(result.get(), row, 2);
      entry.result = Text(result.get(), row, 3);
      entry.detail = Text(result.get(), row, 4);
      trail.push_back(std::move(entry));
    }
    return trail;
  } catch (const std::exception& error) {
    return ReadFailed("audit trail", contact_id, error);
  }
}

std::vector<store::UploadRow> PostgresContactStore::UploadsFrom(const PGresult* r) {
  std::vector<store::UploadRow> rows;
  rows.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int row = 0; row < PQntuples(r); ++row) rows.push_back(UploadFromRow(r, row, 0));
  return rows;
}

store::UploadRow PostgresContactStore::UploadFromRow(const PGresult* r, int row, int base) {
  return store::UploadFromColumns(
      base, [r, row](int i) { return Text(r, row, i); }, [r, row](int i) { return Int(r, row, i); },
      [r, row](int i) { return Bool(r, row, i); });
}

store::ReadResult<std::vector<store::UploadRow>> PostgresContactStore::LoadOpenUploads() {
  try {
    std::lock_guard lock(lister_.mutex);
    PgResult result = QuerySql(lister_,
                               std::string("SELECT ") + kUploadColumns +
                                   " FROM uploads WHERE state = 'pending' OR NOT local_done"
                                   " ORDER BY created_ms",
                               {});
    return UploadsFrom(result.get());
  } catch (const std::exception& error) {
    return ReadFailed("uploads", "", error);
  }
}

store::ReadResult<std::optional<store::UploadRow>> PostgresContactStore::LoadUpload(
    std::string_view contact_id) {
  try {
    std::lock_guard lock(lister_.mutex);
    PgResult result = QuerySql(
        lister_, std::string("SELECT ") + kUploadColumns + " FROM uploads WHERE contact_id = $1",
        {std::string(contact_id)});
    auto rows = UploadsFrom(result.get());
    if (rows.empty()) return std::optional<store::UploadRow>();
    return std::optional<store::UploadRow>(std::move(rows.front()));
  } catch (const std::exception& error) {
    return ReadFailed("upload", contact_id, error);
  }
}

store::ReadResult<std::vector<store::RecordingListing>> PostgresContactStore::ListRecordings(
    const store::RecordingFilter& filter, std::string_view after, std::size_t limit) {
  try {
    // Compared and ordered on contacts.contact_id: byte by byte (COLLATE "C").
    std::string sql =
        std::string(
            "SELECT r.path, r.packets, r.lost, r.late, r.gated, r.invalid, r.duplicates, "
            "r.frames_written, ") +
        Qualified("c", kContactColumns) + ", u.contact_id IS NOT NULL, " +
        Qualified("u", kUploadColumns) +
        " FROM recordings AS r JOIN contacts AS c ON c.contact_id = r.contact_id"
        " LEFT JOIN uploads AS u ON u.contact_id = r.contact_id"
        " WHERE r.path <> '' AND c.contact_id > $1";
    std::vector<std::string> params{std::string(after)};
    const std::pair<const std::optional<std::string>*, const char*> filters[] = {
        {&filter.agent_id, "c.agent_id"},
        {&filter.contact_id, "c.contact_id"},
        {&filter.initial_contact_id, "c.initial_contact_id"}};
    for (const auto& [value, column] : filters) {
      if (!*value) continue;
      params.push_back(**value);
      sql += std::string(" AND ") + column + " = $" + std::to_string(params.size());
    }
    sql += " ORDER BY c.contact_id";
    if (limit != 0) sql += " LIMIT " + std::to_string(limit);
    std::lock_guard lock(lister_.mutex);
    PgResult result = QuerySql(lister_, sql, params);
    const PGresult* r = result.get();
    std::vector<store::RecordingListing> rows;
    constexpr int kContactBase = 8;
    constexpr int kUploadFlag = kContactBase + 12;
    for (int row = 0; row < PQntuples(r); ++row) {
      store::RecordingListing listing;
      listing.contact = ContactFromRow(r, row, kContactBase);
      store::RecordingSummary& s = listing.recording;
      s.contact_id = listing.contact.contact_id;
      s.path = Text(r, row, 0);
      std::uint64_t* counters[] = {&s.packets, &s.lost,       &s.late,          &s.gated,
                                   &s.invalid, &s.duplicates, &s.frames_written};
      int column = 1;
      for (std::uint64_t* counter : counters) {
        *counter = static_cast<std::uint64_t>(Int(r, row, column++));
      }
      if (Bool(r, row, kUploadFlag)) listing.upload = UploadFromRow(r, row, kUploadFlag + 1);
      rows.push_back(std::move(listing));
    }
    return rows;
  } catch (const std::exception& error) {
    return ReadFailed("recordings", "", error);
  }
}

bool PostgresContactStore::Write(store::ContactWrite write, Done done) {
  // A contact's writes all go to one writer: they commit in order. The audit
  // line's contact decides (a trail's order is what must hold), else the row's.
  const std::string& id = write.audit       ? write.audit->contact_id
                          : write.contact   ? write.contact->contact_id
                          : write.upload    ? write.upload->contact_id
                          : write.recording ? write.recording->contact_id
                                            : node_id_;
  Writer& writer = *writers_[std::hash<std::string>{}(id) % writers_.size()];
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return false;
    writer.queue.push_back(Pending{std::move(write), std::move(done)});
  }
  writer.cv.notify_one();
  return true;
}

store::StoreStats PostgresContactStore::Stats() const {
  std::lock_guard lock(queue_mutex_);
  store::StoreStats stats = stats_;
  stats.failing = false;
  for (const auto& writer : writers_) {
    stats.queued += writer->queue.size();
    stats.failing = stats.failing || writer->failing;
  }
  stats.read_failures = read_failures_.load();
  return stats;
}

void PostgresContactStore::WriterLoop(Writer& writer) {
  std::deque<Pending>& queue = writer.queue;
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lock(queue_mutex_);
      const auto ready = [this, &queue] { return stopping_ || !queue.empty(); };
      while (!ready()) {
        if (!writer.failing) {
          writer.cv.wait(lock, ready);
          break;
        }
        // Failing and idle: connect again and ask for a round trip each second,
        // so /healthz recovers once the server is back, not at the next request.
        if (writer.cv.wait_for(lock, std::chrono::seconds(1), ready)) break;
        lock.unlock();
        std::string error;
        if (!writer.conn.Usable()) error = writer.conn.Open(WriterStatements());
        if (error.empty()) writer.conn.Exec("SELECT 1", {}, error);
        lock.lock();
        if (error.empty()) writer.failing = false;
      }
      if (queue.empty()) return;  // stopping, and everything queued is written
      if (queue.size() <= kMaxBatch) {
        batch.swap(queue);
      } else {
        for (std::size_t i = 0; i < kMaxBatch; ++i) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
    }
    const auto started = std::chrono::steady_clock::now();
    bool unapplied = false;
    std::string error = CommitBatch(writer.conn, batch, unapplied);
    // The server ended the connection before it ran any of it (a restart, an
    // administrator): nothing was applied, so once more on a new connection.
    if (!error.empty() && unapplied) error = CommitBatch(writer.conn, batch, unapplied);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    {
      std::lock_guard lock(queue_mutex_);
      stats_.commits += 1;
      stats_.syncs += 1;  // the commit's answer is its sync (synchronous_commit)
      stats_.writes += batch.size();
      stats_.commit_seconds_total += took.count();
      if (!error.empty()) {
        stats_.failures += batch.size();
        stats_.last_error = error;
      }
      writer.failing = !error.empty();
    }
    if (!error.empty()) {
      log::Warn("store.commit_failed", {{"writes", batch.size()}, {"error", error}});
    }
    Report(batch, error);
    // Then the other servers hear of what committed (see PgChangeFeed.hpp):
    // in a transaction of its own that waits for no log flush, because
    // PostgreSQL lets one notifying transaction commit at a time; inside the
    // writes' durable transactions that serialised every writer's commits
    // (947 against about 5,000 ops/s in bench/pg).
    if (error.empty()) NotifyBatch(writer.conn, batch);
  }
}

bool PostgresContactStore::Send(PgConnection& conn, const char* statement,
                                const std::vector<std::string>& params, std::string& error) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  if (PQsendQueryPrepared(conn.get(), statement, static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0) == 1) {
    return true;
  }
  error = conn.Error();
  return false;
}

int PostgresContactStore::SendWrite(PgConnection& conn, const store::ContactWrite& write,
                                    std::string& error) {
  int sent = 0;
  if (const auto& a = write.audit) {
    if (!Send(conn, "audit",
              {a->contact_id, std::to_string(a->at_ms), a->operation, a->principal, a->result,
               a->detail},
              error)) {
      return -1;
    }
    ++sent;
  }
  if (const auto& c = write.contact) {
    if (!Send(conn, "contact",
              {c->contact_id, c->instance_id, c->initial_contact_id, c->agent_id, c->codec,
               std::string(core::ToString(c->recording.state)),
               std::string(core::ToString(c->recording.final_state)),
               std::string(core::ToString(c->recording.track)), BoolText(c->recording.agent_joined),
               std::to_string(c->created_ms), std::to_string(c->updated_ms),
               std::to_string(c->version), node_id_},
              error)) {
      return -1;
    }
    ++sent;
  }
  if (const auto& r = write.recording) {
    if (!Send(conn, "recording",
              {r->contact_id, r->path, std::to_string(r->packets), std::to_string(r->lost),
               std::to_string(r->late), std::to_string(r->gated), std::to_string(r->invalid),
               std::to_string(r->duplicates), std::to_string(r->frames_written)},
              error)) {
      return -1;
    }
    ++sent;
  }
  if (const auto& u = write.upload) {
    if (!Send(conn, write.upload_only_if_new ? "upload_new" : "upload",
              {u->contact_id, u->wav_path, u->state, std::to_string(u->created_ms),
               std::to_string(u->attempts), std::to_string(u->next_attempt_ms), u->upload_id,
               u->bucket, u->key, u->etag, std::to_string(u->bytes), u->last_error,
               std::to_string(u->uploaded_ms), BoolText(u->local_done)},
              error)) {
      return -1;
    }
    ++sent;
  }
  return sent;
}

int PostgresContactStore::SendNotice(PgConnection& conn, const store::ContactWrite& write,
                                     std::string& error) {
  if (!write.audit && !write.contact) return 0;
  const std::string& id = write.audit ? write.audit->contact_id : write.contact->contact_id;
  const core::AuditEntry none;
  const core::AuditEntry& a = write.audit ? *write.audit : none;
  // The row as this write left it (a later write of the batch may have changed
  // it since); an audit line alone: the row as it is.
  std::string row;
  if (const auto& c = write.contact) {
    row = boost::json::serialize(boost::json::array{
        c->contact_id, c->instance_id, c->initial_contact_id, c->agent_id, c->codec,
        core::ToString(c->recording.state), core::ToString(c->recording.final_state),
        core::ToString(c->recording.track), c->recording.agent_joined, c->created_ms, c->updated_ms,
        c->version});
  }
  if (!Send(conn, "notify",
            {id, node_id_, std::to_string(notify_seq_.fetch_add(1)), BoolText(bool(write.audit)),
             std::to_string(a.at_ms), a.operation, a.principal, a.result, a.detail, row},
            error)) {
    return -1;
  }
  return 1;
}

void PostgresContactStore::NotifyBatch(PgConnection& writer, const std::deque<Pending>& batch) {
  // Recordings' and uploads' rows alone are not on /v1/events.
  if (std::none_of(batch.begin(), batch.end(), [](const Pending& p) {
        return p.write.audit.has_value() || p.write.contact.has_value();
      })) {
    return;
  }
  bool unapplied = false;
  std::string error = CommitBatch(writer, batch, unapplied, true);
  // A connection lost: once more on a new one (a listener that lost its own
  // connection too reads what it missed when it listens again).
  if (!error.empty()) error = CommitBatch(writer, batch, unapplied, true);
  if (!error.empty()) {
    notify_failures_ += 1;
    log::Warn("store.notify_failed", {{"writes", batch.size()}, {"error", error}});
  }
}

std::string PostgresContactStore::CommitBatch(PgConnection& writer,
                                              const std::deque<Pending>& batch, bool& unapplied,
                                              bool notices) {
  unapplied = false;
  // A connection that died while idle (the server restarted) is replaced before
  // anything is sent on it, so the first writes after a restart do not fail.
  if (!writer.Usable()) {
    if (std::string error = writer.Open(WriterStatements()); !error.empty()) {
      writer.Close();
      return "cannot connect to the state store: " + error;
    }
  }
  PGconn* conn = writer.get();
  if (PQenterPipelineMode(conn) != 1) return "cannot enter pipeline mode: " + writer.Error();
  std::string error;
  int sent = 0;
  bool broken = false;
  const auto send_plain = [&](const char* sql) {
    if (PQsendQueryParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) {
      ++sent;
      return true;
    }
    error = writer.Error();
    return false;
  };
  bool queued = send_plain("BEGIN");
  // Notices are sent once their writes are durable: nothing of theirs to keep.
  if (queued && notices) queued = send_plain("SET LOCAL synchronous_commit = off");
  for (const Pending& pending : batch) {
    if (!queued) break;
    const int n = notices ? SendNotice(writer, pending.write, error)
                          : SendWrite(writer, pending.write, error);
    if (n < 0) queued = false;
    sent += std::max(n, 0);
  }
  if (queued) queued = send_plain("COMMIT");
  if (PQpipelineSync(conn) != 1) {
    broken = true;
    if (error.empty()) error = writer.Error();
  }
  // One result (and its terminating null) per statement sent, then the sync.
  bool committed = false;
  for (int i = 0; i < sent && !broken; ++i) {
    PgResult result(PQgetResult(conn));
    if (!result) {
      broken = true;
      break;
    }
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED) {
      if (error.empty()) error = ResultError(result.get(), conn);
      // BEGIN's answer is the server's "terminating connection" (class 57P,
      // operator intervention): it ended before it read any of this batch (the
      // answers of what it ran would have come first).
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      if (i == 0 && state && std::string_view(state).substr(0, 3) == "57P") unapplied = true;
      if (PQstatus(conn) != CONNECTION_OK) {
        broken = true;
        break;
      }
    } else if (i == sent - 1 && queued) {
      committed = true;  // the COMMIT's own answer
    }
    PgResult end(PQgetResult(conn));
    if (end) {
      broken = true;  // not the protocol we expect: start again on a new connection
      if (error.empty()) error = "unexpected result from the server";
    }
  }
  if (!broken) {
    PgResult sync(PQgetResult(conn));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) broken = true;
  }
  if (!broken && PQexitPipelineMode(conn) != 1) broken = true;
  if (broken || PQstatus(conn) != CONNECTION_OK) {
    if (error.empty()) error = writer.Error();
    writer.Close();  // the next batch (or the probe) connects again
    return "state store connection lost: " + error;
  }
  if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
    PgResult rollback(PQexec(conn, "ROLLBACK"));
  }
  if (!committed && error.empty()) error = "the transaction did not commit";
  return error;
}

void PostgresContactStore::Report(std::deque<Pending>& batch, const std::string& error) {
  for (Pending& pending : batch) {
    if (!pending.done) continue;
    if (dispatch_) {
      dispatch_([done = std::move(pending.done), error] { done(error.empty(), error); });
    } else {
      pending.done(error.empty(), error);
    }
  }
}

}  // namespace callrec::pgstore
