// The request lifecycle on SQLite and PostgreSQL with a clock the test moves: duplicates,
// the grace period, cancel rules, the one extension, overdue requests in the metrics, and
// tasks run stage by stage with the core's records erased last.
#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <soci/soci.h>

#include "accounts/privacy_participant.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/privacy_participant.hpp"
#include "privacy/requests.hpp"
#include "support/databases.hpp"
#include "support/mail.hpp"
#include "support/outbox.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"

namespace framehouse::privacy {
namespace {

class PrivacyRequestsTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    load_plugins();
    mail_ = std::make_unique<testing::TestMail>(*database_, metrics_, host_, host_.find("email_outbox"), "noreply@example.org",
                                                [this] { return now_ * 1000; });
    accounts::AccountsConfig accounts_config;
    accounts_config.password_cost = {1, 8 * 1024};
    accounts_ = std::make_unique<accounts::Accounts>(*database_, mail_->mailer, accounts_config, clock_);
    user_ = accounts_->create_user("Pat", "pat@example.org", "a long pass phrase", "user");
    keys_ = std::make_unique<storage::DataKeys>(*database_, storage::MasterKey{3});
    objects_ = std::make_unique<storage::ObjectStore>(host_, nullptr, *keys_);
    accounts_records_ = std::make_unique<accounts::AccountsParticipant>(*database_, *accounts_);
    request_records_ = std::make_unique<RequestsParticipant>(*database_, *objects_);
    job_records_ = std::make_unique<jobs::JobsParticipant>(*database_);
    core_ = std::make_unique<CoreParticipant>(
        std::vector<personal_data::CoreStore*>{accounts_records_.get(), request_records_.get(), job_records_.get()});
    participants_ = std::make_unique<Participants>(host_, *core_, std::chrono::seconds(5));
    PrivacyConfig config;
    config.deletion_grace_seconds = 3600;
    config.work_directory = dir_.path() / "privacy";
    audit_ = std::make_unique<audit::AuditLog>(*database_);
    requests_ = std::make_unique<PrivacyRequests>(*database_, *participants_, *accounts_, *objects_, mail_->mailer, signer_,
                                                  metrics_, *audit_, config, clock_);
    accounts_->on_frozen_check([this](const std::string& user_id) { return requests_->account_frozen(user_id); });
  }
  // Plugins loaded before anything else is built (none here).
  virtual void load_plugins() {}
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
  std::unique_ptr<testing::TestMail> mail_;
  std::int64_t now_ = 1'800'000'000;
  UnixClock clock_ = [this] { return now_; };
  ReceiptSigner signer_ = ReceiptSigner::from_seed({});
  std::unique_ptr<accounts::Accounts> accounts_;
  std::string user_;
  std::unique_ptr<storage::DataKeys> keys_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<accounts::AccountsParticipant> accounts_records_;
  std::unique_ptr<RequestsParticipant> request_records_;
  std::unique_ptr<jobs::JobsParticipant> job_records_;
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
  EXPECT_EQ(order, (std::vector<std::string>{"@stop", "core", "@verify", "@receipt"}));
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
  // It ran as a job of the core's queue, which keeps it for operators once out of attempts
  // (without the participant's text, which stays on the task).
  observability::Metrics queue_metrics;
  jobs::JobQueue privacy_jobs(*database_, queue_metrics, {"privacy"});
  const auto dead = privacy_jobs.list(jobs::JobState::dead, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].label, "privacy: access @archive");
  EXPECT_EQ(dead[0].attempts, 5);
  EXPECT_EQ(dead[0].last_error.find("storage"), std::string::npos);
  EXPECT_NE(metrics_.render().find("framehouse_jobs_dead_total{queue=\"privacy\"} 1"), std::string::npos);

  EXPECT_EQ(requests_->cancel(access.id, "x", user_).status(), sdk::Status::conflict);
  ASSERT_TRUE(requests_->retry(access.id, "usr_admin"));
  EXPECT_EQ(requests_->find(access.id)->status, "in_progress");
  EXPECT_EQ(requests_->find(access.id, true)->tasks.back().attempts, 0);
  EXPECT_EQ(privacy_jobs.list(jobs::JobState::ready, 10).size(), 1u);  // a fresh job, with every attempt again
}

