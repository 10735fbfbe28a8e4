// Premium paid through Stripe, end to end: the real binary with payment_stripe, and a local
// stand-in of the Stripe API (tests/compat/stripe_api) that answers in Stripe's form-encoded
// protocol, keeps idempotency keys, and sends events back to the server signed by the official
// stripe package — checkout, renewals, a failed one, auto-renew, replays, out-of-order events,
// and erasure deleting the customer at Stripe.
#include <algorithm>
#include <thread>

#include "e2e/end_to_end.hpp"
#include "support/stripe_api.hpp"

namespace framehouse {
namespace {

namespace json = boost::json;

constexpr const char* kWebhookSecret = "whsec_framehouse_end_to_end_0123456789abcdef";

class StripeEndToEnd : public EndToEnd {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StripeApi::installed()) << "run `npm ci` in tests/compat/stripe_api (deploy/setup.sh test does)";
    FRAMEHOUSE_SETUP_DATABASE(database_);
    const std::uint16_t port = testing::free_loopback_port();
    stripe_ = std::make_unique<testing::StripeApi>("http://127.0.0.1:" + std::to_string(port) + "/v1/billing/webhooks/payment_stripe",
                                                   kWebhookSecret);
    ASSERT_TRUE(stripe_->running()) << stripe_->startup_error();
    server = std::make_unique<testing::RunningServer>(node_config(dir.path(), port));
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }

  // A node's configuration with payment_stripe against the stand-in: its own data directory
  // and port, the database and the master key shared with every other node.
  std::string node_config(const std::filesystem::path& data, std::uint16_t port) {
    std::string config = testing::listening_on(
        testing::server_config(data, "public_url = \"http://127.0.0.1:" + std::to_string(port) + "\"\n", database_->options().url), port);
    // Stripe's events are larger than the other tests' bodies.
    replace(config, "max_body_bytes = 4096", "max_body_bytes = 65536");
    replace(config, "[billing]\nplugin = \"payment_manual\"\n", "[billing]\nplugin = \"payment_stripe\"\n");
    // The key as a file: secret, readable by the server and its command line alike.
    const auto key_file = data / "stripe-key";
    testing::write_file(key_file, testing::kStripeApiKey);
    std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    replace(config, "[plugins.payment_manual]\n",
            "[plugins.payment_stripe]\napi_key = \"file:" + key_file.string() + "\"\nwebhook_secret = \"" + kWebhookSecret +
                "\"\napi_base_url = \"" + stripe_->base_url() + "\"\nprices = [\"premium=" + testing::kStripePrice + "\"]\n");
    return config + "[privacy]\nmaster_key = \"" + std::string(64, 'b') + "\"\n";
  }

