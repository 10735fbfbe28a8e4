// The SQL database: SQLite (embedded default) or PostgreSQL, through SOCI, with a small
// connection pool and the versioned migrations of the whole server.
//
// Only bound parameters reach SQL (soci::use). Where SQLite and PostgreSQL differ, the
// difference is a named function of Dialect, never an `if` inside a query.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <soci/connection-pool.h>
#include <soci/row.h>
#include <soci/session.h>

#include "db/change_feed.hpp"
#include "workers/blocking.hpp"

namespace framehouse::db {

enum class Backend { sqlite, postgresql };

class Dialect {
 public:
  explicit Dialect(Backend backend) : backend_(backend) {}
  Backend backend() const { return backend_; }
  const char* name() const { return backend_ == Backend::sqlite ? "sqlite" : "postgresql"; }
  // Column type of an auto-generated 64-bit primary key.
  std::string auto_id_column() const;
  std::string blob_type() const;
  // Statement that starts a transaction which takes the write lock at once, so that two
  // processes migrating at the same time run one after the other.
  std::string begin_exclusive() const;
  // Statement that serialises migrations across processes, run first in that transaction.
  std::string lock_migrations() const;
  // Appended to the SELECT that picks a queued job, so that concurrent workers (several
  // processes on PostgreSQL) never pick the same row.
  std::string skip_locked() const;
  // Appended to a SELECT in a write transaction that reads a row it then changes from what it
  // read: PostgreSQL locks the row until commit; SQLite's transaction already holds the lock.
  std::string for_update() const;
  // Run first in a begin_exclusive() transaction: one writer at a time appends to the audit
  // chain, across processes.
  std::string lock_audit() const;
  // The operator that matches a pattern ignoring ASCII case: SQLite's LIKE already does,
  // PostgreSQL's ILIKE. With spaces around it.
  std::string like_ignoring_case() const;

 private:
  Backend backend_;
};

struct DatabaseOptions {
  std::string url;  // "sqlite:path/to/file.db" or "postgresql://user@host:port/name"
  std::size_t pool_size = 4;
  std::chrono::milliseconds busy_timeout{5000};
};

class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Migration {
  int version;
  std::string name;
  std::vector<std::string> (*statements)(const Dialect&);
};

inline constexpr std::string_view kSqliteUrlPrefix = "sqlite:";
// The database file a "sqlite:PATH" URL names; nullopt for another URL or ":memory:".
std::optional<std::filesystem::path> sqlite_file(const std::string& url);

// The server's migrations, oldest first (migrations.cpp).
const std::vector<Migration>& server_migrations();

class Database {
 public:
  // Connects every pooled session. Throws DatabaseError with a message that never contains
  // the password from the URL.
  explicit Database(const DatabaseOptions& options);

  const Dialect& dialect() const { return dialect_; }
  // Taking a session may wait for a free connection: never inside a workers::MemoryOnly scope.
  soci::connection_pool& pool() {
    workers::about_to_block();
    return *pool_;
  }
  // Notices of committed changes, in this process and (PostgreSQL) from every other one.
  ChangeFeed& changes() { return changes_; }

  // Applies every migration newer than the recorded schema version, all in one transaction.
  // Returns how many were applied. Throws DatabaseError if the database is newer than us.
  int migrate(const std::vector<Migration>& migrations);
  int schema_version();
  // True when a trivial query succeeds.
  bool ping();
  // After an erasure: no copy of deleted rows stays in the database's own files where the
  // engine lets us ensure it. SQLite zeroes freed content (secure_delete) and this moves the
  // write-ahead log, which still holds old page images, into the database and truncates it —
  // which cannot finish while any connection (a backup, a long query) reads an older snapshot.
  // PostgreSQL keeps dead tuples until vacuum reuses their space (see docs/privacy.md); its
  // flush is always complete as far as this server can tell.
  struct LogFlush {
    bool complete = true;  // nothing deleted is still readable in the log
    long long log_frames = 0;           // frames left in the log
    long long checkpointed_frames = 0;  // of those, already copied into the database
  };
  LogFlush flush_deleted_rows();

 private:
  Dialect dialect_;
  std::chrono::milliseconds busy_timeout_;
  std::string connect_;
  ChangeFeed changes_;
  std::unique_ptr<soci::connection_pool> pool_;
};

// A transaction that writes. On SQLite it takes the write lock as it begins (BEGIN IMMEDIATE):
// a deferred transaction that reads and then writes fails at once with SQLITE_BUSY, without
// waiting out the busy timeout, when another connection committed in between. Rolls back
// unless committed.
class WriteTransaction {
 public:
  WriteTransaction(soci::session& session, Database& database);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  soci::session& session() { return session_; }
  // Subscribers of `topic` are woken once this transaction commits, never before (they would
  // look and find nothing) and not at all if it rolls back: on PostgreSQL by NOTIFY, which the
  // server delivers at commit to every listening process, and in this process directly.
  void notify(const std::string& topic);
  void commit();
  void rollback();

 private:
  soci::session& session_;
  Database& database_;
  std::vector<std::string> topics_;
  bool open_ = true;
};

// DELETE FROM <table> WHERE <column> = value; returns how many rows went. Table and column
// are names from the code, never input.
std::uint64_t delete_rows(soci::session& session, const std::string& table, const std::string& column,
                          const std::string& value);

// A LIKE pattern (ESCAPE '\\') that matches `text` anywhere, literally, in lower case.
std::string containment_pattern(const std::string& text);

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db", for messages.
std::string redact_url(const std::string& url);

// A whole number from a dynamically read row (by column name or index): SQLite reports
// INTEGER columns as int and BIGINT or COUNT(*) as long long, PostgreSQL may differ.
template <class Column>
long long row_integer(const soci::row& row, const Column& column) {
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer: return row.get<int>(column);
    case soci::dt_long_long: return row.get<long long>(column);
    case soci::dt_unsigned_long_long: return static_cast<long long>(row.get<unsigned long long>(column));
    case soci::dt_double: return static_cast<long long>(row.get<double>(column));
    default: return std::stoll(row.get<std::string>(column));
  }
}

// A random secret the server generates once and keeps in server_secrets under `name` (keys for
// keyed hashes and link tokens). Several processes starting together agree on one.
std::string server_secret(Database& database, const std::string& name);

}  // namespace framehouse::db
