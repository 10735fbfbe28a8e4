// Subscriptions over time (a clock the test moves), with the real payment_manual plugin and a
// card-like fixture processor (other_kinds: checkout, webhooks), on SQLite and PostgreSQL,
// every change mailed through the real email_outbox plugin.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "billing/billing.hpp"
#include "framehouse/sdk/payment.hpp"
#include "support/databases.hpp"
#include "support/mail.hpp"
#include "support/outbox.hpp"
#include "support/plugins.hpp"
#include "support/streams.hpp"

#include <algorithm>
#include <thread>

#include <boost/json.hpp>

namespace framehouse::billing {
namespace {

constexpr std::int64_t kDay = 24 * 3600;

class BillingTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("payment_manual")));
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("email_outbox"), "directory = \"" + mail_folder().string() + "\""));
    ASSERT_FALSE(testing::load_plugin(host_, testing::fixture_plugin("other_kinds"), "webhook_secret = \"s3cret\""));
    ASSERT_FALSE(host_.start_all());
    mail_ = std::make_unique<testing::TestMail>(*database_, metrics_, host_, host_.find("email_outbox"), "Framehouse <noreply@example.org>");
    calls_ = std::make_unique<jobs::JobQueue>(*database_, metrics_, processor_call_queue());
    billing_ = make_billing("payment_manual");
    soci::session sql(database_->pool());
    sql << "INSERT INTO users (id, email, name, password_hash, role, age_check_passed_at, created_at, updated_at)"
           " VALUES ('usr_a', 'a@example.org', 'Ann', 'x', 'user', 0, 0, 0)";
  }

  std::unique_ptr<Billing> make_billing(const std::string& processor, db::Database* database = nullptr) {
    BillingConfig config{default_plans(), "free", 30 * kDay, 3 * kDay, "https://video.example.org"};
    return std::make_unique<Billing>(database ? *database : *database_, host_, host_.find(processor), config, mail_->mailer,
                                     *calls_, [this] { return now_.load(); });
  }
  std::filesystem::path mail_folder() const { return dir_.path() / "mail"; }
  // The subjects of the mail Ann received since the last look, sorted (mail delivered at once
  // has no order).
  std::vector<std::string> new_mail() {
    mail_->deliver_due();
    std::vector<std::string> subjects;
    const auto all = testing::messages_to(mail_folder(), "a@example.org");
    for (std::size_t i = seen_; i < all.size(); ++i) subjects.push_back(all[i].subject);
    seen_ = all.size();
    std::sort(subjects.begin(), subjects.end());
    return subjects;
  }
  // An event from the fixture processor, signed.
  sdk::Result<WebhookResult> event(Billing& billing, const std::string& fields) {
    return billing.receive_webhook("other_kinds", {{{"x-fixture-signature", "s3cret"}}, fields});
  }
  static std::vector<std::string> sorted(std::vector<std::string> subjects) {
    std::sort(subjects.begin(), subjects.end());
    return subjects;
  }
  static std::string status(const Subscription& subscription) { return std::string(to_string(subscription.status)); }
  // The processor calls waiting, as "<call> <subscription id>", sorted.
  std::vector<std::string> queued_calls() {
    soci::session sql(database_->pool());
    soci::rowset<std::string> rows = (sql.prepare << "SELECT payload FROM jobs WHERE queue = 'payment' AND state = 'ready' ORDER BY created_at_ms, id");
    std::vector<std::string> calls;
    for (const auto& payload : rows) {
      const auto call = boost::json::parse(payload).as_object();
      calls.push_back(std::string(call.at("call").as_string()) + " " + std::string(call.at("subscription_id").as_string()));
    }
    std::sort(calls.begin(), calls.end());
    return calls;
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<testing::TestMail> mail_;
  std::unique_ptr<jobs::JobQueue> calls_;
  std::size_t seen_ = 0;
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
  EXPECT_EQ(status(renewed), "active");
  EXPECT_EQ(renewed.prepaid_periods, 0);

  now_ += 30 * kDay;  // nothing paid for the next one: a grace period, as the invoice is due
  const auto waiting = billing_->subscription("usr_a");
  EXPECT_EQ(status(waiting), "grace");
  EXPECT_EQ(waiting.grace_until, *waiting.current_period_end + 3 * kDay);
  EXPECT_EQ(billing_->plan_for("usr_a").name, "premium");
  now_ += 3 * kDay;
  EXPECT_EQ(billing_->renew_due(), 1);
  EXPECT_EQ(status(billing_->subscription("usr_a")), "expired");
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  EXPECT_EQ(new_mail(), sorted({"Your premium plan is active", "Your premium plan was renewed",
                                                  "The payment for your premium plan has not come through",
                                                  "Your premium plan has ended"}));
  EXPECT_EQ(queued_calls(), std::vector<std::string>{"set_auto_renew sub_usr_a"});
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
  EXPECT_EQ(status(after), "expired");
  EXPECT_EQ(after.prepaid_periods, 0);
  EXPECT_FALSE(after.auto_renew);
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  EXPECT_EQ(new_mail(), sorted({"Your premium plan is active", "Your premium plan has ended"}));
  EXPECT_EQ(queued_calls(), (std::vector<std::string>{"set_auto_renew sub_usr_a", "set_auto_renew sub_usr_a"}));
  // Whichever of the two calls runs last, the processor ends where the holder is: not renewing.
  jobs::JobRunner runner(*calls_, *database_, [this](const jobs::Job& job, std::stop_token) { return billing_->run_processor_call(job); });
  while (runner.run_one("test")) {
  }
  testing::RecordingExportSink recorded;
  ASSERT_TRUE(host_.find("payment_manual")->find<sdk::PrivacyParticipant>()->export_subject({"usr_a", {}, {}}, recorded));
  ASSERT_EQ(recorded.records.size(), 2u);
  EXPECT_NE(recorded.records[1].second.find("\"auto_renew\":false"), std::string::npos) << recorded.records[1].second;
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
  EXPECT_EQ(status(second), "active");
  EXPECT_EQ(second.plan, "premium");
  EXPECT_EQ(second.prepaid_periods, 0);
  EXPECT_EQ(second.current_period_end, start + 60 * kDay);
  EXPECT_EQ(second.paid_through, start + 60 * kDay);

  now_ += 30 * kDay;  // past the paid-through date: nothing renews, the plan ends
  EXPECT_EQ(status(billing_->subscription("usr_a")), "expired");
  EXPECT_EQ(billing_->plan_for("usr_a").name, "free");
  EXPECT_EQ(billing_->set_auto_renew("usr_a", true).status(), sdk::Status::conflict);
  EXPECT_EQ(new_mail(), sorted({"Your premium plan is active", "Auto-renew is off", "Auto-renew is on",
                                                  "Auto-renew is off", "Your premium plan was renewed", "Your premium plan has ended"}));
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
  EXPECT_EQ(status(billing_->subscription("usr_a")), "grace");
  now_ += 3 * kDay;
  EXPECT_EQ(status(billing_->subscription("usr_a")), "expired");
  const auto again = billing_->grant("usr_a", "premium", 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(status(again.value()), "active");
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
  EXPECT_EQ(status(restored), "active");
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
  // Subscription and payment account; the plugin's customer (the auto-renew call still waits).
  ASSERT_EQ(exported.records.size(), 3u);
  EXPECT_NE(exported.records[1].second.find("manual_usr_a"), std::string::npos);
  EXPECT_NE(exported.records[2].second.find("a@example.org"), std::string::npos);

  EXPECT_EQ(core.erase_subject(subject)->records_removed, 2u);
  EXPECT_EQ(processor->erase_subject(subject)->records_removed, 1u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(core.export_subject(subject, after));
  ASSERT_TRUE(processor->export_subject(subject, after));
  EXPECT_TRUE(after.empty());
  // Checkout is not how this processor is paid.
  auto* payment = host_.find("payment_manual")->find<sdk::PaymentProcessor>();
  EXPECT_EQ(payment->create_checkout({}).outcome().status(), sdk::Status::unsupported);
}

TEST_P(BillingTest, AProcessorReceivesOnlyTheFieldsItsManifestDeclares) {
  // other_kinds declares email_address but not name; its customer is made at the first checkout.
  const auto billing = make_billing("other_kinds");
  const auto session = billing->start_checkout("usr_a", "premium", "op1");
  ASSERT_TRUE(session.ok()) << session.outcome().message();
  EXPECT_EQ(session->url, "https://pay.invalid/cs_usr_a");
  testing::RecordingExportSink exported;
  ASSERT_TRUE(host_.find("other_kinds")->find<sdk::PrivacyParticipant>()->export_subject({"usr_a", {}, {}}, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_NE(exported.records[0].second.find("\"email\":\"a@example.org\""), std::string::npos);
  EXPECT_NE(exported.records[0].second.find("\"name\":\"\""), std::string::npos) << exported.records[0].second;
  EXPECT_EQ(billing->start_checkout("usr_a", "free", "op2").outcome().status(), sdk::Status::invalid_argument);
  // A bookkeeping processor sells nothing in the app.
  EXPECT_EQ(billing_->start_checkout("usr_a", "premium", "op3").outcome().status(), sdk::Status::unsupported);
}

// A card processor's events, as they come: out of order, twice, with a failed renewal.
TEST_P(BillingTest, ProcessorEventsApplyOnceAndInTheProcessorsOrder) {
  const auto billing = make_billing("other_kinds");
  ASSERT_TRUE(billing->start_checkout("usr_a", "premium", "op1").ok());  // the customer cus_usr_a
  const std::int64_t t0 = now_.load(), end1 = t0 + 30 * kDay, end2 = end1 + 30 * kDay;
  const std::string sub = "&customer=cus_usr_a&subscription=sub_9&plan=premium";
  EXPECT_EQ(event(*billing, "id=evt_0&type=invoice_paid&state=active&created=" + std::to_string(t0) + sub +
                                "&period_end=" + std::to_string(end1)).value(),
            WebhookResult::applied);
  auto now = billing->subscription("usr_a");
  EXPECT_EQ(status(now), "active");
  EXPECT_EQ(now.paid_through, end1);
  EXPECT_TRUE(now.auto_renew);
  EXPECT_TRUE(now.billed_by_processor);
  // The same event again (a retry, or another node): nothing happens twice.
  EXPECT_EQ(event(*billing, "id=evt_0&type=invoice_paid&state=active&created=" + std::to_string(t0) + sub +
                                "&period_end=" + std::to_string(end1)).value(),
            WebhookResult::duplicate);
  EXPECT_EQ(billing->start_checkout("usr_a", "premium", "op2").outcome().status(), sdk::Status::conflict);

  // The holder turns auto-renew off; the processor's confirmation comes, then an older update.
  now_ += kDay;
  ASSERT_TRUE(billing->set_auto_renew("usr_a", false));
  EXPECT_EQ(queued_calls(), std::vector<std::string>{"set_auto_renew sub_9"});
  ASSERT_TRUE(event(*billing, "id=evt_2&type=subscription_updated&state=active&cancel_at_period_end=1&created=" +
                                  std::to_string(now_.load() + 1) + sub + "&period_end=" + std::to_string(end1)).ok());
  ASSERT_TRUE(event(*billing, "id=evt_1&type=subscription_updated&state=active&cancel_at_period_end=0&created=" +
                                  std::to_string(t0 + 10) + sub + "&period_end=" + std::to_string(end1)).ok());
  EXPECT_FALSE(billing->subscription("usr_a").auto_renew);
  ASSERT_TRUE(billing->set_auto_renew("usr_a", true));
  ASSERT_TRUE(event(*billing, "id=evt_3&type=subscription_updated&state=active&cancel_at_period_end=0&created=" +
                                  std::to_string(now_.load() + 2) + sub + "&period_end=" + std::to_string(end1)).ok());

  // The renewal fails: grace, then the processor's retry succeeds and the next period is paid.
  now_ = end1 + 60;
  ASSERT_TRUE(event(*billing, "id=evt_4&type=payment_failed&state=past_due&created=" + std::to_string(now_.load()) + sub +
                                  "&period_end=" + std::to_string(end2)).ok());
  now = billing->subscription("usr_a");
  EXPECT_EQ(status(now), "grace");
  EXPECT_EQ(now.grace_until, end1 + 60 + 3 * kDay);
  EXPECT_EQ(billing->plan_for("usr_a").name, "premium");
  now_ += kDay;
  ASSERT_TRUE(event(*billing, "id=evt_5&type=payment_failed&state=past_due&created=" + std::to_string(now_.load()) + sub).ok());
  EXPECT_EQ(billing->subscription("usr_a").grace_until, end1 + 60 + 3 * kDay);  // a retry's failure does not extend it
  ASSERT_TRUE(event(*billing, "id=evt_6&type=invoice_paid&state=active&created=" + std::to_string(now_.load() + 5) + sub +
                                  "&period_end=" + std::to_string(end2)).ok());
  now = billing->subscription("usr_a");
  EXPECT_EQ(status(now), "active");
  EXPECT_EQ(now.paid_through, end2);
  EXPECT_FALSE(now.grace_until);

  // The next renewal fails for good: past the grace the plan ends, and the processor's late
  // "deleted" changes nothing more.
  now_ = end2 + 10;
  ASSERT_TRUE(event(*billing, "id=evt_7&type=payment_failed&state=past_due&created=" + std::to_string(now_.load()) + sub).ok());
  now_ += 3 * kDay + 20;
  EXPECT_EQ(billing->renew_due(), 1);
  EXPECT_EQ(status(billing->subscription("usr_a")), "expired");
  ASSERT_TRUE(event(*billing, "id=evt_8&type=subscription_deleted&state=ended&created=" + std::to_string(now_.load()) + sub).ok());
  EXPECT_EQ(billing->plan_for("usr_a").name, "free");
  // An older "paid" that arrives after the end revives nothing.
  ASSERT_TRUE(event(*billing, "id=evt_9&type=invoice_paid&state=active&created=" + std::to_string(end2 - 5) + sub +
                                  "&period_end=" + std::to_string(end2 + 30 * kDay)).ok());
  EXPECT_EQ(status(billing->subscription("usr_a")), "expired");

  EXPECT_EQ(new_mail(), sorted({"Your premium plan is active", "Auto-renew is off", "Auto-renew is on",
                                                  "The payment for your premium plan has not come through",
                                                  "Your premium plan was renewed",
                                                  "The payment for your premium plan has not come through",
                                                  "Your premium plan has ended"}));
  // A forged event, or one of nobody here, changes nothing.
  EXPECT_EQ(billing->receive_webhook("other_kinds", {{{"x-fixture-signature", "guess"}}, "id=evt_x&type=invoice_paid"})
                .outcome()
                .status(),
            sdk::Status::permission_denied);
  EXPECT_EQ(event(*billing, "id=evt_y&type=invoice_paid&state=active&customer=cus_other&subscription=sub_other").value(),
            WebhookResult::ignored);
  EXPECT_EQ(billing->receive_webhook("payment_manual", {{}, ""}).outcome().status(), sdk::Status::not_found);
}

TEST_P(BillingTest, StaffRevokeAProcessorsSubscriptionThere) {
  const auto billing = make_billing("other_kinds");
  ASSERT_TRUE(billing->start_checkout("usr_a", "premium", "op1").ok());
  ASSERT_TRUE(event(*billing, "id=evt_0&type=checkout_completed&state=active&user_id=usr_a&customer=cus_usr_a&subscription=sub_9"
                              "&plan=premium&created=" + std::to_string(now_.load()) + "&period_end=" + std::to_string(now_.load() + 30 * kDay))
                  .ok());
  ASSERT_EQ(billing->revoke("usr_a").value(), "premium");
  EXPECT_EQ(queued_calls(), std::vector<std::string>{"cancel_subscription sub_9"});
  // A staff grant on a card processor is the entitlement alone: nothing is asked of it.
  ASSERT_TRUE(billing->grant("usr_a", "premium", 1).ok());
  EXPECT_FALSE(billing->subscription("usr_a").auto_renew);
  EXPECT_EQ(queued_calls().size(), 1u);
  jobs::JobRunner runner(*calls_, *database_, [&](const jobs::Job& job, std::stop_token) { return billing->run_processor_call(job); });
  EXPECT_TRUE(runner.run_one("test"));
  EXPECT_TRUE(queued_calls().empty());
}

// Periods staff grant to someone who pays by card are theirs: the card subscription ending
// leaves them.
TEST_P(BillingTest, AGrantOnTopOfACardSubscriptionOutlivesIt) {
  const auto billing = make_billing("other_kinds");
  ASSERT_TRUE(billing->start_checkout("usr_a", "premium", "op1").ok());
  const std::int64_t t0 = now_.load();
  ASSERT_TRUE(event(*billing, "id=evt_0&type=invoice_paid&state=active&customer=cus_usr_a&subscription=sub_9&plan=premium&created=" +
                                  std::to_string(t0) + "&period_end=" + std::to_string(t0 + 30 * kDay)).ok());
  ASSERT_TRUE(billing->grant("usr_a", "premium", 1).ok());
  EXPECT_EQ(billing->subscription("usr_a").paid_through, t0 + 60 * kDay);
  now_ += 10 * kDay;
  ASSERT_TRUE(event(*billing, "id=evt_1&type=subscription_deleted&state=ended&customer=cus_usr_a&subscription=sub_9&created=" +
                                  std::to_string(now_.load())).ok());
  const auto left = billing->subscription("usr_a");
  EXPECT_EQ(status(left), "active");
  EXPECT_EQ(left.plan, "premium");
  EXPECT_EQ(left.paid_through, now_.load() + 30 * kDay);  // the granted period, from now
  EXPECT_FALSE(left.auto_renew);
}

// Two nodes receive the same event at the same moment (the processor retried, or a load
// balancer sent it twice): one applies it, the other finds it applied.
TEST_P(BillingTest, AnEventDeliveredToTwoNodesAtOnceAppliesOnce) {
  auto second_database = test_database_->open_migrated();
  const auto node_a = make_billing("other_kinds");
  const auto node_b = make_billing("other_kinds", second_database.get());
  ASSERT_TRUE(node_a->start_checkout("usr_a", "premium", "op1").ok());
  const std::string fields = "id=evt_once&type=invoice_paid&state=active&customer=cus_usr_a&subscription=sub_9&plan=premium&created=" +
                             std::to_string(now_.load()) + "&period_end=" + std::to_string(now_.load() + 30 * kDay);
  std::vector<std::thread> deliveries;
  std::atomic<int> applied{0}, duplicates{0};
  for (int i = 0; i < 8; ++i) {
    deliveries.emplace_back([&, i] {
      const auto result = event(i % 2 ? *node_a : *node_b, fields);
      ASSERT_TRUE(result.ok()) << result.outcome().message();
      (result.value() == WebhookResult::applied ? applied : duplicates)++;
    });
  }
  for (auto& delivery : deliveries) delivery.join();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(duplicates.load(), 7);
  EXPECT_EQ(new_mail(), std::vector<std::string>{"Your premium plan is active"});
}

INSTANTIATE_TEST_SUITE_P(Backends, BillingTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::billing
