#include "app/configuration.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "accounts/roles.hpp"
#include "config/core_schema.hpp"
#include "sso/http_fetch.hpp"
#include "plugins/compatibility.hpp"
#include "storage/data_keys.hpp"

namespace framehouse::app {
namespace {

toml::source_region position_of(const toml::table& root, std::string_view path) {
  if (const toml::node* node = root.at_path(path).node()) return node->source();
  return root.source();
}

// Every relative path in the configuration is relative to the file's own directory, so that the
// server and the admin commands find the same database and data wherever they are started.
using config::relative_to_config;

bool parse_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find("]:");
    if (close == std::string::npos) return false;
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5) return false;
  for (char c : port_text) {
    if (c < '0' || c > '9') return false;
  }
  const int value = std::stoi(port_text);
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::filesystem::path executable_directory() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : self.parent_path();
}

void load_plugins(const std::filesystem::path& file, const toml::table& root, const config::Settings& settings,
                  AppConfig& config, config::Validator& validator) {
  const auto directory_setting = settings.string("plugins.directory").value_or("");
  const std::filesystem::path directory =
      directory_setting.empty() ? default_plugin_directory() : relative_to_config(file, directory_setting);
  const std::int64_t default_timeout = settings.integer("plugins.call_timeout_ms").value_or(0);
  const std::int64_t default_concurrency = settings.integer("plugins.concurrency").value_or(4);

  // toml++ keeps tables sorted by name; plugins start in the order they are written.
  std::vector<std::string> names = settings.tables_under("plugins");
  const auto line_of = [&](const std::string& name) { return position_of(root, "plugins." + name).begin.line; };
  std::sort(names.begin(), names.end(), [&](const auto& a, const auto& b) { return line_of(a) < line_of(b); });
  for (const auto& name : names) {
    const std::string prefix = "plugins." + name;
    const toml::table& table = *root.at_path(prefix).as_table();

    // First the host's own keys: for a disabled plugin they are all that is checked.
    config::TableSpec host_only;
    host_only.fields = config::plugin_host_fields();
    host_only.ignore_unknown = true;
    config::Settings host_settings;
    validator.validate(table, host_only, prefix, host_settings);
    if (!host_settings.boolean(prefix + ".enabled").value_or(true)) continue;

    const std::string path_setting = host_settings.string(prefix + ".path").value_or(name + ".so");
    std::filesystem::path file = path_setting;
    if (file.is_relative()) file = directory / file;
    const auto where = table.get("path") ? table.get("path")->source() : table.source();

    auto manifest = plugins::read_manifest(file);
    if (auto* error = std::get_if<plugins::ManifestError>(&manifest)) {
      validator.add_error(where, prefix + ".path",
                          fmt::format("cannot use plugin file {}: {}", file.string(), error->message));
      continue;
    }
    auto& parsed = std::get<plugins::PluginManifest>(manifest);
    if (parsed.name != name) {
      validator.add_error(table.source(), prefix,
                          fmt::format("plugin file {} contains plugin '{}', not '{}'", file.string(), parsed.name, name));
      continue;
    }
    if (const auto compatibility = plugins::check_compatibility(parsed); !compatibility.compatible()) {
      validator.add_error(where, prefix + ".path", compatibility.describe(file));
      continue;
    }
    if (const auto refusal = plugins::manifest_refusal(parsed)) {
      validator.add_error(where, prefix + ".path", fmt::format("plugin {} ({}): {}", name, file.string(), *refusal));
      continue;
    }

    config::TableSpec plugin_spec = parsed.config_schema;
    for (const auto& field : host_only.fields) {
      if (plugin_spec.field(field.name) != nullptr) {
        validator.add_error(table.source(), prefix,
                            fmt::format("plugin {} declares reserved config key '{}'", name, field.name));
      }
    }
    for (const auto& field : host_only.fields) plugin_spec.ignored_keys.push_back(field.name);
    config::Settings plugin_settings;
    validator.validate(table, plugin_spec, prefix, plugin_settings);

    plugins::PluginDeclaration declaration;
    declaration.name = name;
    declaration.file = std::filesystem::absolute(file);
    declaration.required = host_settings.boolean(prefix + ".required").value_or(true);
    declaration.call_timeout = std::chrono::milliseconds(
        host_settings.integer(prefix + ".call_timeout_ms").value_or(default_timeout));
    declaration.concurrency = static_cast<int>(host_settings.integer(prefix + ".concurrency").value_or(default_concurrency));
    declaration.settings = plugin_settings.extract(prefix);
    config.plugins.push_back({std::move(declaration), std::move(parsed)});
  }
}

