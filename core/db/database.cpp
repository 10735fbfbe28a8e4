#include "db/database.hpp"

#include <cctype>
#include <filesystem>
#include <mutex>
#include <thread>

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "crypto/crypto.hpp"

namespace framehouse::db {
namespace {

Backend backend_of(const std::string& url) {
  if (url.rfind(kSqliteUrlPrefix, 0) == 0) return Backend::sqlite;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return Backend::postgresql;
  throw DatabaseError(fmt::format("database url {} must start with sqlite: or postgresql://", redact_url(url)));
}

void configure_session(soci::session& session, Backend backend, std::chrono::milliseconds busy_timeout) {
  if (backend == Backend::sqlite) {
    // The timeout first: switching to WAL takes a lock another connection may hold.
    session << fmt::format("PRAGMA busy_timeout={}", busy_timeout.count());
    // WAL is a property of the file: set once. Setting it needs a moment without other
    // connections, which the busy timeout does not wait for, so it is retried briefly.
    std::string mode;
    session << "PRAGMA journal_mode", soci::into(mode);
    for (int attempt = 0; mode != "wal"; ++attempt) {
      try {
        session << "PRAGMA journal_mode=WAL", soci::into(mode);
      } catch (const soci::soci_error&) {
        if (attempt * 20 >= busy_timeout.count()) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    session << "PRAGMA foreign_keys=ON";
    session << "PRAGMA synchronous=NORMAL";
    // Deleted rows are overwritten, not just unlinked: erasure must not leave them in free pages.
    session << "PRAGMA secure_delete=ON";
  } else {
    // Keeps libpq NOTICEs (e.g. "relation already exists, skipping") off stderr.
    session << "SET client_min_messages TO WARNING";
  }
}

std::string quote_libpq(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

// libpq accepts URIs itself, but SOCI's connect-string handling mangles them, so the URI is
// turned into libpq's keyword=value form here. Query parameters (sslmode, options, ...) pass
// through as keywords.
std::string postgres_connect_string(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw DatabaseError(fmt::format("database url {} is not a valid URI", redact_url(url)));
  std::string out;
  const auto add = [&out](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out += (out.empty() ? "" : " ") + std::string(key) + "=" + quote_libpq(value);
  };
  add("host", parsed->host_address());
  add("port", parsed->port());
  add("user", parsed->user());
  add("password", parsed->password());
  std::string database = parsed->path();
  if (!database.empty() && database.front() == '/') database.erase(0, 1);
  add("dbname", database);
  for (const auto& param : parsed->params()) add(param.key, param.value);
  return out;
}

// SQLite keeps allocation statistics under one process-wide mutex that every allocation of
// every thread then contends for: turned off, authenticated requests run twice as fast on two
// cores. Only possible before SQLite initialises, so the first Database does it.
void turn_off_sqlite_memory_statistics() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

std::string Dialect::auto_id_column() const {
  return backend_ == Backend::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                     : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
}

std::string Dialect::blob_type() const { return backend_ == Backend::sqlite ? "BLOB" : "BYTEA"; }

std::string Dialect::begin_exclusive() const {
  return backend_ == Backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN";
}

WriteTransaction::WriteTransaction(soci::session& session, Database& database) : session_(session), database_(database) {
  session_ << database_.dialect().begin_exclusive();
}

void WriteTransaction::notify(const std::string& topic) {
  for (const auto& known : topics_) {
    if (known == topic) return;
  }
  if (database_.dialect().backend() == Backend::postgresql) {
    const std::string channel = ChangeFeed::kChannel;  // bound by reference: must outlive the statement
    session_ << "SELECT pg_notify(:channel, :topic)", soci::use(channel), soci::use(topic);
  }
  topics_.push_back(topic);
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    rollback();
  } catch (...) {
    // The connection is broken; closing it ends the transaction anyway.
  }
}

void WriteTransaction::commit() {
  open_ = false;
  session_ << "COMMIT";
  for (const auto& topic : topics_) database_.changes().publish(topic);
}

void WriteTransaction::rollback() {
  open_ = false;
  session_ << "ROLLBACK";
}

std::string Dialect::lock_migrations() const {
  // A transaction-scoped advisory lock: unlike a table lock it also covers creating the
  // migrations table itself. The key is arbitrary but fixed ("fh" in ASCII).
  return backend_ == Backend::sqlite ? "" : "SELECT pg_advisory_xact_lock(26216)";
}

std::string Dialect::lock_audit() const {
  return backend_ == Backend::sqlite ? "" : "SELECT pg_advisory_xact_lock(26217)";
}

std::string Dialect::like_ignoring_case() const { return backend_ == Backend::sqlite ? " LIKE " : " ILIKE "; }

std::string containment_pattern(const std::string& text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return pattern + "%";
}

std::string Dialect::for_update() const { return backend_ == Backend::postgresql ? " FOR UPDATE" : ""; }

std::string Dialect::skip_locked() const {
  // SQLite has one writer at a time: the claiming UPDATE is already exclusive.
  return backend_ == Backend::sqlite ? "" : " FOR UPDATE SKIP LOCKED";
}

std::uint64_t delete_rows(soci::session& session, const std::string& table, const std::string& column,
                          const std::string& value) {
  soci::statement statement = (session.prepare << "DELETE FROM " + table + " WHERE " + column + " = :v", soci::use(value));
  statement.execute(true);
  return static_cast<std::uint64_t>(statement.get_affected_rows());
}

std::string redact_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::optional<std::filesystem::path> sqlite_file(const std::string& url) {
  if (url.rfind(kSqliteUrlPrefix, 0) != 0) return std::nullopt;
  const std::string path = url.substr(kSqliteUrlPrefix.size());
  if (path == ":memory:") return std::nullopt;
  return std::filesystem::path(path);
}

Database::Database(const DatabaseOptions& options)
    : dialect_(backend_of(options.url)),
      busy_timeout_(options.busy_timeout),
      connect_(dialect_.backend() == Backend::postgresql ? postgres_connect_string(options.url) : ""),
      changes_(connect_) {
  const Backend backend = dialect_.backend();
  std::string connect = connect_;
  if (backend == Backend::sqlite) {
    turn_off_sqlite_memory_statistics();
    const std::filesystem::path file = options.url.substr(kSqliteUrlPrefix.size());
    if (file.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
    }
    // A connect string without '=' is taken whole as the file name (spaces and all); the
    // busy timeout is set with a PRAGMA below.
    if (file.string().find('=') != std::string::npos) {
      throw DatabaseError(fmt::format("SQLite path {} must not contain '='", file.string()));
    }
    connect = file.string();
  }
  pool_ = std::make_unique<soci::connection_pool>(options.pool_size);
  for (std::size_t i = 0; i < options.pool_size; ++i) {
    try {
      soci::session& session = pool_->at(i);
      if (backend == Backend::sqlite) {
        session.open(soci::sqlite3, connect);
      } else {
        session.open(soci::postgresql, connect);
      }
      configure_session(session, backend, options.busy_timeout);
    } catch (const std::exception& error) {
      std::string reason = error.what();
      // libpq's messages can echo the connection string; never let a password through.
      if (backend == Backend::postgresql) {
        const auto password_at = reason.find("password=");
        if (password_at != std::string::npos) reason = reason.substr(0, password_at) + "(redacted)";
      }
      throw DatabaseError(fmt::format("cannot open database {}: {}", redact_url(options.url), reason));
    }
  }
}

namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

int recorded_version(soci::session& session) {
  int version = 0;
  soci::indicator indicator = soci::i_ok;
  session << "SELECT MAX(version) FROM schema_migrations", soci::into(version, indicator);
  return indicator == soci::i_ok ? version : 0;
}

}  // namespace

int Database::schema_version() {
  soci::session session(*pool_);
  try {
    return recorded_version(session);
  } catch (const soci::soci_error&) {
    return 0;  // no migrations table yet
  }
}

int Database::migrate(const std::vector<Migration>& migrations) {
  soci::session session(*pool_);
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  WriteTransaction transaction(session, *this);
  try {
    if (const auto lock = dialect_.lock_migrations(); !lock.empty()) session << lock;
    session << kCreateMigrationsTable;
    const int current = recorded_version(session);
    if (current > newest_known) {
      throw DatabaseError(fmt::format(
          "database schema version {} is newer than this server knows ({}); upgrade framehouse",
          current, newest_known));
    }
    int applied = 0;
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    for (const auto& migration : migrations) {
      if (migration.version <= current) continue;
      for (const auto& statement : migration.statements(dialect_)) session << statement;
      session << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
          soci::use(migration.version), soci::use(migration.name), soci::use(now);
      ++applied;
    }
    transaction.commit();
    return applied;
  } catch (const DatabaseError&) {
    throw;
  } catch (const std::exception& error) {
    throw DatabaseError(fmt::format("migration failed, nothing was applied: {}", error.what()));
  }
}

Database::LogFlush Database::flush_deleted_rows() {
  LogFlush flush;
  if (dialect_.backend() != Backend::sqlite) return flush;
  soci::session session(*pool_);
  // A checkpoint blocked by a reader waits out the busy timeout; it must not hold a pooled
  // connection (perhaps the only one) for that long. The caller retries instead.
  session << "PRAGMA busy_timeout=100";
  int busy = 0;
  try {
    // The status row: busy (a reader or writer kept it from finishing within the busy timeout),
    // frames in the log, frames copied back. A finished TRUNCATE answers 0, 0, 0; a database
    // that is not in WAL mode answers -1 for both counts.
    session << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(flush.log_frames),
        soci::into(flush.checkpointed_frames);
  } catch (...) {
    session << fmt::format("PRAGMA busy_timeout={}", busy_timeout_.count());
    throw;
  }
  session << fmt::format("PRAGMA busy_timeout={}", busy_timeout_.count());
  flush.complete = busy == 0 && flush.log_frames <= 0;
  return flush;
}

std::string server_secret(Database& database, const std::string& name) {
  soci::session sql(database.pool());
  std::string secret;
  sql << "SELECT secret FROM server_secrets WHERE name = :n", soci::use(name), soci::into(secret);
  if (sql.got_data()) return secret;
  const std::string fresh = crypto::random_id("", 32);
  // Another process may have won the race: keep whichever was stored first.
  sql << "INSERT INTO server_secrets (name, secret) VALUES (:n, :s) ON CONFLICT (name) DO NOTHING", soci::use(name), soci::use(fresh);
  sql << "SELECT secret FROM server_secrets WHERE name = :n", soci::use(name), soci::into(secret);
  return secret;
}

bool Database::ping() {
  try {
    soci::session session(*pool_);
    int one = 0;
    session << "SELECT 1", soci::into(one);
    return one == 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace framehouse::db