TEST_P(PrivacyRequestsTest, ACanceledRequestLeavesNoJobBehind) {
  const auto deletion = requests_->delete_account(user_).request;
  observability::Metrics queue_metrics;
  jobs::JobQueue privacy_jobs(*database_, queue_metrics, {"privacy"});
  const auto waiting = privacy_jobs.list(jobs::JobState::ready, 10);
  ASSERT_EQ(waiting.size(), 1u);  // the first step, due when the grace period ends
  EXPECT_EQ(waiting[0].run_at_ms, deletion.not_before * 1000);
  ASSERT_TRUE(requests_->cancel(deletion.id, "changed my mind", user_));
  EXPECT_TRUE(privacy_jobs.list(jobs::JobState::ready, 10).empty());
  now_ += 3601;
  EXPECT_FALSE(requests_->run_one("test-worker"));
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyRequestsTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

// The same with plugins that keep personal data by address: the shipped outbox (whose mail
// the test reads) and a fixture that writes down what it is told.
class PrivacyRequestsWithPluginsTest : public PrivacyRequestsTest {
 protected:
  void load_plugins() override {
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("email_outbox")));
    ASSERT_FALSE(testing::load_plugin(host_, testing::fixture_plugin("flaky_participant"), "record_calls = true"));
    ASSERT_FALSE(host_.start_all());
  }
  // What reached the address, once every queued message due now was delivered.
  std::vector<testing::OutboxMessage> mail_to(const std::string& address) {
    mail_->deliver_due();
    return testing::messages_to(dir_.path() / "plugins" / "email_outbox" / "outbox", address);
  }
  std::string calls() const { return testing::read_file(dir_.path() / "plugins" / "flaky_participant" / "calls.log"); }
  std::string status_of(const std::string& id) { return requests_->find(id)->status; }
};

TEST_P(PrivacyRequestsWithPluginsTest, RectificationCarriesTheOldValueAndErasureReachesOldAddresses) {
  const auto corrected = requests_->submit({"rectification", "user", user_, "pat@example.org",
                                            sdk::Rectification{"email", "pat@example.org", "pat.new@example.org"}, ""});
  drain();
  EXPECT_EQ(status_of(corrected.request.id), "completed");
  EXPECT_NE(calls().find("rectify email pat@example.org pat.new@example.org"), std::string::npos) << calls();
  EXPECT_EQ(accounts_->addresses(user_), (std::vector<std::string>{"pat.new@example.org", "pat@example.org"}));

  const auto erasure = requests_->submit(request("erasure")).request;
  drain();
  EXPECT_EQ(status_of(erasure.id), "completed") << requests_->find(erasure.id)->status_reason.value_or("");
  const std::string log = calls();
  const std::string erased = log.substr(log.find("erase "));
  EXPECT_NE(erased.find(" pat.new@example.org"), std::string::npos) << log;
  EXPECT_NE(erased.find(" pat@example.org"), std::string::npos) << log;
}

TEST_P(PrivacyRequestsWithPluginsTest, AnErasureTakesUnconfirmedIntakesAndTheOthersExpire) {
  ASSERT_TRUE(requests_->intake("pat@example.org", "access", "192.0.2.1"));
  const auto stranger = requests_->intake("someone@example.org", "erasure", "192.0.2.1");
  ASSERT_TRUE(stranger);
  const auto erasure = requests_->submit(request("erasure")).request;
  drain();
  const auto done = *requests_->find(erasure.id);
  EXPECT_EQ(done.status, "completed") << done.status_reason.value_or("");
  EXPECT_EQ(boost::json::parse(boost::json::parse(*done.receipt).at("payload").as_string()).at("verified_empty"), true);
  int left = 0;
  {
    soci::session sql(database_->pool());
    sql << "SELECT COUNT(*) FROM privacy_requests WHERE subject_email = 'pat@example.org'", soci::into(left);
  }
  EXPECT_EQ(left, 0);  // her unconfirmed intake went with her
  // The stranger's, never confirmed, goes a day after its code expired, not before.
  now_ += 10 * 60 + 24 * 3600 - 1;
  EXPECT_EQ(requests_->purge_unconfirmed_intakes(), 0);
  now_ += 2;
  EXPECT_EQ(requests_->purge_unconfirmed_intakes(), 1);
  EXPECT_FALSE(requests_->find(stranger.value()).has_value());
}

TEST_P(PrivacyRequestsWithPluginsTest, VerificationFindsRowsNoParticipantErased) {
  // No participant here erases disclosures (the server has one that does): the scan of the
  // core's tables finds the row all the same, and the erasure says so.
  {
    soci::session sql(database_->pool());
    sql << "INSERT INTO disclosures (id, subject_id, authority, legal_basis, reference, categories, disclosed_at,"
           " notice_restricted, recorded_by, recorded_at) VALUES ('dis_1', :s, 'court', 'order', 'ref', '[]', 0, 0, 'x', 0)",
        soci::use(user_);
  }
  const auto erasure = requests_->submit(request("erasure")).request;
  drain();
  const auto done = *requests_->find(erasure.id);
  EXPECT_EQ(done.status, "completed_with_exceptions");
  const auto payload = boost::json::parse(boost::json::parse(*done.receipt).at("payload").as_string());
  EXPECT_EQ(payload.at("verified_empty"), false);
  EXPECT_NE(boost::json::serialize(payload.at("residue")).find("core:disclosures.subject_id"), std::string::npos)
      << boost::json::serialize(payload);
}

