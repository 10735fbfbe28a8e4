// Plans and subscriptions end to end: the default plan's limits, an admin granting Premium
// through the manual processor, auto-renew off and on.
#include <thread>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

class BillingEndToEnd : public EndToEnd {
 protected:
  // A strict free plan: 4 seconds, 640 pixels, one job at a time, three videos a day.
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    std::string config = testing::server_config(dir.path(), "", database_->options().url);
    const auto free_plan = config.find("[plans.free]");
    const auto premium = config.find("[plans.premium]");
    config.replace(free_plan, premium - free_plan,
                   "[plans.free]\nmax_seconds = 4\nmax_side = 640\nvideos_per_day = 3\nconcurrent_jobs = 1\nwatermark = true\n");
    server = std::make_unique<testing::RunningServer>(config);
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
};

TEST_P(BillingEndToEnd, FreePlanLimitsThenPremiumGrantedByAnAdmin) {
  const std::string alice = member("Alice", "alice@example.org");
  auto subscription = json_of(call("GET", "/v1/subscription", "", bearer(alice)));
  EXPECT_EQ(subscription.at("plan"), "free");
  EXPECT_EQ(subscription.at("status"), "none");
  EXPECT_EQ(subscription.at("entitlements").at("watermark"), true);

  // Field limits name the field; a second job at once and the fourth of the day are 429.
  const auto too_long = call("POST", "/v1/videos", R"({"prompt":"x","seconds":"8","size":"640x360"})", bearer(alice));
  EXPECT_EQ(too_long.status, 422);
  EXPECT_NE(too_long.body.find("your plan (free) allows at most 4"), std::string::npos) << too_long.body;
  EXPECT_EQ(call("POST", "/v1/videos", R"({"prompt":"x","seconds":"1","size":"1280x720"})", bearer(alice)).status, 422);
  const auto first = json_of(call("POST", "/v1/videos", R"({"prompt":"one","seconds":"4","size":"640x360"})", bearer(alice)));
  const auto busy = call("POST", "/v1/videos", R"({"prompt":"two","seconds":"1","size":"640x360"})", bearer(alice));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(json_of(busy).at("error").at("code"), "plan_limit");  // OpenAI's error shape on its routes
  EXPECT_EQ(busy.header("retry-after"), "10");                      // poll: a slot frees when a video ends
  const auto wait_done = [&](const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      const auto status = json_of(call("GET", "/v1/videos/" + id, "", bearer(alice))).at("status");
      if (status == "completed" || status == "failed") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  wait_done(std::string(first.at("id").as_string()));
  for (int i = 0; i < 2; ++i) {
    const auto made = call("POST", "/v1/videos", R"({"prompt":"more","seconds":"1","size":"640x360"})", bearer(alice));
    ASSERT_EQ(made.status, 200) << made.body;
    wait_done(std::string(json_of(made).at("id").as_string()));
  }
  const auto daily = call("POST", "/v1/videos", R"({"prompt":"fourth","seconds":"1","size":"640x360"})", bearer(alice));
  EXPECT_EQ(daily.status, 429);
  // The day's limit frees when the first of the three leaves the 24-hour window.
  const int retry_after = std::stoi(daily.header("retry-after"));
  EXPECT_GT(retry_after, 24 * 3600 - 120);
  EXPECT_LE(retry_after, 24 * 3600);

  // Auto-renew needs an active subscription.
  EXPECT_EQ(call("PATCH", "/v1/subscription", R"({"auto_renew":false})", bearer(alice)).status, 409);

  // An admin grants Premium for two periods.
  const std::string admin = administrator();
  const std::string alice_id(json_of(call("GET", "/v1/me", "", bearer(alice))).at("id").as_string());
  EXPECT_EQ(call("POST", "/v1/admin/users/" + alice_id + "/subscription", R"({"plan":"premium"})", bearer(alice)).status, 403);
  EXPECT_EQ(call("POST", "/v1/admin/users/" + alice_id + "/subscription", R"({"plan":"gold"})", bearer(admin)).status, 422);
  const auto granted = call("POST", "/v1/admin/users/" + alice_id + "/subscription", R"({"plan":"premium","periods":2})",
                            bearer(admin));
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(json_of(granted).at("plan"), "premium");
  EXPECT_EQ(json_of(granted).at("prepaid_periods"), 1);

  subscription = json_of(call("GET", "/v1/subscription", "", bearer(alice)));
  EXPECT_EQ(subscription.at("status"), "active");
  EXPECT_EQ(subscription.at("auto_renew"), true);
  EXPECT_EQ(subscription.at("entitlements").at("watermark"), false);
  // Premium lifts the daily limit that free had reached.
  EXPECT_EQ(call("POST", "/v1/videos", R"({"prompt":"premium","seconds":"8","size":"1280x720"})", bearer(alice)).status, 200);

  // Auto-renew off keeps Premium until the period ends, and can be undone.
  const auto off = json_of(call("PATCH", "/v1/subscription", R"({"auto_renew":false})", bearer(alice)));
  EXPECT_EQ(off.at("auto_renew"), false);
  EXPECT_EQ(off.at("plan"), "premium");
  EXPECT_EQ(json_of(call("PATCH", "/v1/subscription", R"({"auto_renew":true})", bearer(alice))).at("auto_renew"), true);
  EXPECT_EQ(call("PATCH", "/v1/subscription", R"({"auto_renew":"yes"})", bearer(alice)).status, 422);

  // The command line grants too.
  const std::string bob = member("Bob", "bob@example.org");
  const auto cli = testing::run_command({FRAMEHOUSE_BINARY, "admin", "grant", "--config", server->config_file().string(),
                                         "--email", "BOB@example.org", "--plan", "premium", "--periods", "3"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  const auto bobs = json_of(call("GET", "/v1/subscription", "", bearer(bob)));
  EXPECT_EQ(bobs.at("plan"), "premium");
  EXPECT_EQ(bobs.at("prepaid_periods"), 2);

  // A grant made in error is revoked, with a reason, re-authenticated; over HTTP and the CLI.
  const std::string bob_id(json_of(call("GET", "/v1/me", "", bearer(bob))).at("id").as_string());
  EXPECT_EQ(call("DELETE", "/v1/admin/users/" + bob_id + "/subscription", "{}", bearer(admin)).status, 422);  // no reason
  const auto revoked = call("DELETE", "/v1/admin/users/" + bob_id + "/subscription", R"({"reason":"granted to the wrong Bob"})",
                            bearer(admin));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(json_of(revoked).at("plan"), "free");
  EXPECT_EQ(json_of(call("GET", "/v1/subscription", "", bearer(bob))).at("plan"), "free");
  EXPECT_EQ(call("DELETE", "/v1/admin/users/" + bob_id + "/subscription", R"({"reason":"again"})", bearer(admin)).status, 409);
  const auto cli_revoke = testing::run_command({FRAMEHOUSE_BINARY, "admin", "revoke-plan", "--config",
                                                server->config_file().string(), "--email", "alice@example.org", "--reason",
                                                "payment reversed"});
  EXPECT_EQ(cli_revoke.exit_code, 0) << cli_revoke.err;
  EXPECT_EQ(json_of(call("GET", "/v1/subscription", "", bearer(alice))).at("plan"), "free");
  const auto log = json_of(call("GET", "/v1/admin/audit?limit=100", "", bearer(admin)));
  std::string revocations;
  for (const auto& entry : log.at("data").as_array()) {
    if (entry.at("action") == "admin.revoke_plan") revocations += boost::json::serialize(entry) + "\n";
  }
  EXPECT_NE(revocations.find("granted to the wrong Bob"), std::string::npos) << revocations;
  EXPECT_NE(revocations.find("payment reversed"), std::string::npos) << revocations;

  // The manual processor keeps a customer record for the admin's invoices: no card data. The
  // revocation (queued by the command line, made by the server's workers) told it: it renews
  // nothing.
  const auto customers_file = dir.path() / "var" / "plugins" / "payment_manual" / "customers.json";
  std::string customers;
  for (int i = 0; i < 200; ++i) {
    customers = testing::read_file(customers_file);
    if (customers.find("\"sub_" + alice_id + "\":false") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(customers.find("manual_" + alice_id), std::string::npos);
  EXPECT_NE(customers.find("\"sub_" + alice_id + "\":false"), std::string::npos) << customers;
}

INSTANTIATE_TEST_SUITE_P(Backends, BillingEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
