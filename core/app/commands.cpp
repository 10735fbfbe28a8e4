#include "app/commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <soci/soci.h>
#include <sodium.h>

#include "accounts/roles.hpp"
#include "accounts/validation.hpp"
#include "app/configuration.hpp"
#include "app/core_stores.hpp"
#include "app/periodic_task.hpp"
#include "app/routes.hpp"
#include "audit/audit_log.hpp"
#include "billing/billing.hpp"
#include "http/server.hpp"
#include "mail/delivery.hpp"
#include "mail/mailer.hpp"
#include "plugins/compatibility.hpp"
#include "privacy/participants.hpp"
#include "privacy/receipt_signer.hpp"
#include "privacy/requests.hpp"
#include "storage/data_keys.hpp"
#include "video/videos.hpp"
#include "storage/object_store.hpp"
#include "web/assets.hpp"
#include "web/routes.hpp"

namespace framehouse::app {
namespace {

using observability::Log;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// Returns the configuration, or prints every error and returns nothing.
std::optional<AppConfig> load_or_report(const std::filesystem::path& file) {
  auto loaded = load_configuration(file);
  if (auto* errors = std::get_if<std::vector<config::ConfigError>>(&loaded)) {
    for (const auto& error : *errors) std::cerr << error.to_string() << "\n";
    std::cerr << fmt::format("{}: {} configuration error{}\n", file.string(), errors->size(),
                             errors->size() == 1 ? "" : "s");
    return std::nullopt;
  }
  return std::get<AppConfig>(std::move(loaded));
}

void record_plugin_history(db::Database& database, const plugins::PluginHost& host) {
  soci::session session(database.pool());
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& plugin : host.plugins()) {
    const auto& manifest = plugin->manifest();
    const std::string interfaces = join(manifest.implements);
    const std::string personal_data = join(manifest.personal_data);
    const std::string third_party = manifest.processor ? manifest.processor->third_party : "";
    const std::string purpose = manifest.processor ? manifest.processor->purpose : "";
    session << "INSERT INTO plugin_history (name, version, interfaces, personal_data, third_party, purpose,"
               " first_loaded_at, last_loaded_at) VALUES (:name, :version, :interfaces, :personal_data,"
               " :third_party, :purpose, :first, :last)"
               " ON CONFLICT (name, version) DO UPDATE SET last_loaded_at = excluded.last_loaded_at,"
               " interfaces = excluded.interfaces, personal_data = excluded.personal_data,"
               " third_party = excluded.third_party, purpose = excluded.purpose",
        soci::use(plugin->name()), soci::use(manifest.version), soci::use(interfaces),
        soci::use(personal_data), soci::use(third_party), soci::use(purpose), soci::use(now), soci::use(now);
  }
}

// A 32-byte key from its configured text, or else from `file`, created with a fresh random key
// (owner-only) the first time. Returns nothing, with the reason printed, when neither works.
std::optional<storage::MasterKey> load_or_create_key(const std::string& configured, const std::filesystem::path& file,
                                                     const char* what) {
  if (!configured.empty()) return storage::parse_master_key(configured);
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::filesystem::permissions(file.parent_path(), std::filesystem::perms::owner_all, ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string fresh = privacy::ReceiptSigner::generate_seed();
    const bool written = ::write(fd, fresh.data(), fresh.size()) == static_cast<ssize_t>(fresh.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      std::filesystem::remove(file, ec);
      Log::error("app", "cannot write a generated key", {{"key", what}, {"path", file.string()}});
      return std::nullopt;
    }
    Log::warn("app", "generated a key; in production set it in the configuration from a secret store",
              {{"key", what}, {"path", file.string()}});
  }
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  auto key = storage::parse_master_key(text);
  if (!key) Log::error("app", "a key file is unreadable or malformed", {{"key", what}, {"path", file.string()}});
  return key;
}

// What plugins' HostServices::secret_key() derive from: kept in the database, so that it is
// the same on every node and never in a plugin's directory.
constexpr const char* kPluginSecretRoot = "plugin_secret_root";

// Loads and starts the configured plugins; prints why and returns false when it cannot.
bool start_plugins(AppConfig& config, plugins::PluginHost& host) {
  for (auto& plugin : config.plugins) {
    const bool required = plugin.declaration.required;
    if (auto error = host.load(std::move(plugin.declaration), std::move(plugin.manifest))) {
      if (required) {
        std::cerr << *error << "\n";
        return false;
      }
      Log::error("plugins", "optional plugin skipped", {{"reason", *error}});
    }
  }
  if (auto error = host.start_all()) {
    std::cerr << *error << "\n";
    return false;
  }
  return true;
}

}  // namespace

