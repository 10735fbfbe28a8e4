// Loading the whole configuration before anything starts: the file is parsed, the core's
// sections and every enabled plugin's section (against the schema in that plugin's manifest,
// read from its file without running it) are validated, and every problem is returned at
// once.
#pragma once

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "accounts/accounts.hpp"
#include "sso/oidc.hpp"
#include "billing/billing.hpp"
#include "config/schema.hpp"
#include "db/database.hpp"
#include "http/server.hpp"
#include "jobs/job_queue.hpp"
#include "mail/delivery.hpp"
#include "mail/mailer.hpp"
#include "observability/log.hpp"
#include "plugins/host.hpp"
#include "video/uploads.hpp"
#include "privacy/policy.hpp"
#include "privacy/requests.hpp"
#include "video/videos.hpp"

namespace framehouse::app {

struct PluginToLoad {
  plugins::PluginDeclaration declaration;
  plugins::PluginManifest manifest;
};

struct AppConfig {
  std::filesystem::path file;
  http::ServerOptions server;
  int handler_threads = 8;
  std::size_t handler_queue = 256;
  int cpu_threads = 1;
  std::string public_url;  // empty: the URL the server listens at
  std::string app_name = "Framehouse";  // what the web app calls itself
  std::filesystem::path data_dir;
  observability::LogLevel log_level = observability::LogLevel::info;
  observability::LogFormat log_format = observability::LogFormat::text;
  db::DatabaseOptions database;
  std::vector<PluginToLoad> plugins;  // enabled ones, in declaration order
  std::string storage_plugin;
  std::string email_plugin;
  std::string email_from;
  jobs::QueueOptions outbox{mail::kOutboxQueue};
  mail::DeliveryConfig delivery;
  // How long the record of a settled job stays (a sent or failed message, an announcement, a
  // finished video's job); never its payload.
  std::chrono::seconds keep_job_records{std::chrono::hours(24 * 7)};
  accounts::AccountsConfig accounts;
  std::vector<sso::ProviderConfig> sso_providers;
  video::UploadsConfig uploads;
  video::VideoConfig video;
  billing::BillingConfig billing;
  std::string payment_plugin;
  privacy::PrivacyConfig privacy;
  std::string master_key;          // empty: generated under data_dir/keys
  std::string retired_master_key;
  std::string receipt_signing_key;  // empty: generated under data_dir/keys
  std::chrono::milliseconds privacy_participant_timeout{600'000};
  std::optional<privacy::PolicyDocument> policy;
  int analytics_min_group = 10;
};

using LoadResult = std::variant<AppConfig, std::vector<config::ConfigError>>;

LoadResult load_configuration(const std::filesystem::path& file);

// Where plugin files are looked for when [plugins] directory is not set.
std::filesystem::path default_plugin_directory();

}  // namespace framehouse::app