void check_role(const toml::table& root, const AppConfig& config, std::string_view key,
                const std::string& plugin, std::string_view interface, config::Validator& validator) {
  for (const auto& candidate : config.plugins) {
    if (candidate.declaration.name != plugin) continue;
    if (!candidate.manifest.implements_interface(interface)) {
      validator.add_error(position_of(root, key), std::string(key),
                          fmt::format("plugin {} does not implement the {} interface", plugin, interface));
    }
    return;
  }
  if (const auto* declared = root["plugins"][plugin].as_table()) {
    // Declared and enabled but refused: its own error says why (one cause, one message).
    if ((*declared)["enabled"].value_or(true)) return;
    validator.add_error(position_of(root, key), std::string(key),
                        fmt::format("plugin '{}' is declared with enabled = false", plugin));
    return;
  }
  validator.add_error(position_of(root, key), std::string(key),
                      fmt::format("no enabled plugin named '{}' (declare it as [plugins.{}])", plugin, plugin));
}

}  // namespace

std::filesystem::path default_plugin_directory() {
  const auto here = executable_directory();
  if (std::filesystem::is_directory(here / "plugins")) return here / "plugins";
  return here.parent_path() / "lib" / "framehouse" / "plugins";
}

LoadResult load_configuration(const std::filesystem::path& file) {
  config::Validator validator(file.string());
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    std::string message(error.description());
    if (message.find("could not be opened") != std::string::npos) message = "cannot read the file";
    validator.add_error(error.source(), "", message);
    return validator.errors();
  }

  config::Settings settings;
  validator.validate(root, config::core_schema(), "", settings);
  config::apply_environment_overrides(config::core_schema(), validator, settings);

  AppConfig config;
  config.file = file;
  auto& server = config.server;
  const std::string listen = settings.string("server.listen").value_or("");
  if (!parse_listen(listen, server.host, server.port)) {
    validator.add_error(position_of(root, "server.listen"), "server.listen",
                        fmt::format("'{}' is not host:port", listen));
  }
  server.threads = static_cast<int>(*settings.integer("server.threads"));
  server.max_header_bytes = static_cast<std::size_t>(*settings.integer("server.max_header_bytes"));
  server.max_body_bytes = static_cast<std::size_t>(*settings.integer("server.max_body_bytes"));
  server.read_timeout = std::chrono::milliseconds(*settings.integer("server.read_timeout_ms"));
  server.idle_timeout = std::chrono::milliseconds(*settings.integer("server.idle_timeout_ms"));
  server.shutdown_grace = std::chrono::milliseconds(*settings.integer("server.shutdown_grace_ms"));
  server.max_connections = static_cast<std::size_t>(*settings.integer("server.max_connections"));
  // Handlers hold a pooled connection while they run: as many handler threads as connections.
  const auto handler_threads = *settings.integer("server.handler_threads");
  config.handler_threads = static_cast<int>(handler_threads > 0 ? handler_threads : *settings.integer("database.pool_size"));
  config.handler_queue = static_cast<std::size_t>(*settings.integer("server.handler_queue"));
  const auto cpu_threads = *settings.integer("server.cpu_threads");
  config.cpu_threads =
      static_cast<int>(cpu_threads > 0 ? cpu_threads : std::max<unsigned>(1, std::thread::hardware_concurrency() / 2));
  if (*settings.boolean("server.tls.enabled")) {
    server.tls = http::TlsFiles{*settings.string("server.tls.certificate"), *settings.string("server.tls.private_key")};
    for (const char* key : {"server.tls.certificate", "server.tls.private_key"}) {
      if (settings.string(key)->empty()) {
        validator.add_error(position_of(root, "server.tls"), key, "required when server.tls.enabled is true");
      }
    }
  }
  config.public_url = *settings.string("server.public_url");
  config.app_name = *settings.string("server.app_name");
  while (!config.public_url.empty() && config.public_url.back() == '/') config.public_url.pop_back();
  config.data_dir = relative_to_config(file, *settings.string("server.data_dir"));
  observability::parse_log_level(*settings.string("log.level"), config.log_level);
  config.log_format = *settings.string("log.format") == "json" ? observability::LogFormat::json
                                                               : observability::LogFormat::text;
  config.database.url = *settings.string("database.url");
  if (const auto sqlite = db::sqlite_file(config.database.url)) {
    config.database.url = std::string(db::kSqliteUrlPrefix) + relative_to_config(file, sqlite->string()).string();
  }
  config.database.pool_size = static_cast<std::size_t>(*settings.integer("database.pool_size"));
  config.database.busy_timeout = std::chrono::milliseconds(*settings.integer("database.busy_timeout_ms"));
  config.storage_plugin = *settings.string("storage.plugin");
  config.email_plugin = *settings.string("email.plugin");
  config.email_from = *settings.string("email.from");
  config.outbox.max_attempts = static_cast<int>(*settings.integer("email.max_attempts"));
  config.outbox.first_retry = std::chrono::milliseconds(*settings.integer("email.first_retry_ms"));
  config.outbox.longest_retry = std::chrono::seconds(*settings.integer("email.longest_retry_seconds"));
  config.delivery.workers = static_cast<int>(*settings.integer("email.delivery_workers"));
  config.keep_job_records = std::chrono::hours(24 * *settings.integer("email.keep_sent_days"));
  auto& accounts = config.accounts;
  const auto number = [&settings](const std::string& key) { return *settings.integer(key); };
  accounts.minimum_age = static_cast<int>(number("accounts.minimum_age"));
  accounts.password_min_length = static_cast<std::size_t>(number("accounts.password_min_length"));
  accounts.password_cost.ops_limit = static_cast<std::uint64_t>(number("accounts.password_ops_limit"));
  accounts.password_cost.mem_limit = static_cast<std::size_t>(number("accounts.password_mem_limit_kib")) * 1024;
  accounts.session_ttl_seconds = number("accounts.session_ttl_hours") * 3600;
  accounts.session_idle_seconds = number("accounts.session_idle_hours") * 3600;
  // Browsers reach the server over TLS: its own, or a proxy's in front (public_url https).
  accounts.secure_cookies = config.server.tls.has_value() || config.public_url.rfind("https://", 0) == 0;
  accounts.verification_ttl_seconds = number("accounts.verification_ttl_hours") * 3600;
  accounts.reset_ttl_seconds = number("accounts.reset_ttl_minutes") * 60;
  accounts.max_failures_per_account = static_cast<int>(number("accounts.max_failed_sign_ins_per_account"));
  accounts.max_failures_per_address = static_cast<int>(number("accounts.max_failed_sign_ins_per_address"));
  accounts.failure_window_seconds = number("accounts.failed_sign_in_window_minutes") * 60;
  accounts.mails_per_address_per_hour = static_cast<int>(number("accounts.mails_per_address_per_hour"));
  accounts.training_use_default = *settings.boolean("accounts.training_use_default");
  accounts.usage_retention_seconds = number("accounts.usage_retention_days") * 24 * 3600;
  accounts.two_factor_required_for = *settings.strings("accounts.two_factor_required_for");
  accounts.issuer = *settings.string("accounts.two_factor_issuer");

  config.uploads.max_bytes = static_cast<std::size_t>(number("uploads.max_bytes"));
  config.uploads.max_width = static_cast<int>(number("uploads.max_width"));
  config.uploads.max_height = static_cast<int>(number("uploads.max_height"));

  config.video.workers = static_cast<int>(number("video.workers"));
  config.video.fps = static_cast<int>(number("video.fps"));
  config.video.max_run_seconds = number("video.max_run_seconds");
  config.video.lease_seconds = number("video.lease_seconds");
  config.video.max_attempts = static_cast<int>(number("video.max_attempts"));
  config.video.image_aspect_tolerance_percent = static_cast<int>(number("video.image_aspect_tolerance_percent"));
  config.video.data_dir = (config.data_dir / "video").string();
  config.video.accepted_models = *settings.strings("video.accepted_models");
  // The engines: [generation] engines, or the one [generation] plugin.
  std::vector<std::string> engine_names = *settings.strings("generation.engines");
  if (const std::string single = *settings.string("generation.plugin"); !single.empty()) {
    if (!engine_names.empty()) {
      validator.add_error(position_of(root, "generation.plugin"), "generation.plugin",
                          "set generation.engines or generation.plugin, not both");
    }
    engine_names = {single};
  }
  for (const auto& name : engine_names) {
    video::EngineSettings engine{name};
    const std::string prefix = "engines." + name + ".";
    const auto& tables = settings.tables_under("engines");
    if (std::find(tables.begin(), tables.end(), name) != tables.end()) {
      engine.workers = static_cast<int>(number(prefix + "workers"));
      engine.max_wait_seconds = number(prefix + "max_wait_minutes") * 60;
    }
    if (engine.workers < 0) engine.workers = config.video.workers;
    config.video.engines.push_back(std::move(engine));
  }
  for (const auto& name : settings.tables_under("engines")) {
    if (std::find(engine_names.begin(), engine_names.end(), name) == engine_names.end()) {
      validator.add_error(position_of(root, "engines." + name), "engines." + name,
                          "is not one of generation.engines (or generation.plugin)");
    }
  }
  for (const auto& id : settings.tables_under("models")) {
    const std::string prefix = "models." + id + ".";
    video::ModelSpec model;
    model.id = id;
    model.engine = *settings.string(prefix + "engine");
    model.engine_model = *settings.string(prefix + "engine_model");
    model.plans = *settings.strings(prefix + "plans");
    model.aliases = *settings.strings(prefix + "aliases");
    model.sizes = *settings.strings(prefix + "sizes");
    model.max_seconds = static_cast<int>(number(prefix + "max_seconds"));
    model.image_input = *settings.boolean(prefix + "image_input");
    if (std::find(engine_names.begin(), engine_names.end(), model.engine) == engine_names.end()) {
      validator.add_error(position_of(root, prefix + "engine"), prefix + "engine",
                          "'" + model.engine + "' is not one of generation.engines (or generation.plugin)");
    }
    // An id travels in URLs (/v1/models/{id}) and JSON as it is.
    const bool plain = !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '-' || c == '.';
    });
    if (!plain) {
      validator.add_error(position_of(root, "models." + id), "models." + id, "the name may have letters, digits, _, - and . only");
    }
    config.video.models.push_back(std::move(model));
  }

  for (const auto& name : settings.tables_under("sso")) {
    const std::string prefix = "sso." + name + ".";
    sso::ProviderConfig provider;
    provider.name = name;
    provider.issuer = *settings.string(prefix + "issuer");
    while (!provider.issuer.empty() && provider.issuer.back() == '/') provider.issuer.pop_back();
    provider.client_id = *settings.string(prefix + "client_id");
    provider.client_secret = *settings.string(prefix + "client_secret");
    provider.display_name = *settings.string(prefix + "display_name");
    provider.scopes = *settings.strings(prefix + "scopes");
    provider.email_claim = *settings.string(prefix + "email_claim");
    provider.name_claim = *settings.string(prefix + "name_claim");
    provider.create_accounts = *settings.boolean(prefix + "create_accounts");
    provider.link_by_email = *settings.boolean(prefix + "link_by_email");
    provider.adult_claim = *settings.string(prefix + "adult_claim");
    provider.password_sign_in = *settings.boolean(prefix + "password_sign_in");
    provider.ca_file = *settings.string(prefix + "ca_file");
    if (!sso::allowed_url(provider.issuer)) {
      validator.add_error(position_of(root, prefix + "issuer"), prefix + "issuer",
                          "must be an https URL (http only to a loopback address)");
    }
    if (std::find(provider.scopes.begin(), provider.scopes.end(), "openid") == provider.scopes.end()) {
      validator.add_error(position_of(root, prefix + "scopes"), prefix + "scopes", "must include openid");
    }
    bool url_safe = !name.empty();
    for (const char c : name) url_safe = url_safe && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    if (!url_safe) {
      validator.add_error(position_of(root, "sso." + name), "sso." + name, "the name may have letters, digits, _ and - only");
    }
    if (!provider.password_sign_in) config.accounts.providers_without_password_sign_in.push_back(name);
    config.sso_providers.push_back(std::move(provider));
  }

  for (const auto& name : settings.tables_under("plans")) {
    const std::string prefix = "plans." + name + ".";
    billing::Plan plan;
    plan.name = name;
    plan.max_seconds = static_cast<int>(number(prefix + "max_seconds"));
    plan.max_side = static_cast<int>(number(prefix + "max_side"));
    plan.videos_per_day = static_cast<int>(number(prefix + "videos_per_day"));
    plan.concurrent_jobs = static_cast<int>(number(prefix + "concurrent_jobs"));
    plan.watermark = *settings.boolean(prefix + "watermark");
    plan.retention_seconds = number(prefix + "retention_days") * 24 * 3600;
    config.billing.plans[name] = plan;
  }
  if (config.billing.plans.empty()) config.billing.plans = billing::default_plans();
  config.billing.default_plan = *settings.string("billing.default_plan");
  config.billing.period_seconds = number("billing.period_days") * 24 * 3600;
  config.billing.grace_seconds = number("billing.grace_days") * 24 * 3600;
  if (!config.billing.plans.count(config.billing.default_plan)) {
    validator.add_error(position_of(root, "billing.default_plan"), "billing.default_plan",
                        "no plan named '" + config.billing.default_plan + "' (declare it as [plans." +
                            config.billing.default_plan + "])");
  }
  config.payment_plugin = *settings.string("billing.plugin");
  for (const auto& model : config.video.models) {
    for (const auto& plan : model.plans) {
      if (!config.billing.plans.count(plan)) {
        validator.add_error(position_of(root, "models." + model.id + ".plans"), "models." + model.id + ".plans",
                            "no plan named '" + plan + "' (declare it as [plans." + plan + "])");
      }
    }
  }

  auto& privacy = config.privacy;
  const auto days = [&number](const std::string& key) { return number(key) * 24 * 3600; };
  privacy.contact = *settings.string("privacy.contact");
  privacy.access_due_seconds = days("privacy.access_due_days");
  privacy.erasure_due_seconds = days("privacy.erasure_due_days");
  privacy.rectification_due_seconds = days("privacy.rectification_due_days");
  privacy.extension_seconds = days("privacy.extension_days");
  privacy.deletion_grace_seconds = number("privacy.deletion_grace_hours") * 3600;
  privacy.export_link_seconds = days("privacy.export_link_days");
  privacy.receipt_link_seconds = days("privacy.receipt_link_days");
  privacy.workers = static_cast<int>(number("privacy.workers"));
  privacy.max_attempts = static_cast<int>(number("privacy.max_attempts"));
  privacy.retry_base_seconds = number("privacy.retry_base_seconds");
  privacy.lease_seconds = number("privacy.lease_seconds");
  privacy.intake_per_address_per_hour = static_cast<int>(number("privacy.intake_per_address_per_hour"));
  privacy.intake_per_client_per_hour = static_cast<int>(number("privacy.intake_per_client_per_hour"));
  privacy.work_directory = config.data_dir / "privacy";
  config.privacy_participant_timeout = std::chrono::seconds(number("privacy.participant_timeout_seconds"));
  config.analytics_min_group = static_cast<int>(number("privacy.analytics_min_group"));
  privacy.opt_out_due_seconds = number("privacy.opt_out_due_hours") * 3600;
  config.master_key = *settings.string("privacy.master_key");
  config.retired_master_key = *settings.string("privacy.retired_master_key");
  config.receipt_signing_key = *settings.string("privacy.receipt_signing_key");
  if (const std::string policy_file = *settings.string("privacy.policy_file"); !policy_file.empty()) {
    const auto path = relative_to_config(file, policy_file);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      validator.add_error(position_of(root, "privacy.policy_file"), "privacy.policy_file", "cannot read " + path.string());
    } else if (auto parsed = privacy::parse_policy(text.str()); auto* problem = std::get_if<std::string>(&parsed)) {
      validator.add_error(position_of(root, "privacy.policy_file"), "privacy.policy_file", path.string() + " " + *problem);
    } else {
      config.policy = std::get<privacy::PolicyDocument>(std::move(parsed));
    }
  }
  for (const auto& [key, value] : {std::pair{"privacy.master_key", &config.master_key},
                                   std::pair{"privacy.retired_master_key", &config.retired_master_key},
                                   std::pair{"privacy.receipt_signing_key", &config.receipt_signing_key}}) {
    if (!value->empty() && !storage::parse_master_key(*value)) {
      validator.add_error(position_of(root, key), key, "must be 32 bytes as 64 hex digits or base64");
    }
  }

  for (const auto& role : config.accounts.two_factor_required_for) {
    if (role == accounts::role_names().front() || !accounts::is_role(role)) {
      validator.add_error(position_of(root, "accounts.two_factor_required_for"), "accounts.two_factor_required_for",
                          fmt::format("{} is not a staff role; the staff roles are {}", role,
                                      fmt::join(accounts::role_names().begin() + 1, accounts::role_names().end(), ", ")));
    }
  }

  load_plugins(file, root, settings, config, validator);
  check_role(root, config, "storage.plugin", config.storage_plugin, "storage", validator);
  check_role(root, config, "email.plugin", config.email_plugin, "email", validator);
  if (!config.payment_plugin.empty()) {
    check_role(root, config, "billing.plugin", config.payment_plugin, "payment", validator);
  }
  for (const auto& engine : config.video.engines) {
    check_role(root, config, *settings.string("generation.plugin") == engine.name ? "generation.plugin" : "generation.engines",
               engine.name, "generation", validator);
  }

  if (!validator.errors().empty()) return validator.errors();
  return config;
}

}  // namespace framehouse::app
