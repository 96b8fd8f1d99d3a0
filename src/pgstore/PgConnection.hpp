#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// One libpq connection that knows how to open itself again: the statements it
// prepares on every (re)connect, and a description of the server without the
// password for messages.
namespace callrec::pgstore {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// A statement prepared on every connection: its name and SQL ($1, $2, ...).
struct Statement {
  std::string name;
  std::string sql;
};

class PgConnection {
 public:
  // `conninfo`: a postgresql:// URI or key=value string, as libpq takes it.
  // Nothing is opened yet.
  PgConnection(std::string conninfo, std::string application_name);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects (again) and prepares `statements`: "" or why not.
  std::string Open(const std::vector<Statement>& statements);
  // Drops the connection (the next Open makes a new one).
  void Close();
  // Connected, as far as libpq knows without a round trip; reads what the server
  // may have sent meanwhile (a restarting server's "terminating connection"), so
  // a connection that died while idle is seen before a query is sent on it.
  bool Usable();
  PGconn* get() const { return conn_; }
  // The server said FATAL while no query ran (it is ending the connection).
  bool EndedByServer() const { return ended_by_server_; }
  // "database D on HOST:PORT as USER" (never the password).
  std::string Describe() const;
  std::string Error() const;

  // Runs `sql` (or the prepared statement `name` when `prepared`) with text
  // parameters; the result, or an error message in `error`.
  PgResult Exec(std::string_view sql, const std::vector<std::string>& params, std::string& error,
                bool prepared = false);

 private:
  // libpq hands a message that comes while no query runs (a server ending the
  // connection says FATAL first) to the notice receiver, not to a result.
  static void OnNotice(void* self, const PGresult* notice);

  std::string conninfo_;
  std::string application_name_;
  PGconn* conn_ = nullptr;
  bool ended_by_server_ = false;  // a FATAL came while idle: the connection is going
};

// A libpq result's first error line, without the trailing newline.
std::string ResultError(const PGresult* result, PGconn* conn);

}  // namespace callrec::pgstore
