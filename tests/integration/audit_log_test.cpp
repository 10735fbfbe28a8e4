// The audit log's hash chain on SQLite and PostgreSQL: concurrent writers make one chain, and
// an edited, removed or reordered entry is found and named.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <thread>

#include "audit/audit_log.hpp"
#include "support/databases.hpp"

namespace framehouse::audit {
namespace {

class AuditLogTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    log_ = std::make_unique<AuditLog>(*database_);
  }
  void write(int count) {
    for (int i = 0; i < count; ++i) log_->record("usr_admin", "admin.post", "usr_" + std::to_string(i), R"({"status":200})");
  }
  void run(const std::string& statement) {
    soci::session sql(database_->pool());
    sql << statement;
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, ConcurrentWritersMakeOneUnbrokenChain) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) writers.emplace_back([this] { write(25); });
  for (auto& writer : writers) writer.join();
  const auto report = log_->verify();
  EXPECT_EQ(report.entries, 100);
  EXPECT_TRUE(report.problems.empty()) << ::testing::PrintToString(report.problems);
  EXPECT_EQ(log_->recent(3).front().seq, 100);
}

TEST_P(AuditLogTest, AnEditedEntryIsNamed) {
  write(5);
  run("UPDATE audit_log SET target = 'usr_someone_else' WHERE seq = 3");
  EXPECT_EQ(log_->verify().problems, std::vector<std::string>{"entry 3 was altered"});
}

TEST_P(AuditLogTest, AnEditRepairedWithAFreshHashStillBreaksTheNextLink) {
  write(5);
  auto entry = log_->recent(1, 4).front();  // entry 3
  entry.detail = R"({"status":403})";
  const std::string forged = AuditLog::hash_of(entry);
  run("UPDATE audit_log SET detail = '{\"status\":403}', entry_hash = '" + forged + "' WHERE seq = 3");
  EXPECT_EQ(log_->verify().problems, std::vector<std::string>{"entry 4 does not follow entry 3 (removed, reordered or rewritten)"});
}

TEST_P(AuditLogTest, ARemovedEntryIsNamed) {
  write(5);
  run("DELETE FROM audit_log WHERE seq = 2");
  EXPECT_EQ(log_->verify().problems, std::vector<std::string>{"entry 3 follows entry 1: entries 2..2 were removed"});
}

TEST_P(AuditLogTest, ReorderedEntriesAreNamed) {
  write(5);
  run("UPDATE audit_log SET seq = 100 WHERE seq = 2");
  run("UPDATE audit_log SET seq = 2 WHERE seq = 4");
  run("UPDATE audit_log SET seq = 4 WHERE seq = 100");
  const auto problems = log_->verify().problems;
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems.front(), "entry 2 does not follow entry 1 (removed, reordered or rewritten)");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::audit
