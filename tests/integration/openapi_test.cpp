// docs/openapi.yaml describes exactly the routes the server registers.
#include <algorithm>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "app/routes.hpp"
#include "support/process.hpp"
#include "web/assets.hpp"
#include "web/routes.hpp"

namespace framehouse::app {
namespace {

TEST(OpenApi, EveryRouteIsDescribedAndEveryDescribedRouteExists) {
  testing::TempDir dir;
  db::Database database(db::DatabaseOptions{"sqlite:" + (dir.path() / "db.sqlite").string()});
  database.migrate(db::server_migrations());
  observability::Metrics metrics;
  plugins::PluginHost host(metrics, dir.path());
  jobs::JobQueue outbox(database, metrics, {mail::kOutboxQueue});
  mail::Mailer mailer(database, outbox, "noreply@example.org");
  accounts::AccountsConfig config;
  config.password_cost = {1, 8 * 1024};
  accounts::Accounts accounts(database, mailer, config);
  storage::DataKeys keys(database, storage::MasterKey{1});
  storage::ObjectStore objects(host, nullptr, keys);
  video::Uploads uploads(database, objects, {});
  video::Videos videos(database, host, objects, metrics, {.data_dir = dir.path().string()});
  jobs::JobQueue payment_calls(database, metrics, billing::processor_call_queue());
  billing::Billing billing(database, host, nullptr, {billing::default_plans()}, mailer, payment_calls);
  privacy::CoreParticipant core({});
  privacy::Participants participants(host, core, std::chrono::seconds(1));
  const auto signer = privacy::ReceiptSigner::from_seed({});
  audit::AuditLog audit_log(database);
  privacy::PrivacyRequests privacy(database, participants, accounts, objects, mailer, signer, metrics, audit_log, {});
  jobs::JobQueue announcements(database, metrics, {privacy::kAnnouncementQueue});
  privacy::Communications communications(database, accounts, mailer, announcements, host, nullptr, "", "");
  privacy::Disclosures disclosures(database);
  privacy::Analytics analytics(database, 10, "free");
  sso::SignIns sign_ins(database, accounts, {}, "", 13);
  http::Router router;
  add_routes(router, Services{database, host, metrics, accounts, billing, uploads, videos, privacy, objects, audit_log, communications,
                              nullptr, participants, disclosures, analytics, outbox, sign_ins});
  const web::Assets app_files(web::embedded_files());
  web::add_web_routes(router, app_files, {"Framehouse"});

  const auto document = boost::json::parse(openapi_json()).as_object();
  EXPECT_EQ(document.at("openapi"), "3.1.0");
  const auto& paths = document.at("paths").as_object();
  std::set<std::pair<std::string, std::string>> served;
  for (auto [method, pattern] : router.routes()) {
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
    served.emplace(method, pattern);
    const auto* path = paths.if_contains(pattern);
    ASSERT_NE(path, nullptr) << pattern << " is missing from docs/openapi.yaml";
    EXPECT_TRUE(path->as_object().contains(method)) << method << " " << pattern << " is missing from docs/openapi.yaml";
  }
  for (const auto& [pattern, operations] : paths) {
    for (const auto& [method, operation] : operations.as_object()) {
      EXPECT_TRUE(served.count({std::string(method), std::string(pattern)}))
          << method << " " << pattern << " is described but not served";
    }
  }
}

}  // namespace
}  // namespace framehouse::app
