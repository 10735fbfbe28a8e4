// Test support: a fresh database per test on either backend. SQLite lives in a temp file;
// PostgreSQL is the server tests/run-all.sh starts (FRAMEHOUSE_TEST_POSTGRES_URL), with a
// schema of the test's own so that tests run in parallel. Without that server the PostgreSQL
// case is skipped, unless FRAMEHOUSE_REQUIRE_POSTGRES=1 (CI), where it fails.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/database.hpp"
#include "support/process.hpp"

namespace framehouse::testing {

class TestDatabase {
 public:
  // Sets up the database, or marks the test skipped/failed; check available() after.
  explicit TestDatabase(db::Backend backend);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool available() const { return available_; }
  bool skipped() const { return skipped_; }
  const db::DatabaseOptions& options() const { return options_; }
  // A connection to it with the server's migrations applied.
  std::unique_ptr<db::Database> open_migrated() const;

 private:
  TempDir dir_;
  db::DatabaseOptions options_;
  std::string base_url_;
  std::string schema_;
  bool available_ = false;
  bool skipped_ = false;
};

std::string backend_name(const ::testing::TestParamInfo<db::Backend>& info);

}  // namespace framehouse::testing

// In a TEST_P over db::Backend: sets up `database_under_test` or returns (skipped/failed).
#define FRAMEHOUSE_SETUP_DATABASE(database_under_test)                                       \
  database_under_test = std::make_unique<::framehouse::testing::TestDatabase>(GetParam());        \
  if (database_under_test->skipped()) GTEST_SKIP() << "no PostgreSQL server (run tests/run-all.sh)"; \
  if (!database_under_test->available()) return
