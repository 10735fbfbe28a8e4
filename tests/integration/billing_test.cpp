// Subscriptions over time (a clock the test moves), with the real payment_manual plugin, on
// SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "billing/billing.hpp"
#include "framehouse/sdk/payment.hpp"
#include "support/databases.hpp"
#include "support/plugins.hpp"
#include "support/streams.hpp"

namespace framehouse::billing {
namespace {

constexpr std::int64_t kDay = 24 * 3600;

class BillingTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("payment_manual")));
    ASSERT_FALSE(host_.start_all());
    BillingConfig config{default_plans(), "free", 30 * kDay};
    billing_ = std::make_unique<Billing>(*database_, host_, host_.find("payment_manual"), config,
                                         [this] { return now_.load(); });
    soci::session sql(database_->pool());
    sql << "INSERT INTO users (id, email, name, password_hash, role, age_check_passed_at, created_at, updated_at)"
           " VALUES ('usr_a', 'a@example.org', 'Ann', 'x', 'user', 0, 0, 0)";
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<Billing> billing_;
  std::atomic<std::int64_t> now_{1'795'000'000};
};

TEST_P(BillingTest, PaidPeriodsRenewThenTheSubscriptionExpires) {
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  auto granted = billing_->grant("usr_a", "premium", 2);
  ASSERT_TRUE(granted.ok()) << granted.outcome().message();
  EXPECT_EQ(granted->prepaid_periods, 1);
  EXPECT_EQ(billing_->plan_for("usr_a").name, "premium");

  now_ += 31 * kDay;  // first period over: one paid period left, auto-renew on
  EXPECT_EQ(billing_->renew_due(), 1);
  auto renewed = billing_->subscription("usr_a");
  EXPECT_EQ(renewed.status, "active");
  EXPECT_EQ(renewed.prepaid_periods, 0);

  now_ += 30 * kDay;  // nothing paid for the next one
  EXPECT_EQ(billing_->subscription("usr_a").status, "expired");
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
}

TEST_P(BillingTest, ARevokedGrantEndsNowWithItsPaidPeriods) {
  EXPECT_EQ(billing_->revoke("usr_a").outcome().status(), sdk::Status::conflict);  // nothing to revoke
  EXPECT_EQ(billing_->revoke("usr_nobody").outcome().status(), sdk::Status::not_found);
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 3).ok());
  now_ += 5 * kDay;
  const auto revoked = billing_->revoke("usr_a");
  ASSERT_TRUE(revoked.ok()) << revoked.outcome().message();
  EXPECT_EQ(revoked.value(), "premium");
  const auto after = billing_->subscription("usr_a");
  EXPECT_EQ(after.status, "expired");
  EXPECT_EQ(after.prepaid_periods, 0);
  EXPECT_FALSE(after.auto_renew);
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  now_ += 60 * kDay;  // nothing comes back at the old period's end
  EXPECT_EQ(billing_->renew_due(), 0);
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  // A new grant after a revocation starts afresh.
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 1).ok());
  EXPECT_EQ(billing_->plan_for("usr_a").name, "premium");
}

// Auto-renew off means "ends at the paid-through date", and that date includes every period
// already paid for; it can be undone until then.
TEST_P(BillingTest, AutoRenewOffEndsAtThePaidThroughDateWithEveryPaidPeriod) {
  const std::int64_t start = now_.load();
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 2).ok());
  ASSERT_TRUE(billing_->set_auto_renew("usr_a", false));
  const auto off = billing_->subscription("usr_a");
  EXPECT_EQ(off.paid_through, start + 60 * kDay);
  now_ += 29 * kDay;
  ASSERT_TRUE(billing_->set_auto_renew("usr_a", true));  // reversible before the end
  ASSERT_TRUE(billing_->set_auto_renew("usr_a", false));

  now_ += 2 * kDay;  // the first period is over: the second, paid for, is used
  EXPECT_EQ(billing_->renew_due(), 1);
  const auto second = billing_->subscription("usr_a");
  EXPECT_EQ(second.status, "active");
  EXPECT_EQ(second.plan, "premium");
  EXPECT_EQ(second.prepaid_periods, 0);
  EXPECT_EQ(second.current_period_end, start + 60 * kDay);
  EXPECT_EQ(second.paid_through, start + 60 * kDay);

  now_ += 30 * kDay;  // past the paid-through date: nothing renews, the plan ends
  EXPECT_EQ(billing_->subscription("usr_a").status, "expired");
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  EXPECT_EQ(billing_->set_auto_renew("usr_a", true).status(), sdk::Status::conflict);
}