int serve(const std::filesystem::path& config_file) {
  const auto started = std::chrono::steady_clock::now();
  auto loaded = load_or_report(config_file);
  if (!loaded) return 2;
  AppConfig& config = *loaded;
  Log::configure(config.log_level, config.log_format);
  if (sodium_init() < 0) {
    Log::error("app", "libsodium failed to initialise");
    return 1;
  }

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    Log::error("app", "cannot create the data directory", {{"path", config.data_dir.string()}, {"error", ec.message()}});
    return 1;
  }

  std::unique_ptr<db::Database> database;
  try {
    database = std::make_unique<db::Database>(config.database);
    const int applied = database->migrate(db::server_migrations());
    Log::info("db", "database ready",
              {{"backend", database->dialect().name()}, {"schema_version", std::to_string(database->schema_version())},
               {"migrations_applied", std::to_string(applied)}});
  } catch (const std::exception& error) {
    Log::error("db", "database unavailable", {{"error", error.what()}});
    return 1;
  }

  observability::Metrics metrics;
  plugins::PluginHost host(metrics, config.data_dir);
  host.set_secret_root(db::server_secret(*database, kPluginSecretRoot));
  if (!start_plugins(config, host)) return 1;
  try {
    record_plugin_history(*database, host);
  } catch (const std::exception& error) {
    Log::error("db", "cannot record the loaded plugins", {{"error", error.what()}});
    host.stop_all();
    return 1;
  }

  // Handlers that may block run here, never on the I/O threads; password hashing on its own
  // few threads, so that sign-ins cannot take every core (docs/architecture.md).
  workers::TaskProcessor handlers("handlers", config.handler_threads, config.handler_queue);
  workers::TaskProcessor cpu("cpu", config.cpu_threads, 1024);
  metrics.add_gauge("framehouse_handler_queue_depth", "Requests waiting for a handler thread.",
                    [&handlers] { return static_cast<double>(handlers.queued()); });
  metrics.add_gauge("framehouse_handler_threads_busy", "Handler threads running a request.",
                    [&handlers] { return static_cast<double>(handlers.busy()); });
  metrics.add_counter("framehouse_handler_rejected_total",
                      "Requests answered 503 because every handler thread was busy and the queue full.",
                      [&handlers] { return static_cast<double>(handlers.rejected()); });
  http::Router router;
  router.set_metrics(&metrics);
  http::Server server(config.server, router, &handlers);
  try {
    server.listen();
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    host.stop_all();
    return 1;
  }

  const auto master_key = load_or_create_key(config.master_key, config.data_dir / "keys" / "master.key", "privacy.master_key");
  const auto signing_seed =
      load_or_create_key(config.receipt_signing_key, config.data_dir / "keys" / "receipt-signing.key", "privacy.receipt_signing_key");
  if (!master_key || !signing_seed) {
    host.stop_all();
    return 1;
  }
  std::vector<storage::MasterKey> retired;
  if (!config.retired_master_key.empty()) retired.push_back(*storage::parse_master_key(config.retired_master_key));
  storage::DataKeys data_keys(*database, *master_key, retired);
  try {
    if (const auto rewrapped = data_keys.rewrap_retired(); rewrapped > 0) {
      Log::info("privacy", "data keys re-wrapped with the current master key", {{"count", std::to_string(rewrapped)}});
    }
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    host.stop_all();
    return 1;
  }
  const auto signer = privacy::ReceiptSigner::from_seed(*signing_seed);

  config.accounts.public_url = config.public_url.empty() ? server.url() : config.public_url;
  config.privacy.public_url = config.accounts.public_url;
  jobs::JobQueue outbox(*database, metrics, config.outbox);
  mail::Mailer mailer(*database, outbox, config.email_from);
  mail::Delivery delivery(*database, outbox, host, host.find(config.email_plugin), config.delivery);
  accounts::Accounts accounts(*database, mailer, config.accounts);
  accounts.hash_passwords_on(cpu);
  accounts.seal_secrets_with(data_keys);
  sso::SignIns sign_ins(*database, accounts, config.sso_providers, config.accounts.public_url, config.accounts.minimum_age);
  storage::ObjectStore objects(host, host.find(config.storage_plugin), data_keys);
  video::Uploads uploads(*database, objects, config.uploads);
  std::optional<video::Videos> engines_ready;
  try {
    engines_ready.emplace(*database, host, objects, metrics, config.video);
  } catch (const std::runtime_error& error) {
    std::cerr << config_file.string() << ": " << error.what() << "\n";
    host.stop_all();
    return 1;
  }
  video::Videos& videos = *engines_ready;
  config.billing.public_url = config.accounts.public_url;
  jobs::JobQueue payment_calls(*database, metrics, billing::processor_call_queue());
  billing::Billing billing(*database, host, config.payment_plugin.empty() ? nullptr : host.find(config.payment_plugin),
                           config.billing, mailer, payment_calls);

  privacy::Disclosures disclosures(*database);
  CoreStores stores(*database, accounts, videos, objects);
  privacy::CoreParticipant core_records(stores.all());
  privacy::Participants participants(host, core_records, config.privacy_participant_timeout);
  audit::AuditLog audit_log(*database);
  accounts.attach_audit_log(audit_log);
  privacy::PrivacyRequests privacy(*database, participants, accounts, objects, mailer, signer, metrics, audit_log,
                                   config.privacy);
  accounts.on_profile_change([&privacy](const std::string& user_id, const std::string& field, const std::string& old_value,
                                         const std::string& new_value) {
    (void)privacy.submit({"rectification", "profile", user_id, "", sdk::Rectification{field, old_value, new_value}, "", user_id});
  });
  accounts.on_opt_out([&privacy](const std::string& user_id, const std::string& category) {
    privacy.fan_out_opt_out(user_id, category);
  });
  accounts.on_opt_in([&privacy](const std::string& user_id, const std::string& category) {
    privacy.fan_out_opt_in(user_id, category);
  });
  accounts.on_frozen_check([&privacy](const std::string& user_id) { return privacy.account_frozen(user_id); });
  // A suspended account starts nothing more, and what it started stops.
  accounts.on_suspended([&videos](const std::string& user_id) { videos.cancel_all(user_id); });
  privacy::Analytics analytics(*database, config.analytics_min_group, config.billing.default_plan);
  jobs::JobQueue announcement_queue(*database, metrics, {privacy::kAnnouncementQueue, std::chrono::seconds(120), 5});
  privacy::Communications communications(*database, accounts, mailer, announcement_queue, host, host.find(config.email_plugin),
                                         config.privacy.public_url, config.privacy.contact);
  std::optional<privacy::Policy> policy;
  if (config.policy) {
    policy.emplace(*database, accounts, mailer, audit_log, *config.policy, config.privacy.contact, config.privacy.public_url);
    accounts.on_policy_check([&policy](const accounts::User& user) -> std::optional<accounts::Accounts::PolicyUpdate> {
      if (!policy->update_pending(user)) return std::nullopt;
      return accounts::Accounts::PolicyUpdate{policy->document().version, policy->document().last_updated};
    });
  }

  add_routes(router, Services{*database, host, metrics, accounts, billing, uploads, videos, privacy, objects, audit_log,
                              communications, policy ? &*policy : nullptr, participants, disclosures, analytics, outbox,
                              sign_ins, &handlers});
  const web::Assets app_files(web::embedded_files());
  web::add_web_routes(router, app_files, {config.app_name});
  database->changes().listen();
  delivery.start();
  communications.start_workers();
  videos.start_workers();
  privacy.start_workers();
  billing.start_workers();
  std::optional<PeriodicTask> housekeeping;
  housekeeping.emplace("housekeeping", std::chrono::hours(1), [&accounts, &videos, &billing, &privacy, &policy, &outbox, &announcement_queue,
                                                               &sign_ins, &payment_calls, keep = config.keep_job_records] {
    const auto changed = accounts.purge_expired() + sign_ins.purge_expired() + videos.purge_expired() + billing.renew_due() + privacy.purge_expired_exports() +
                         privacy.purge_unconfirmed_intakes() + outbox.purge_settled(keep) + announcement_queue.purge_settled(keep) +
                         videos.purge_settled_jobs(keep) + payment_calls.purge_settled(keep) +
                         billing.purge_old_events(std::chrono::hours(24 * 30)) + (policy ? policy->send_notices() : 0);
    if (changed > 0) Log::info("maintenance", "expired records deleted or renewed", {{"count", std::to_string(changed)}});
  });

  const double startup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  Log::info("app", "started", {{"url", server.url()}, {"startup_ms", fmt::format("{:.1f}", startup_ms)}});
  std::cout << "framehouse listening on " << server.url() << std::endl;
  const std::string app_url = config.public_url.empty() ? server.url() : config.public_url;
  std::cout << "the app: " << app_url << "/" << std::endl;
  // A fresh installation: the first admin is made in the browser. The token is in the
  // fragment, which browsers never send, so that it reaches no access log or proxy.
  if (const auto token = accounts.issue_first_admin_token()) {
    std::cout << "no admin yet: open " << app_url << "/setup#token=" << *token
              << " within an hour to create the first one (the link works once; or use `framehouse admin create-user --admin`)"
              << std::endl;
  }

  server.run();
  // Requests already queued are answered (their connections are closed by now, so quickly),
  // then running jobs and housekeeping end (or give their leases back) before the plugins they
  // use stop; the mail they queued last goes out before its workers stop.
  handlers.stop();
  cpu.stop();
  housekeeping.reset();
  privacy.stop_workers();
  billing.stop_workers();
  videos.stop_workers();
  communications.stop_workers();
  delivery.stop();
  database->changes().stop();
  host.stop_all(config.server.shutdown_grace);
  Log::info("app", "stopped");
  return 0;
}