  static void replace(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "the test configuration has no " << from;
      return;
    }
    text.replace(at, from.size(), to);
  }

  // The stand-in's deliveries of one control, each as the server answered it.
  static std::vector<std::pair<int, std::string>> answers(const json::value& control) {
    std::vector<std::pair<int, std::string>> out;
    for (const auto& delivery : control.at("deliveries").as_array()) {
      const std::string body(delivery.at("body").as_string());
      boost::system::error_code error;
      const auto parsed = json::parse(body, error);
      out.emplace_back(static_cast<int>(delivery.at("status").as_int64()),
                       !error && parsed.is_object() && parsed.as_object().contains("result")
                           ? std::string(parsed.at("result").as_string())
                           : body);
    }
    return out;
  }

  // Waits (10 s at most) for a request to `path` whose form has `field` = `value`; returns it.
  json::object wait_for_request(const std::string& path, const std::string& field, const std::string& value) {
    for (int i = 0; i < 200; ++i) {
      for (const auto& request : stripe_->requests()) {
        const auto& form = request.at("form").as_object();
        if (request.at("path").as_string() == path && form.contains(field) && form.at(field).as_string() == value) {
          return request.as_object();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {};
  }

  json::object subscription_of(const std::string& token) { return json_of(call("GET", "/v1/subscription", "", bearer(token))); }

  std::vector<std::string> subjects_to(const std::string& address) {
    std::vector<std::string> subjects;
    for (const auto& mail : testing::messages_to(outbox(), address)) subjects.push_back(mail.subject);
    return subjects;
  }

  std::unique_ptr<testing::StripeApi> stripe_;
};

TEST_P(StripeEndToEnd, CheckoutRenewalsAFailedRenewalAndErasure) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string alice_id(json_of(call("GET", "/v1/me", "", bearer(alice))).at("id").as_string());
  auto current = subscription_of(alice);
  EXPECT_EQ(current.at("checkout_available"), true);
  EXPECT_EQ(current.at("plans_for_sale"), json::array{"premium"});

  // Checkout: a customer first (our id as its metadata), then the session; the same
  // Idempotency-Key again is the same session (Stripe answers it from the first).
  const auto started = call("POST", "/v1/billing/checkout", R"({"plan":"premium"})", {{"Authorization", "Bearer " + alice}, {"Content-Type", "application/json"}, {"Idempotency-Key", "try-1"}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string session_id(json_of(started).at("id").as_string());
  EXPECT_NE(json_of(started).at("url").as_string().find("/pay/" + session_id), std::string::npos);
  const auto again = call("POST", "/v1/billing/checkout", R"({"plan":"premium"})", {{"Authorization", "Bearer " + alice}, {"Content-Type", "application/json"}, {"Idempotency-Key", "try-1"}});
  EXPECT_EQ(std::string(json_of(again).at("id").as_string()), session_id);
  EXPECT_EQ(call("POST", "/v1/billing/checkout", R"({"plan":"gold"})", bearer(alice)).status, 422);
  const auto customer_made = wait_for_request("/v1/customers", "email", "alice@example.org");
  ASSERT_FALSE(customer_made.empty());
  EXPECT_EQ(std::string(customer_made.at("form").at("metadata").at("user_id").as_string()), alice_id);
  // Nothing is active on the way back from Stripe's page: only a verified event counts.
  EXPECT_EQ(subscription_of(alice).at("plan"), "free");

  // Alice pays; Stripe sends the invoice before the checkout's completion.
  const auto paid = stripe_->control("POST", "/test/checkout/" + session_id + "/pay?invoice_first=1");
  const std::string subscription_id(paid.at("subscription").as_string());
  EXPECT_EQ(answers(paid), (std::vector<std::pair<int, std::string>>{{200, "applied"}, {200, "applied"}}));
  current = subscription_of(alice);
  EXPECT_EQ(current.at("plan"), "premium");
  EXPECT_EQ(current.at("status"), "active");
  EXPECT_EQ(current.at("auto_renew"), true);
  EXPECT_EQ(current.at("billed_by_processor"), true);
  EXPECT_EQ(current.at("checkout_available"), false);
  EXPECT_EQ(current.at("payment_portal_available"), true);
  const std::int64_t first_end = current.at("paid_through").as_int64();
  EXPECT_NEAR(static_cast<double>(first_end - std::time(nullptr)), 30.0 * 24 * 3600, 120.0);
  EXPECT_EQ(call("POST", "/v1/billing/checkout", R"({"plan":"premium"})", bearer(alice)).status, 409);  // paid already
  const auto portal = call("POST", "/v1/billing/portal", "", bearer(alice));
  ASSERT_EQ(portal.status, 200) << portal.body;
  EXPECT_NE(json_of(portal).at("url").as_string().find("/portal/cus_"), std::string::npos);

  // Stripe sends an event again (it does, until it sees a 2xx): applied once only.
  const std::string first_event(paid.at("deliveries").at(0).at("id").as_string());
  EXPECT_EQ(answers(stripe_->control("POST", "/test/events/" + first_event + "/resend")),
            (std::vector<std::pair<int, std::string>>{{200, "duplicate"}}));
  // A forged or stale signature is a 400 and changes nothing.
  const std::string forged_body = R"({"id":"evt_forged","object":"event","type":"customer.subscription.deleted","created":1,)"
                                  R"("data":{"object":{"id":")" + subscription_id + R"(","object":"subscription","status":"canceled"}}})";
  const auto forged = call("POST", "/v1/billing/webhooks/payment_stripe", forged_body,
                           {{"Content-Type", "application/json"}, {"Stripe-Signature", "t=1,v1=" + std::string(64, '0')}});
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(forged.header("content-type"), "application/problem+json");
  EXPECT_EQ(call("POST", "/v1/billing/webhooks/payment_stripe", forged_body, {{"Content-Type", "application/json"}}).status, 400);
  EXPECT_EQ(subscription_of(alice).at("status"), "active");
  EXPECT_EQ(server->process->stderr_text().find("evt_forged\",\"object\""), std::string::npos);  // the body is never logged

  // Auto-renew off in the app: Stripe is told (cancel_at_period_end, with our key), confirms
  // with an event; an older event saying the opposite arrives after it and changes nothing.
  ASSERT_EQ(call("PATCH", "/v1/subscription", R"({"auto_renew":false})", bearer(alice)).status, 200);
  const auto told = wait_for_request("/v1/subscriptions/" + subscription_id, "cancel_at_period_end", "true");
  ASSERT_FALSE(told.empty()) << json::serialize(stripe_->requests());
  EXPECT_EQ(told.at("idempotency_key").as_string().rfind("framehouse-", 0), 0u);
  EXPECT_EQ(told.at("stripe_version"), "2025-08-27.basil");
  const auto stale = stripe_->control("POST", "/test/subscriptions/" + subscription_id + "/stale-update?cancel_at_period_end=false&created=" +
                                                  std::to_string(std::time(nullptr) - 3600));
  EXPECT_EQ(answers(stale).at(0).first, 200);
  current = subscription_of(alice);
  EXPECT_EQ(current.at("auto_renew"), false);
  EXPECT_EQ(current.at("paid_through"), first_end);  // it ends then, not earlier
  ASSERT_EQ(call("PATCH", "/v1/subscription", R"({"auto_renew":true})", bearer(alice)).status, 200);
  ASSERT_FALSE(wait_for_request("/v1/subscriptions/" + subscription_id, "cancel_at_period_end", "false").empty());

  // The period ends and Stripe charges the card: renewed for another period.
  EXPECT_EQ(answers(stripe_->control("POST", "/test/subscriptions/" + subscription_id + "/renew")).at(0).first, 200);
  current = subscription_of(alice);
  EXPECT_EQ(current.at("paid_through").as_int64(), first_end + 30 * 24 * 3600);
  // The next charge is declined (Stripe runs ahead of this server's clock): what was paid is
  // kept, then the grace period while Stripe retries...
  EXPECT_EQ(answers(stripe_->control("POST", "/test/subscriptions/" + subscription_id + "/renew?fail=1")).at(0).first, 200);
  current = subscription_of(alice);
  EXPECT_EQ(current.at("plan"), "premium");
  EXPECT_EQ(current.at("paid_through").as_int64(), first_end + 30 * 24 * 3600);
  EXPECT_EQ(current.at("grace_until"), current.at("paid_through").as_int64() + 3 * 24 * 3600) << json::serialize(current);
  // ...and when Stripe gives up, it ends.
  EXPECT_EQ(answers(stripe_->control("POST", "/test/subscriptions/" + subscription_id + "/give-up")).at(0).first, 200);
  current = subscription_of(alice);
  EXPECT_EQ(current.at("plan"), "free");
  EXPECT_EQ(current.at("status"), "expired");
  EXPECT_EQ(current.at("checkout_available"), true);

  const auto subjects = subjects_to("alice@example.org");
  for (const char* expected : {"Your premium plan is active", "Auto-renew is off", "Auto-renew is on", "Your premium plan was renewed",
                               "The payment for your premium plan has not come through", "Your premium plan has ended"}) {
    EXPECT_NE(std::find(subjects.begin(), subjects.end(), expected), subjects.end()) << expected;
  }

  // Erasure deletes the customer at Stripe, with the card details it holds.
  const auto deletion = call("DELETE", "/v1/me", "", bearer(alice));
  ASSERT_EQ(deletion.status, 202) << deletion.body;
  const std::string admin = administrator();
  const std::string request_id(json_of(deletion).at("id").as_string());
  json::object erasure;
  for (int i = 0; i < 400; ++i) {
    erasure = json_of(call("GET", "/v1/admin/privacy/requests/" + request_id, "", bearer(admin)));
    if (erasure.at("status") == "completed" || erasure.at("status") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(erasure.at("status"), "completed") << json::serialize(erasure);
  std::string deleted_customer;
  for (const auto& request : stripe_->requests()) {
    const std::string path(request.at("path").as_string());
    if (request.at("method") == "DELETE" && path.rfind("/v1/customers/", 0) == 0 && request.at("status") == 200) {
      deleted_customer = path.substr(std::string("/v1/customers/").size());
    }
  }
  ASSERT_FALSE(deleted_customer.empty()) << json::serialize(stripe_->requests());
  const auto at_stripe = stripe_->control("GET", "/test/customers/" + deleted_customer).as_object();
  EXPECT_EQ(at_stripe.at("deleted"), true);
  EXPECT_FALSE(at_stripe.contains("email"));
  EXPECT_FALSE(at_stripe.contains("metadata"));
}

// Stripe delivers one event to two nodes behind a balancer, twice each, at the same moment
// (a retry racing the first delivery): it applies once — one period more, one mail.
TEST_P(StripeEndToEnd, AnEventDeliveredToTwoNodesAtOnceAppliesOnce) {
  if (GetParam() == db::Backend::sqlite) GTEST_SKIP() << "two nodes share a PostgreSQL database";
  // Carol signs up before the second node starts: its mail worker would take her confirmation
  // link into its own outbox folder.
  const std::string carol = member("Carol", "carol@example.org");
  ASSERT_FALSE(carol.empty());
  testing::TempDir other_data;
  const std::uint16_t other_port = testing::free_loopback_port();
  testing::RunningServer other(node_config(other_data.path(), other_port));
  ASSERT_NE(other.port, 0) << other.process->stderr_text();

  const auto started = call("POST", "/v1/billing/checkout", R"({"plan":"premium"})", bearer(carol));
  ASSERT_EQ(started.status, 201) << started.body;
  const auto paid = stripe_->control("POST", "/test/checkout/" + std::string(json_of(started).at("id").as_string()) + "/pay");
  const std::string subscription_id(paid.at("subscription").as_string());
  const std::int64_t first_end = subscription_of(carol).at("paid_through").as_int64();

  const auto renewal = stripe_->control("POST", "/test/subscriptions/" + subscription_id + "/renew?hold=1");
  const std::string invoice_paid(renewal.at("events").at(0).as_string());
  const std::string hook = "/v1/billing/webhooks/payment_stripe";
  const std::string node_a = "http://127.0.0.1:" + std::to_string(server->port) + hook;
  const std::string node_b = "http://127.0.0.1:" + std::to_string(other.port) + hook;
  const auto delivered = answers(stripe_->control("POST", "/test/events/" + invoice_paid + "/deliver?to=" + node_a + "," + node_b + "," +
                                                              node_a + "," + node_b));
  int applied = 0, duplicates = 0;
  for (const auto& [status, result] : delivered) {
    EXPECT_EQ(status, 200) << result;
    applied += result == "applied";
    duplicates += result == "duplicate";
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(duplicates, 3);
  // Either node answers the same: one period more.
  EXPECT_EQ(subscription_of(carol).at("paid_through").as_int64(), first_end + 30 * 24 * 3600);
  EXPECT_EQ(json_of(testing::http_request(other.port, "GET", "/v1/subscription", "", bearer(carol))).at("paid_through").as_int64(),
            first_end + 30 * 24 * 3600);
  // The notice went out once, by whichever node's mail worker took it.
  testing::wait_for_queues(other.port);
  auto subjects = subjects_to("carol@example.org");
  for (const auto& mail : testing::messages_to(other_data.path() / "var/plugins/email_outbox/outbox", "carol@example.org")) {
    subjects.push_back(mail.subject);
  }
  EXPECT_EQ(std::count(subjects.begin(), subjects.end(), "Your premium plan was renewed"), 1) << subjects.size();
}

// The same from the app, in Chromium: subscribe, pay on Stripe's page, come back to Premium, and
// the portal for the card (tests/compat/browser/checkout.mjs).
TEST_P(StripeEndToEnd, APersonSubscribesInTheApp) {
  const std::filesystem::path browser_dir = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/browser";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Chromium is missing (deploy/setup.sh test installs it)";
  ASSERT_TRUE(std::filesystem::exists(browser_dir / "node_modules/playwright-core")) << "run `npm ci` in " << browser_dir;
  const std::string bob = member("Bob", "bob@example.org");
  std::vector<std::string> env = {"ORIGIN=http://127.0.0.1:" + std::to_string(server->port), "EMAIL=bob@example.org",
                                  "PASSWORD=" + kPassword};
  if (GetParam() == db::Backend::sqlite) env.push_back("SCREENSHOTS=" + std::string(FRAMEHOUSE_SOURCE_DIR) + "/docs/screenshots");
  const auto run = testing::run_command({"/usr/bin/node", (browser_dir / "checkout.mjs").string()}, env);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto result = json::parse(run.out).as_object();
  EXPECT_NE(result.at("before").as_string().find("No subscription"), json::string::npos) << result;
  EXPECT_NE(result.at("checkout").as_string().find(stripe_->base_url() + "/pay/cs_test_"), json::string::npos) << result;
  EXPECT_NE(result.at("after").as_string().find("premium"), json::string::npos) << result;
  EXPECT_NE(result.at("after").as_string().find("Active"), json::string::npos) << result;
  EXPECT_NE(result.at("portal").as_string().find(stripe_->base_url() + "/portal/cus_"), json::string::npos) << result;
  EXPECT_TRUE(result.at("violations").as_array().empty()) << result;
  EXPECT_TRUE(result.at("errors").as_array().empty()) << result;
  EXPECT_EQ(subscription_of(bob).at("plan"), "premium");
}

INSTANTIATE_TEST_SUITE_P(Backends, StripeEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