// Grants add, before and after the end of what was paid.
TEST_P(BillingTest, GrantsAddToWhatIsLeft) {
  const std::int64_t start = now_.load();
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 2).ok());
  now_ += 10 * kDay;
  const auto more = billing_->grant("usr_a", "premium", 3);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->prepaid_periods, 4);
  EXPECT_EQ(more->paid_through, start + 5 * 30 * kDay);
  now_ = start + 5 * 30 * kDay + kDay;
  EXPECT_EQ(billing_->subscription("usr_a").status, "expired");
  const auto again = billing_->grant("usr_a", "premium", 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, "active");
  EXPECT_EQ(again->paid_through, now_.load() + 30 * kDay);
}

// A subscription that an earlier version expired with paid periods left (auto-renew was off)
// gets them back: they are used from where it stopped.
TEST_P(BillingTest, PaidPeriodsDroppedByAnEarlierVersionAreUsed) {
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 1).ok());
  const std::int64_t end = now_.load() + 30 * kDay;
  {
    soci::session sql(database_->pool());
    sql << "UPDATE subscriptions SET status = 'expired', prepaid_periods = 1, auto_renew = 0";
  }
  now_ = end + kDay;
  const auto restored = billing_->subscription("usr_a");
  EXPECT_EQ(restored.status, "active");
  EXPECT_EQ(restored.plan, "premium");
  EXPECT_EQ(restored.paid_through, end + 30 * kDay);
}

TEST_P(BillingTest, GrantsAreCheckedAndExportedAndErased) {
  EXPECT_EQ(billing_->grant("usr_a", "free", 1).outcome().status(), sdk::Status::invalid_argument);
  EXPECT_EQ(billing_->grant("usr_a", "gold", 1).outcome().status(), sdk::Status::invalid_argument);
  EXPECT_EQ(billing_->grant("usr_a", "premium", 0).outcome().status(), sdk::Status::invalid_argument);
  EXPECT_EQ(billing_->grant("usr_nobody", "premium", 1).outcome().status(), sdk::Status::not_found);
  ASSERT_TRUE(billing_->grant("usr_a", "premium", 1).ok());

  const sdk::Subject subject{"usr_a", {"a@example.org"}, {}};
  BillingParticipant core(*database_);
  auto* processor = host_.find("payment_manual")->find<sdk::PrivacyParticipant>();
  testing::RecordingExportSink exported;
  ASSERT_TRUE(core.export_subject(subject, exported));
  ASSERT_TRUE(processor->export_subject(subject, exported));
  ASSERT_EQ(exported.records.size(), 3u);  // subscription, customer, auto-renew flag
  EXPECT_NE(exported.records[1].second.find("a@example.org"), std::string::npos);

  EXPECT_EQ(core.erase_subject(subject)->records_removed, 1u);
  EXPECT_EQ(processor->erase_subject(subject)->records_removed, 2u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(core.export_subject(subject, after));
  ASSERT_TRUE(processor->export_subject(subject, after));
  EXPECT_TRUE(after.empty());
  // Checkout is not how this processor is paid.
  auto* payment = host_.find("payment_manual")->find<sdk::PaymentProcessor>();
  EXPECT_EQ(payment->create_checkout({}).outcome().status(), sdk::Status::unsupported);
}

TEST_P(BillingTest, AProcessorReceivesOnlyTheFieldsItsManifestDeclares) {
  // other_kinds declares email_address but not name.
  plugins::PluginHost host(metrics_, dir_.path() / "other");
  ASSERT_FALSE(testing::load_plugin(host, testing::fixture_plugin("other_kinds"), "webhook_secret = \"s\""));
  ASSERT_FALSE(host.start_all());
  Billing billing(*database_, host, host.find("other_kinds"), BillingConfig{default_plans(), "free", 30 * kDay},
                  [this] { return now_.load(); });
  ASSERT_TRUE(billing.grant("usr_a", "premium", 1).ok());
  testing::RecordingExportSink exported;
  ASSERT_TRUE(host.find("other_kinds")->find<sdk::PrivacyParticipant>()->export_subject({"usr_a", {}, {}}, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_NE(exported.records[0].second.find("\"email\":\"a@example.org\""), std::string::npos);
  EXPECT_NE(exported.records[0].second.find("\"name\":\"\""), std::string::npos) << exported.records[0].second;
}

INSTANTIATE_TEST_SUITE_P(Backends, BillingTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::billing
