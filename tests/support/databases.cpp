#include "support/databases.hpp"

#include <unistd.h>

#include <cstdlib>
#include <random>

#include <soci/soci.h>

namespace framehouse::testing {

TestDatabase::TestDatabase(db::Backend backend) {
  // One pooled connection: code that asks for a second session while holding one deadlocks
  // in the tests. A test that needs several connections asks for them.
  options_.pool_size = 1;
  if (backend == db::Backend::sqlite) {
    options_.url = "sqlite:" + (dir_.path() / "test.db").string();
    available_ = true;
    return;
  }
  const char* url = std::getenv("FRAMEHOUSE_TEST_POSTGRES_URL");
  if (url == nullptr) {
    const char* required = std::getenv("FRAMEHOUSE_REQUIRE_POSTGRES");
    if (required != nullptr && std::string(required) == "1") {
      ADD_FAILURE() << "FRAMEHOUSE_TEST_POSTGRES_URL is not set but PostgreSQL is required";
    } else {
      skipped_ = true;
    }
    return;
  }
  std::random_device random;
  schema_ = "test_" + std::to_string(::getpid()) + "_" + std::to_string(random() % 1000000);
  base_url_ = url;
  db::Database admin(db::DatabaseOptions{base_url_, 1});
  soci::session session(admin.pool());
  session << "CREATE SCHEMA " + schema_;
  options_.url = base_url_ + "?options=-csearch_path%3D" + schema_;
  available_ = true;
}

TestDatabase::~TestDatabase() {
  if (schema_.empty()) return;
  try {
    db::Database admin(db::DatabaseOptions{base_url_, 1});
    soci::session session(admin.pool());
    session << "DROP SCHEMA " + schema_ + " CASCADE";
  } catch (const std::exception&) {
    // The server is going away with the test run anyway.
  }
}

std::unique_ptr<db::Database> TestDatabase::open_migrated() const {
  auto database = std::make_unique<db::Database>(options_);
  database->migrate(db::server_migrations());
  return database;
}

std::string backend_name(const ::testing::TestParamInfo<db::Backend>& info) {
  return info.param == db::Backend::sqlite ? "sqlite" : "postgresql";
}

}  // namespace framehouse::testing
