// The database layer against both backends (see support/databases.hpp).
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "db/database.hpp"
#include "support/databases.hpp"

namespace framehouse::db {
namespace {

std::vector<std::string> create_notes(const Dialect& dialect) {
  return {"CREATE TABLE notes (id " + dialect.auto_id_column() + ", body TEXT NOT NULL)"};
}
std::vector<std::string> add_blob(const Dialect& dialect) {
  return {"ALTER TABLE notes ADD COLUMN payload " + dialect.blob_type()};
}
std::vector<std::string> broken(const Dialect&) {
  return {"CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"};
}

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    options_ = database_->options();
  }

  std::unique_ptr<testing::TestDatabase> database_;
  DatabaseOptions options_;
};

TEST_P(DatabaseTest, ServerMigrationsApplyOnceAndRecordTheVersion) {
  Database database(options_);
  EXPECT_EQ(database.schema_version(), 0);
  const int applied = database.migrate(server_migrations());
  EXPECT_EQ(applied, static_cast<int>(server_migrations().size()));
  EXPECT_EQ(database.schema_version(), server_migrations().back().version);
  EXPECT_EQ(database.migrate(server_migrations()), 0);
  EXPECT_TRUE(database.ping());
}

TEST_P(DatabaseTest, LaterMigrationsApplyOnTopAndDialectTypesWork) {
  Database database(options_);
  const std::vector<Migration> first = {{1, "notes", create_notes}};
  const std::vector<Migration> both = {{1, "notes", create_notes}, {2, "blob", add_blob}};
  EXPECT_EQ(database.migrate(first), 1);
  EXPECT_EQ(database.migrate(both), 1);
  soci::session session(database.pool());
  const std::string tricky = "Robert'); DROP TABLE notes;--";
  session << "INSERT INTO notes (body) VALUES (:b)", soci::use(tricky);
  std::string back;
  long long id = 0;
  session << "SELECT id, body FROM notes", soci::into(id), soci::into(back);
  EXPECT_EQ(back, tricky);
  EXPECT_EQ(id, 1);
}

TEST_P(DatabaseTest, FailedMigrationLeavesNothingBehind) {
  Database database(options_);
  const std::vector<Migration> migrations = {{1, "notes", create_notes}, {2, "broken", broken}};
  EXPECT_THROW(database.migrate(migrations), DatabaseError);
  EXPECT_EQ(database.schema_version(), 0);
  soci::session session(database.pool());
  // Neither migration 1's table nor migration 2's first statement survived.
  EXPECT_THROW(session << "SELECT COUNT(*) FROM notes", soci::soci_error);
  EXPECT_THROW(session << "SELECT COUNT(*) FROM half_done", soci::soci_error);
}

TEST_P(DatabaseTest, RefusesADatabaseNewerThanTheServer) {
  Database database(options_);
  database.migrate(server_migrations());
  {
    soci::session session(database.pool());
    session << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)";
  }
  try {
    database.migrate(server_migrations());
    FAIL() << "expected DatabaseError";
  } catch (const DatabaseError& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 999 is newer"), std::string::npos) << error.what();
  }
}

TEST_P(DatabaseTest, ConcurrentMigrationsApplyEachStepOnce) {
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      Database database(options_);
      total += database.migrate(server_migrations());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(total.load(), static_cast<int>(server_migrations().size()));
}

TEST_P(DatabaseTest, TransactionsThatReadThenWriteSucceedAlongsideOtherWriters) {
  Database database(DatabaseOptions{options_.url, 4});
  database.migrate({{1, "notes", create_notes}});
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < kEach; ++n) {
        try {
          soci::session session(database.pool());
          WriteTransaction transaction(session, database);
          int seen = 0;
          session << "SELECT COUNT(*) FROM notes", soci::into(seen);
          const std::string body = "after " + std::to_string(seen);
          session << "INSERT INTO notes (body) VALUES (:b)", soci::use(body);
          transaction.commit();
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  soci::session session(database.pool());
  int rows = 0;
  session << "SELECT COUNT(*) FROM notes", soci::into(rows);
  EXPECT_EQ(rows, kThreads * kEach);
}

TEST_P(DatabaseTest, AWriteTransactionNotCommittedLeavesNothing) {
  Database database(options_);
  database.migrate({{1, "notes", create_notes}});
  soci::session session(database.pool());
  {
    WriteTransaction transaction(session, database);
    session << "INSERT INTO notes (body) VALUES ('dropped')";
  }
  int rows = -1;
  session << "SELECT COUNT(*) FROM notes", soci::into(rows);
  EXPECT_EQ(rows, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         testing::backend_name);

TEST(DatabaseUrl, RedactsPasswords) {
  EXPECT_EQ(redact_url("postgresql://app:s3cret@db:5432/fh"), "postgresql://app:***@db:5432/fh");
  EXPECT_EQ(redact_url("postgresql://app@db/fh"), "postgresql://app@db/fh");
  EXPECT_EQ(redact_url("sqlite:var/x.db"), "sqlite:var/x.db");
}

TEST(DatabaseUrl, UnknownSchemeAndUnreachableServerAreClearErrors) {
  EXPECT_THROW(Database(DatabaseOptions{"mysql://x"}), DatabaseError);
  try {
    Database database(DatabaseOptions{"postgresql://app:s3cret@127.0.0.1:1/none", 1});
    FAIL() << "expected DatabaseError";
  } catch (const DatabaseError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("cannot open database postgresql://app:***@127.0.0.1:1/none"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos);
  }
}

}  // namespace
}  // namespace framehouse::db