namespace {

// The accounts module with the database and no plugins: what the account commands work on.
struct OfflineAccounts {
  explicit OfflineAccounts(const AppConfig& config)
      : database(config.database),
        outbox(migrated(database), metrics, config.outbox),
        mailer(database, outbox, config.email_from),
        accounts(database, mailer, config.accounts) {}

  static db::Database& migrated(db::Database& database) {
    database.migrate(db::server_migrations());
    return database;
  }

  db::Database database;
  observability::Metrics metrics;
  // Mail the commands cause waits in the outbox for the server's workers.
  jobs::JobQueue outbox;
  mail::Mailer mailer;
  accounts::Accounts accounts;
};

// A command that reads existing records refuses to run on a SQLite file that is not there
// (rather than create an empty database and report that nothing was found): the path or the
// configuration file is wrong.
bool database_missing(const AppConfig& config) {
  const auto file = db::sqlite_file(config.database.url);
  if (!file || std::filesystem::exists(*file)) return false;
  std::cerr << "framehouse: no database at " << file->string() << " (from [database] url in " << config.file.string()
            << "; relative paths are relative to that file). Start the server once, or point --config at the"
               " configuration the server uses.\n";
  return true;
}

enum class DatabaseUse { existing, create_if_missing };

// Runs an account command: 2 for bad input (std::invalid_argument), 1 for other failures.
int run_account_command(const std::filesystem::path& config_file, DatabaseUse use,
                        const std::function<int(OfflineAccounts&, AppConfig&)>& command) {
  auto loaded = load_or_report(config_file);
  if (!loaded) return 2;
  Log::configure(observability::LogLevel::warn, loaded->log_format);
  if (sodium_init() < 0) return 1;
  if (use == DatabaseUse::existing && database_missing(*loaded)) return 1;
  try {
    OfflineAccounts offline(*loaded);
    return command(offline, *loaded);
  } catch (const std::invalid_argument& error) {
    std::cerr << "framehouse: " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "framehouse: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

namespace {

// An unknown role is a usage error that lists the roles there are.
bool known_role(const std::string& role) {
  if (accounts::is_role(role)) return true;
  std::cerr << fmt::format("framehouse: {} is not a role; the roles are: {}\n", role, fmt::join(accounts::role_names(), ", "));
  return false;
}

}  // namespace

int create_user(const std::filesystem::path& config_file, const std::string& name, const std::string& email,
                const std::string& role, std::istream& password_input) {
  if (!known_role(role)) return 2;
  std::string password;
  std::getline(password_input, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  // The first administrator may be created before the server ever ran: in the database the
  // server will use.
  return run_account_command(config_file, DatabaseUse::create_if_missing, [&](OfflineAccounts& offline, AppConfig&) {
    const std::string id = offline.accounts.create_user(name, email, password, role);
    audit::AuditLog(offline.database).record("cli", "admin.create_user", id,
                                             boost::json::serialize(boost::json::object{{"role", role}}));
    std::cout << fmt::format("created {} {}\n", role, id);
    return 0;
  });
}

int set_role(const std::filesystem::path& config_file, const std::string& email, const std::string& role) {
  return run_account_command(config_file, DatabaseUse::existing, [&](OfflineAccounts& offline, AppConfig&) {
    if (!known_role(role)) return 2;
    const auto user = offline.accounts.find_by_email(email);
    const auto changed = user ? offline.accounts.set_role(user->id, role) : accounts::Accounts::RoleChange::no_such_account;
    if (changed == accounts::Accounts::RoleChange::no_such_account) {
      std::cerr << "framehouse: no account with that email address\n";
      return 2;
    }
    if (changed == accounts::Accounts::RoleChange::last_admin) {
      std::cerr << "framehouse: the last admin keeps the role: make another admin first\n";
      return 1;
    }
    audit::AuditLog(offline.database).record("cli", "admin.set_role", user->id,
                                             boost::json::serialize(boost::json::object{{"role", role}}));
    std::cout << fmt::format("{} is now {}\n", user->id, role);
    return 0;
  });
}

namespace {

// Runs a command on the account with this address: 2 (bad usage) when there is none.
int run_on_account(const std::filesystem::path& config_file, const std::string& email,
                   const std::function<int(OfflineAccounts&, const accounts::User&)>& command) {
  return run_account_command(config_file, DatabaseUse::existing, [&](OfflineAccounts& offline, AppConfig&) {
    const auto user = offline.accounts.find_by_email(email);
    if (!user) {
      std::cerr << "framehouse: no account with that email address\n";
      return 2;
    }
    return command(offline, *user);
  });
}

void audit(OfflineAccounts& offline, const std::string& action, const std::string& user_id, boost::json::object detail = {}) {
  audit::AuditLog(offline.database).record("cli", action, user_id, boost::json::serialize(detail));
}

}  // namespace

int find_users(const std::filesystem::path& config_file, const std::string& query) {
  return run_account_command(config_file, DatabaseUse::existing, [&](OfflineAccounts& offline, AppConfig&) {
    std::string after;
    std::size_t shown = 0;
    for (;;) {  // a page at a time, every match
      const auto page = offline.accounts.list_users(200, after, query);
      for (const auto& user : page) {
        std::cout << fmt::format("{}  {}  {}  {}{}{}  created {}\n", user.id, user.email, user.name, user.role,
                                 user.email_verified ? "" : "  unverified", user.suspended_at ? "  SUSPENDED" : "",
                                 accounts::utc_time(user.created_at));
      }
      shown += page.size();
      if (page.size() < 200) break;
      after = page.back().id;
    }
    audit(offline, "admin.find_users", "", {{"results", shown}});
    std::cerr << fmt::format("{} account{}\n", shown, shown == 1 ? "" : "s");
    return 0;
  });
}

int list_credentials(const std::filesystem::path& config_file, const std::string& email) {
  return run_on_account(config_file, email, [](OfflineAccounts& offline, const accounts::User& user) {
    for (const char* kind : {"session", "api_key"}) {
      for (const auto& credential : offline.accounts.credentials(user.id, kind)) {
        std::cout << fmt::format("{}  {}  {}  created {}  last used {}{}\n", credential.id, kind, credential.label,
                                 accounts::utc_time(credential.created_at), accounts::utc_time(credential.last_used_at),
                                 credential.expires_at ? "  expires " + accounts::utc_time(*credential.expires_at) : "");
      }
    }
    audit(offline, "admin.list_credentials", user.id);
    return 0;
  });
}

int revoke_credential(const std::filesystem::path& config_file, const std::string& email, const std::string& credential) {
  return run_on_account(config_file, email, [&](OfflineAccounts& offline, const accounts::User& user) {
    const std::string kind = credential.rfind("key_", 0) == 0 ? "api_key" : "session";
    if (!offline.accounts.revoke(user.id, credential, kind)) {
      std::cerr << "framehouse: the account has no session or key with that id\n";
      return 2;
    }
    audit(offline, "admin.revoke_credential", user.id, {{"credential", credential}, {"kind", kind}});
    std::cout << fmt::format("{} revoked\n", credential);
    return 0;
  });
}

int suspend(const std::filesystem::path& config_file, const std::string& email, const std::string& reason) {
  if (reason.empty()) {
    std::cerr << "framehouse: --reason must not be empty (it is kept, and shown to staff)\n";
    return 2;
  }
  return run_on_account(config_file, email, [&](OfflineAccounts& offline, const accounts::User& user) {
    if (offline.accounts.suspend(user.id, reason) == accounts::Accounts::RoleChange::last_admin) {
      std::cerr << "framehouse: the last active admin cannot be suspended: make another admin first\n";
      return 1;
    }
    // No engine runs here: queued jobs end, running ones are stopped by their worker.
    const int canceled = video::Videos::cancel_all(offline.database, user.id, unix_now());
    audit(offline, "admin.suspend", user.id, {{"reason", reason}});
    std::cout << fmt::format("{} is suspended; its sessions and keys ended, {} job(s) canceled\n", user.id, canceled);
    return 0;
  });
}

int unsuspend(const std::filesystem::path& config_file, const std::string& email) {
  return run_on_account(config_file, email, [](OfflineAccounts& offline, const accounts::User& user) {
    if (!offline.accounts.unsuspend(user.id)) {
      std::cerr << "framehouse: the account is not suspended\n";
      return 2;
    }
    audit(offline, "admin.unsuspend", user.id);
    std::cout << fmt::format("{} may sign in again\n", user.id);
    return 0;
  });
}

int verify_email(const std::filesystem::path& config_file, const std::string& email) {
  return run_on_account(config_file, email, [](OfflineAccounts& offline, const accounts::User& user) {
    offline.accounts.mark_email_verified(user.id);
    audit(offline, "admin.verify_email", user.id);
    std::cout << fmt::format("{}'s address counts as verified\n", user.id);
    return 0;
  });
}

int resend_verification(const std::filesystem::path& config_file, const std::string& email) {
  return run_on_account(config_file, email, [](OfflineAccounts& offline, const accounts::User& user) {
    if (user.email_verified) {
      std::cout << fmt::format("{}'s address is verified already\n", user.id);
      return 0;
    }
    offline.accounts.resend_verification(user.email);  // queued; the server's outbox sends it
    audit(offline, "admin.resend_verification", user.id);
    std::cout << fmt::format("a new confirmation link is queued for {}\n", user.id);
    return 0;
  });
}

int reset_two_factor(const std::filesystem::path& config_file, const std::string& email) {
  return run_on_account(config_file, email, [](OfflineAccounts& offline, const accounts::User& user) {
    if (!offline.accounts.disable_two_factor(user.id, true)) {
      std::cerr << "framehouse: two-factor sign-in is not on for that account\n";
      return 2;
    }
    audit(offline, "admin.two_factor_reset", user.id, {{"method", "totp"}});
    std::cout << fmt::format("two-factor sign-in is off for {}; they were told by mail\n", user.id);
    return 0;
  });
}

int audit_verify(const std::filesystem::path& config_file) {
  auto loaded = load_or_report(config_file);
  if (!loaded) return 2;
  Log::configure(observability::LogLevel::warn, loaded->log_format);
  if (database_missing(*loaded)) return 1;
  try {
    db::Database database(loaded->database);
    const auto report = audit::AuditLog(database).verify();
    for (const auto& problem : report.problems) std::cout << "audit log: " << problem << "\n";
    if (!report.problems.empty()) {
      std::cout << fmt::format("audit log: {} problem{} in {} entries\n", report.problems.size(),
                               report.problems.size() == 1 ? "" : "s", report.entries);
      return 1;
    }
    std::cout << fmt::format("audit log intact: {} entries\n", report.entries);
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "framehouse: " << error.what() << "\n";
    return 1;
  }
}

namespace {

// Runs a billing command on the account with this address, with the payment processor loaded.
int run_billing_command(const std::filesystem::path& config_file, const std::string& email,
                        const std::function<int(OfflineAccounts&, billing::Billing&, const accounts::User&)>& command) {
  return run_account_command(config_file, DatabaseUse::existing, [&](OfflineAccounts& offline, AppConfig& config) {
    const auto user = offline.accounts.find_by_email(email);
    if (!user) {
      std::cerr << "framehouse: no account with that email address\n";
      return 2;
    }
    observability::Metrics metrics;
    plugins::PluginHost host(metrics, config.data_dir);
    host.set_secret_root(db::server_secret(offline.database, kPluginSecretRoot));
    if (!start_plugins(config, host)) return 1;
    // The calls to the processor that a command causes wait for the server's workers.
    jobs::JobQueue payment_calls(offline.database, offline.metrics, billing::processor_call_queue());
    billing::Billing billing(offline.database, host,
                             config.payment_plugin.empty() ? nullptr : host.find(config.payment_plugin), config.billing,
                             offline.mailer, payment_calls);
    const int exit_code = command(offline, billing, *user);
    host.stop_all();
    return exit_code;
  });
}

}  // namespace

int revoke_plan(const std::filesystem::path& config_file, const std::string& email, const std::string& reason) {
  if (reason.empty()) {
    std::cerr << "framehouse: --reason must not be empty (it is kept in the audit log)\n";
    return 2;
  }
  return run_billing_command(config_file, email, [&](OfflineAccounts& offline, billing::Billing& billing, const accounts::User& user) {
    auto revoked = billing.revoke(user.id);
    if (!revoked) {
      std::cerr << "framehouse: " << revoked.outcome().message() << "\n";
      return revoked.outcome().status() == sdk::Status::conflict ? 2 : 1;
    }
    audit::AuditLog(offline.database)
        .record("cli", "admin.revoke_plan", user.id,
                boost::json::serialize(boost::json::object{{"plan", revoked.value()}, {"reason", reason}}));
    std::cout << fmt::format("{} is no longer on {}; it is on {} from now\n", user.id, revoked.value(),
                             billing.config().default_plan);
    return 0;
  });
}

int grant_plan(const std::filesystem::path& config_file, const std::string& email, const std::string& plan, int periods) {
  return run_billing_command(config_file, email, [&](OfflineAccounts& offline, billing::Billing& billing, const accounts::User& user) {
    auto granted = billing.grant(user.id, plan, periods);
    if (!granted) {
      std::cerr << "framehouse: " << granted.outcome().message() << "\n";
      return granted.outcome().status() == sdk::Status::invalid_argument ? 2 : 1;
    }
    audit::AuditLog(offline.database).record("cli", "admin.grant_plan", user.id,
                                             boost::json::serialize(boost::json::object{{"plan", plan}, {"periods", periods}}));
    std::cout << fmt::format("{} is on {} until {} with {} more paid period(s)\n", user.id, granted->plan,
                             granted->current_period_end ? accounts::utc_time(*granted->current_period_end) : "no end",
                             granted->prepaid_periods);
    return 0;
  });
}

int check_config(const std::filesystem::path& config_file) {
  auto loaded = load_or_report(config_file);
  if (!loaded) return 2;
  std::cout << fmt::format("{}: valid ({} plugin{} enabled)\n", config_file.string(), loaded->plugins.size(),
                           loaded->plugins.size() == 1 ? "" : "s");
  return 0;
}

int inspect_plugin(const std::filesystem::path& plugin_file) {
  auto manifest = plugins::read_manifest(plugin_file);
  if (auto* error = std::get_if<plugins::ManifestError>(&manifest)) {
    std::cerr << fmt::format("{}: {}\n", plugin_file.string(), error->message);
    return 1;
  }
  const auto& m = std::get<plugins::PluginManifest>(manifest);
  std::cout << fmt::format("file:          {}\n", plugin_file.string());
  std::cout << fmt::format("name:          {}\n", m.name);
  std::cout << fmt::format("version:       {}\n", m.version);
  if (!m.description.empty()) std::cout << fmt::format("description:   {}\n", m.description);
  std::cout << "interfaces:   ";
  for (const auto& interface : m.implements) {
    const auto it = m.build.find(interface);
    std::cout << fmt::format(" {} {}", interface, it == m.build.end() ? "(no version)" : it->second);
  }
  std::cout << "\n";
  std::cout << fmt::format("personal data: {}\n", m.personal_data.empty() ? "none" : join(m.personal_data));
  if (m.processor) {
    std::cout << fmt::format("processor:     {} ({}); receives {}\n", m.processor->third_party,
                             m.processor->purpose, join(m.processor->receives));
  }
  std::cout << "build:        ";
  for (const char* field : {"compiler", "cxx_abi", "stdlib_debug", "sdk"}) {
    const auto it = m.build.find(field);
    std::cout << fmt::format(" {}={}", field, it == m.build.end() ? "(missing)" : it->second);
  }
  std::cout << "\n";
  if (!m.config_schema.fields.empty()) {
    std::cout << "config:\n";
    for (const auto& field : m.config_schema.fields) {
      std::cout << fmt::format("  {:<20} {}{}  {}\n", field.name, config::type_name(field.type),
                               field.required ? ", required" : "", field.description);
    }
  }
  const auto compatibility = plugins::check_compatibility(m);
  const auto refusal = plugins::manifest_refusal(m);
  std::cout << "verdict:       "
            << (!compatibility.compatible() ? compatibility.describe(plugin_file)
                : refusal                  ? "refused: " + *refusal
                                           : std::string("compatible"))
            << "\n";
  return compatibility.compatible() && !refusal ? 0 : 1;
}

}  // namespace framehouse::app
