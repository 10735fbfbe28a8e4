// The request lifecycle on SQLite and PostgreSQL with a clock the test moves: duplicates,
// the grace period, cancel rules, the one extension, overdue requests in the metrics, and
// tasks run stage by stage with the core's records erased last.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "accounts/privacy_participant.hpp"
#include "privacy/requests.hpp"
#include "support/databases.hpp"
#include "support/process.hpp"

namespace framehouse::privacy {
namespace {

class PrivacyRequestsTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    accounts::AccountsConfig accounts_config;
    accounts_config.password_cost = {1, 8 * 1024};
    accounts_ = std::make_unique<accounts::Accounts>(*database_, mailer_, accounts_config, clock_);
    user_ = accounts_->create_user("Pat", "pat@example.org", "a long pass phrase", "user");
    keys_ = std::make_unique<storage::DataKeys>(*database_, storage::MasterKey{3});
    objects_ = std::make_unique<storage::ObjectStore>(host_, nullptr, *keys_);
    videos_ = std::make_unique<video::Videos>(*database_, host_, nullptr, *objects_,
                                              video::VideoConfig{.data_dir = dir_.path().string()});
    accounts_records_ = std::make_unique<accounts::AccountsParticipant>(*database_);
    request_records_ = std::make_unique<RequestsParticipant>(*database_, *objects_);
    core_ = std::make_unique<CoreParticipant>(std::vector<sdk::PrivacyParticipant*>{accounts_records_.get(), request_records_.get()});
    participants_ = std::make_unique<Participants>(host_, *core_, std::chrono::seconds(5));
    PrivacyConfig config;
    config.deletion_grace_seconds = 3600;
    config.work_directory = dir_.path() / "privacy";
    audit_ = std::make_unique<audit::AuditLog>(*database_);
    requests_ = std::make_unique<PrivacyRequests>(*database_, *participants_, *accounts_, *videos_, *objects_, mailer_, signer_,
                                                  metrics_, *audit_, config, clock_);
  }
  NewRequest request(const std::string& type) const { return {type, "user", user_, "pat@example.org", std::nullopt, ""}; }
  int drain() {
    int tasks = 0;
    while (requests_->run_one("test-worker")) ++tasks;
    return tasks;
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  mail::Mailer mailer_{host_, nullptr, "noreply@example.org"};
  std::int64_t now_ = 1'800'000'000;
  accounts::Clock clock_ = [this] { return now_; };
  ReceiptSigner signer_ = ReceiptSigner::from_seed({});
  std::unique_ptr<accounts::Accounts> accounts_;
  std::string user_;
  std::unique_ptr<storage::DataKeys> keys_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<video::Videos> videos_;
  std::unique_ptr<accounts::AccountsParticipant> accounts_records_;
  std::unique_ptr<RequestsParticipant> request_records_;
  std::unique_ptr<CoreParticipant> core_;
  std::unique_ptr<Participants> participants_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<PrivacyRequests> requests_;
};

TEST_P(PrivacyRequestsTest, AnOpenRequestIsReturnedInsteadOfASecond) {
  const auto first = requests_->submit(request("access"));
  EXPECT_FALSE(first.duplicate);
  const auto second = requests_->submit(request("access"));
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.request.id, first.request.id);
  EXPECT_FALSE(requests_->submit(request("erasure")).duplicate);  // another type is another request
  EXPECT_EQ(requests_->list_for(user_).size(), 2u);
}

TEST_P(PrivacyRequestsTest, DueDatesExtendOnceAndOverdueRequestsAreCounted) {
  const auto submitted = requests_->submit(request("access")).request;
  EXPECT_EQ(submitted.due_at, now_ + 30 * 24 * 3600);
  ASSERT_TRUE(requests_->extend(submitted.id, "a large archive", "usr_admin"));
  EXPECT_EQ(requests_->extend(submitted.id, "again", "usr_admin").status(), sdk::Status::conflict);
  const auto extended = *requests_->find(submitted.id);
  EXPECT_EQ(extended.due_at, submitted.due_at + 60 * 24 * 3600);
  EXPECT_EQ(extended.extension_reason, "a large archive");

  EXPECT_EQ(requests_->overdue_count(), 0);
  now_ = extended.due_at + 1;
  EXPECT_EQ(requests_->overdue_count(), 1);
  EXPECT_EQ(requests_->list({"", "", true, 100}).size(), 1u);
  EXPECT_EQ(requests_->list({"", "erasure", false, 100}).size(), 0u);
  EXPECT_NE(metrics_.render().find("framehouse_privacy_requests_overdue 1"), std::string::npos);
}

TEST_P(PrivacyRequestsTest, DeletingTheAccountWaitsForTheGracePeriodAndCanBeCanceledUntilItStarts) {
  const auto deletion = requests_->delete_account(user_).request;
  EXPECT_EQ(deletion.not_before, now_ + 3600);
  EXPECT_EQ(drain(), 0);  // nothing runs during the grace period
  ASSERT_TRUE(requests_->cancel(deletion.id, "changed my mind", user_));
  EXPECT_EQ(requests_->find(deletion.id)->status, "canceled");

  const auto again = requests_->delete_account(user_).request;
  now_ += 3601;
  ASSERT_TRUE(requests_->run_one("test-worker"));  // the first step: processing stops
  EXPECT_EQ(requests_->cancel(again.id, "too late", user_).status(), sdk::Status::conflict);
  drain();
  const auto done = *requests_->find(again.id, true);
  EXPECT_EQ(done.status, "completed");
  EXPECT_FALSE(done.subject_id.has_value());  // only non-identifying data stays
  ASSERT_TRUE(done.receipt.has_value());
  EXPECT_FALSE(accounts_->find(user_).has_value());
  // The steps ran in order, with the core last before the verification.
  std::vector<std::string> order;
  for (const auto& task : done.tasks) order.push_back(task.participant);
  EXPECT_EQ(order, (std::vector<std::string>{"@stop", "core", "@verify"}));
}

TEST_P(PrivacyRequestsTest, AStepThatKeepsFailingIsRetriedWithBackoffThenFailsTheRequest) {
  // No storage plugin here: the archive of an access request cannot be stored.
  const auto access = requests_->submit(request("access")).request;
  std::vector<std::int64_t> waits;
  for (int round = 0; round < 10; ++round) {
    drain();
    const auto tasks = requests_->find(access.id, true)->tasks;
    const auto& archive = tasks.back();
    if (archive.status != "pending") break;
    waits.push_back(archive.next_attempt_at - now_);
    now_ = archive.next_attempt_at;
  }
  EXPECT_EQ(waits, (std::vector<std::int64_t>{10, 20, 40, 80}));  // exponential backoff, five attempts in all
  const auto failed = *requests_->find(access.id, true);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.tasks.back().last_error, "no storage plugin is loaded");
  EXPECT_EQ(requests_->cancel(access.id, "x", user_).status(), sdk::Status::conflict);
  ASSERT_TRUE(requests_->retry(access.id, "usr_admin"));
  EXPECT_EQ(requests_->find(access.id)->status, "in_progress");
  EXPECT_EQ(requests_->find(access.id, true)->tasks.back().attempts, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyRequestsTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::privacy
