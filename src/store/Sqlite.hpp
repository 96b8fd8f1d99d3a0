#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <string_view>

// The few SQLite calls the store makes, with start-up failures as exceptions
// (plain messages naming the database) and nothing else added.
namespace callrec::store::sqlite {

[[noreturn]] void Fail(sqlite3* db, const std::string& what);
void Exec(sqlite3* db, const char* sql, const std::string& what);
sqlite3* Open(const std::filesystem::path& path, int flags);
// Prepared once and kept (SQLITE_PREPARE_PERSISTENT); the caller finalizes.
sqlite3_stmt* Prepare(sqlite3* db, const char* sql);
// Runs a statement that returns no rows and resets it; "" or SQLite's message.
std::string StepDone(sqlite3_stmt* statement);
void BindText(sqlite3_stmt* statement, int index, std::string_view text);
std::string ColumnText(sqlite3_stmt* statement, int index);

// Resets a kept statement however the scope is left.
struct ResetOnExit {
  sqlite3_stmt* statement;
  ~ResetOnExit() { sqlite3_reset(statement); }
};

}  // namespace callrec::store::sqlite
