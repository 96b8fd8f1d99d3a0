#include "pgstore/PgConnection.hpp"

namespace callrec::pgstore {
namespace {

std::string Trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string ResultError(const PGresult* result, PGconn* conn) {
  std::string message = result ? Trimmed(PQresultErrorMessage(result)) : "";
  if (message.empty()) message = Trimmed(PQerrorMessage(conn));
  if (message.empty()) message = "no answer from the server";
  return message;
}

PgConnection::PgConnection(std::string conninfo, std::string application_name)
    : conninfo_(std::move(conninfo)), application_name_(std::move(application_name)) {}

PgConnection::~PgConnection() {
  Close();
}

void PgConnection::Close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  ended_by_server_ = false;
}

void PgConnection::OnNotice(void* self, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity &&
      (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
    static_cast<PgConnection*>(self)->ended_by_server_ = true;
  }
  // Other notices (NOTICE, WARNING) are not the store's business: not printed.
}

std::string PgConnection::Open(const std::vector<Statement>& statements) {
  Close();
  // Defaults first: the conninfo (expanded from "dbname") overrides them. A server
  // that does not answer fails the connect in 5 s rather than never; keepalives
  // notice a peer that vanished without closing the connection.
  const char* keys[] = {"connect_timeout",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "application_name",
                        "dbname",
                        nullptr};
  const char* values[] = {"5",    "10", "5", "3", application_name_.c_str(), conninfo_.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) return "out of memory";
  if (PQstatus(conn_) != CONNECTION_OK) return Error();
  PQsetNoticeReceiver(conn_, &PgConnection::OnNotice, this);
  // A commit answers only once it is durable, whatever the server's default.
  std::string error;
  Exec("SET synchronous_commit = on", {}, error);
  if (!error.empty()) return error;
  for (const Statement& statement : statements) {
    PgResult prepared(PQprepare(conn_, statement.name.c_str(), statement.sql.c_str(), 0, nullptr));
    if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return "cannot prepare " + statement.name + ": " + ResultError(prepared.get(), conn_);
    }
  }
  return "";
}

bool PgConnection::Usable() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return false;
  // Non-blocking: reads only what has arrived. EOF or an error marks it bad.
  if (PQconsumeInput(conn_) == 0) return false;
  while (PGnotify* notice = PQnotifies(conn_)) PQfreemem(notice);
  PQisBusy(conn_);  // parses what arrived: an idle FATAL reaches OnNotice
  return PQstatus(conn_) == CONNECTION_OK && !ended_by_server_;
}

std::string PgConnection::Describe() const {
  if (!conn_) return "PostgreSQL";
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  const char* user = PQuser(conn_);
  return std::string("PostgreSQL database ") + (db ? db : "?") + " on " + (host ? host : "?") +
         ":" + (port ? port : "?") + " as " + (user ? user : "?");
}

std::string PgConnection::Error() const {
  return conn_ ? Trimmed(PQerrorMessage(conn_)) : "not connected";
}

PgResult PgConnection::Exec(std::string_view sql, const std::vector<std::string>& params,
                            std::string& error, bool prepared) {
  error.clear();
  if (!conn_) {
    error = "not connected";
    return nullptr;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  const std::string text(sql);
  PgResult result(prepared ? PQexecPrepared(conn_, text.c_str(), static_cast<int>(values.size()),
                                            values.data(), nullptr, nullptr, 0)
                           : PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()),
                                          nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    error = ResultError(result.get(), conn_);
    return nullptr;
  }
  return result;
}

}  // namespace callrec::pgstore