TEST_P(PrivacyRequestsWithPluginsTest, ALegalHoldFreezesTheAccountAndTheRequesterIsToldBothWays) {
  ASSERT_EQ(accounts_->sign_in("pat@example.org", "a long pass phrase", "test", "192.0.2.1").status,
            accounts::SignInResult::Status::signed_in);
  const auto hold = requests_->place_hold(user_, "legal_obligation", "TAX-2026", std::nullopt, "usr_admin");
  EXPECT_FALSE(requests_->account_frozen(user_));  // a hold alone freezes nothing
  const auto erasure = requests_->submit(request("erasure")).request;
  drain();
  EXPECT_EQ(status_of(erasure.id), "on_hold");
  EXPECT_TRUE(requests_->account_frozen(user_));
  EXPECT_EQ(accounts_->sign_in("pat@example.org", "a long pass phrase", "test", "192.0.2.1").status,
            accounts::SignInResult::Status::frozen);
  EXPECT_EQ(accounts_->sign_in("pat@example.org", "not the password", "test", "192.0.2.1").status,
            accounts::SignInResult::Status::bad_credentials);
  ASSERT_EQ(mail_to("pat@example.org").size(), 1u);
  EXPECT_EQ(mail_to("pat@example.org").back().subject, "Your erasure request is on hold");
  EXPECT_NE(mail_to("pat@example.org").back().text.find("legal_obligation"), std::string::npos);
  drain();
  EXPECT_EQ(mail_to("pat@example.org").size(), 1u);  // told once

  ASSERT_TRUE(requests_->lift_hold(hold.id, "usr_admin"));
  ASSERT_EQ(mail_to("pat@example.org").size(), 2u);
  EXPECT_EQ(mail_to("pat@example.org").back().subject, "The hold on your erasure request has ended");
  drain();
  EXPECT_EQ(status_of(erasure.id), "completed");
  // What is left in the outbox is the receipt, and nothing else.
  const auto left = mail_to("pat@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.back().subject, "Your personal data has been erased");
}

TEST_P(PrivacyRequestsWithPluginsTest, AConfirmedIntakeOfAnOpenRequestSaysItIsADuplicate) {
  const auto open = requests_->submit(request("access")).request;
  const auto intake = requests_->intake("pat@example.org", "access", "192.0.2.1");
  ASSERT_TRUE(intake);
  const std::string text = mail_to("pat@example.org").back().text;
  const auto at = text.find("Your confirmation code: ");
  ASSERT_NE(at, std::string::npos);
  const auto verified = requests_->verify_intake(intake.value(), text.substr(at + 24, 6));
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->duplicate);
  EXPECT_EQ(verified->request_id, open.id);
}

TEST_P(PrivacyRequestsWithPluginsTest, TheExtensionMailGivesTheNewDueDateAsADate) {
  const auto submitted = requests_->submit(request("access")).request;
  ASSERT_TRUE(requests_->extend(submitted.id, "a large archive", "usr_admin"));
  const std::string text = mail_to("pat@example.org").back().text;
  // 1'800'000'000 + 90 days is 2027-04-15 (UTC).
  EXPECT_NE(text.find("New due date: 2027-04-15 (UTC)"), std::string::npos) << text;
  EXPECT_EQ(text.find(std::to_string(submitted.due_at + 60 * 24 * 3600)), std::string::npos);
}

// The receipt is the requester's proof: a provider that cannot take it now gets it again later
// from the outbox, which keeps it (and nothing else about the person) until then.
TEST_P(PrivacyRequestsWithPluginsTest, AReceiptTheProviderCannotTakeNowIsDeliveredLater) {
  const auto outbox = dir_.path() / "plugins" / "email_outbox" / "outbox";
  const auto erasure = requests_->submit(request("erasure")).request;
  mail_->deliver_due();
  // The provider is down: its folder is not a folder (root ignores permissions, so not chmod).
  std::filesystem::rename(outbox, dir_.path() / "outbox.away");
  testing::write_file(outbox, "not a folder");
  drain();
  EXPECT_EQ(status_of(erasure.id), "completed");
  EXPECT_EQ(mail_->deliver_due(), 1);  // tried once, failed for now
  const auto waiting = mail_->outbox.list(jobs::JobState::ready, 10);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].label, "account: Your personal data has been erased");
  EXPECT_EQ(waiting[0].attempts, 1);
  EXPECT_EQ(waiting[0].last_error.find("pat@example.org"), std::string::npos) << waiting[0].last_error;
  std::filesystem::remove(outbox);
  std::filesystem::rename(dir_.path() / "outbox.away", outbox);
  EXPECT_EQ(mail_->deliver_due(), 0);  // not before its retry time
  now_ = waiting[0].run_at_ms / 1000 + 1;
  ASSERT_EQ(mail_to("pat@example.org").size(), 1u);
  EXPECT_EQ(mail_to("pat@example.org").back().subject, "Your personal data has been erased");
  EXPECT_TRUE(mail_->outbox.list(jobs::JobState::ready, 10).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyRequestsWithPluginsTest,
                         ::testing::Values(db::Backend::sqlite, db::Backend::postgresql), testing::backend_name);

}  // namespace
}  // namespace framehouse::privacy
