#include "config/core_schema.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace framehouse::config {
namespace {

FieldSpec string_field(std::string name, std::string default_value, std::string description,
                       std::vector<std::string> one_of = {}) {
  FieldSpec spec{std::move(name), ValueType::string};
  spec.default_value = std::move(default_value);
  spec.description = std::move(description);
  spec.one_of = std::move(one_of);
  return spec;
}

FieldSpec required_string_field(std::string name, std::string description) {
  FieldSpec spec{std::move(name), ValueType::string};
  spec.required = true;
  spec.description = std::move(description);
  return spec;
}

FieldSpec integer_field(std::string name, std::int64_t default_value, std::int64_t minimum,
                        std::int64_t maximum, std::string description) {
  FieldSpec spec{std::move(name), ValueType::integer};
  spec.default_value = default_value;
  spec.minimum = minimum;
  spec.maximum = maximum;
  spec.description = std::move(description);
  return spec;
}

FieldSpec string_array_field(std::string name, std::vector<std::string> default_value, std::string description) {
  FieldSpec spec{std::move(name), ValueType::string_array};
  spec.default_value = std::move(default_value);
  spec.description = std::move(description);
  return spec;
}

FieldSpec boolean_field(std::string name, bool default_value, std::string description) {
  FieldSpec spec{std::move(name), ValueType::boolean};
  spec.default_value = default_value;
  spec.description = std::move(description);
  return spec;
}

TableSpec make_core_schema() {
  static TableSpec plugin_table;
  plugin_table.validated_elsewhere = true;

  TableSpec tls;
  tls.fields = {
      boolean_field("enabled", false, "serve HTTPS instead of HTTP"),
      string_field("certificate", "", "PEM certificate chain file"),
      string_field("private_key", "", "PEM private key file"),
  };

  TableSpec server;
  server.fields = {
      string_field("listen", "127.0.0.1:8080", "address:port to listen on ([v6]:port for IPv6)"),
      integer_field("threads", 2, 1, 256, "I/O threads: they read, route and write, and run no handler that may block"),
      integer_field("handler_threads", 0, 0, 1024, "threads that run request handlers (SQL, plugins); 0: [database] pool_size"),
      integer_field("handler_queue", 256, 1, 1'000'000, "requests waiting for a handler thread at most; more are answered 503"),
      integer_field("cpu_threads", 0, 0, 256, "threads for password hashing, so that it cannot take every core; 0: half the cores"),
      string_field("public_url", "", "URL users reach the server at, for links in emails; default: the listen address"),
      string_field("app_name", "Framehouse", "the name the web app shows its users (title, header)"),
      string_field("data_dir", "var", "directory for the server's and plugins' files"),
      integer_field("max_header_bytes", 16 * 1024, 1024, 1024 * 1024, "largest request header"),
      integer_field("max_body_bytes", 10 * 1024 * 1024, 1024, std::int64_t{4} << 30, "largest request body"),
      integer_field("read_timeout_ms", 30'000, 100, 3'600'000, "time to receive a request once it started"),
      integer_field("idle_timeout_ms", 60'000, 100, 3'600'000, "keep-alive idle time between requests"),
      integer_field("shutdown_grace_ms", 10'000, 0, 600'000, "time in-flight requests get to finish on stop"),
      integer_field("max_connections", 1024, 1, 1'000'000, "open connections at most; more are answered 503 and closed"),
  };
  server.tables["tls"] = std::move(tls);

  TableSpec log;
  log.fields = {
      string_field("level", "info", "minimum level", {"debug", "info", "warn", "error"}),
      string_field("format", "text", "text or JSON lines", {"text", "json"}),
  };

  TableSpec database;
  database.fields = {
      string_field("url", "sqlite:var/framehouse.db", "sqlite:PATH or postgresql://user@host:port/db"),
      integer_field("pool_size", 8, 1, 256, "pooled connections: I/O threads + video and privacy workers + 2, at least"),
      integer_field("busy_timeout_ms", 5'000, 0, 600'000, "SQLite: wait this long for a lock"),
  };

  TableSpec plugins;
  plugins.fields = {
      string_field("directory", "", "where plugin files are; default: next to the binary"),
      integer_field("call_timeout_ms", 30'000, 0, 3'600'000, "default limit on one plugin call; 0 = none"),
      integer_field("concurrency", 4, 1, 1024, "default number of calls a plugin runs at once, each on a thread of its own"),
  };
  plugins.any_table = &plugin_table;

  TableSpec accounts;
  accounts.fields = {
      integer_field("minimum_age", 13, 13, 21, "users younger than this on the day of sign-up are refused"),
      integer_field("password_min_length", 10, 8, 128, "shortest password accepted, in characters"),
      integer_field("password_ops_limit", 2, 1, 20, "argon2id passes (time cost)"),
      integer_field("password_mem_limit_kib", 65536, 8, 4 * 1024 * 1024, "argon2id memory cost, KiB"),
      integer_field("session_ttl_hours", 720, 1, 24 * 366, "sessions expire after this long"),
      integer_field("session_idle_hours", 72, 1, 24 * 366, "a session unused this long ends"),
      integer_field("verification_ttl_hours", 48, 1, 24 * 30, "email verification links expire after this long"),
      integer_field("reset_ttl_minutes", 60, 5, 24 * 60, "password reset links expire after this long"),
      integer_field("max_failed_sign_ins_per_account", 5, 1, 1000, "failed sign-ins per account per window"),
      integer_field("max_failed_sign_ins_per_address", 20, 1, 100000, "failed sign-ins per client address per window"),
      integer_field("failed_sign_in_window_minutes", 15, 1, 24 * 60, "the throttling window"),
      integer_field("mails_per_address_per_hour", 5, 1, 1000,
                    "mail anyone can cause (sign-up notices, password resets, address changes) per address"),
      boolean_field("training_use_default", false, "whether new users' content may improve models until they opt out"),
      integer_field("usage_retention_days", 396, 1, 3650, "usage events older than this are deleted"),
      string_array_field("two_factor_required_for", {},
                         "staff roles whose permissions work only in a session signed in with a second factor"),
      string_field("two_factor_issuer", "Framehouse", "the name authenticator apps show beside this deployment's codes"),
  };

  // [sso.<name>]: one OpenID Connect provider each.
  static TableSpec identity_provider;
  identity_provider.fields = {
      required_string_field("issuer", "the provider's issuer URL, as its discovery document names it (https)"),
      required_string_field("client_id", "this server's client id at the provider"),
      required_string_field("client_secret", "this server's client secret; use env: or file:"),
      string_field("display_name", "", "the sign-in button's text; default: the table's name"),
      string_array_field("scopes", {"openid", "email", "profile"}, "scopes asked for; openid is required"),
      string_field("email_claim", "email", "the ID token claim with the person's address"),
      string_field("name_claim", "name", "the ID token claim with the person's name"),
      boolean_field("create_accounts", true, "make an account at first sign-in (after the age gate)"),
      boolean_field("link_by_email", true, "link an existing account whose address the provider verified"),
      string_field("adult_claim", "", "a boolean claim the provider sets for adults (employees): they are not asked a "
                                      "birth date; empty: everyone new is asked"),
      boolean_field("password_sign_in", true, "whether accounts linked to this provider may also sign in with a password"),
      string_field("ca_file", "", "a private CA for the provider's certificate"),
  };
  identity_provider.fields.back().is_path = true;
  TableSpec sso;
  sso.any_table = &identity_provider;

  TableSpec uploads;
  uploads.fields = {
      integer_field("max_bytes", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024, "largest image accepted; server.max_body_bytes bounds the whole request first"),
      integer_field("max_width", 4096, 64, 16384, "widest image accepted, pixels"),
      integer_field("max_height", 4096, 64, 16384, "tallest image accepted, pixels"),
  };

  TableSpec video;
  video.fields = {
      integer_field("workers", 1, 0, 64, "jobs run at once by this process; 0 = this process runs none"),
      integer_field("fps", 24, 1, 60, "frames per second of generated videos"),
      integer_field("max_run_seconds", 600, 10, 86400, "one generation may run this long before it is failed"),
      integer_field("lease_seconds", 30, 2, 3600, "a job whose worker stops reporting returns to the queue after this"),
      integer_field("max_attempts", 3, 1, 100, "a job whose run took its worker's process down this often fails"),
      integer_field("image_aspect_tolerance_percent", 100, 0, 1000,
                    "an input image whose aspect ratio is more than this much wider or taller than the video's is refused"),
      string_array_field("accepted_models", {"sora-2", "sora-2-pro"},
                         "model names clients of other video services send; they run on the engine's first model"),
  };

  TableSpec generation;
  generation.fields = {
      string_field("plugin", "", "the generation engine, when there is one; empty: see engines"),
      string_array_field("engines", {}, "the generation engines, when there are several: the first is the default"),
  };

  // [engines.<plugin>]: how this process runs one engine's jobs.
  static TableSpec engine_table;
  engine_table.fields = {
      integer_field("workers", -1, -1, 256, "this engine's jobs run at once by this process (a GPU server's slots); "
                                            "-1: [video] workers; 0: none here"),
      integer_field("max_wait_minutes", 0, 0, 7 * 24 * 60, "a video whose engine is unavailable fails after waiting this "
                                                            "long; 0: it waits until the engine is back"),
  };
  TableSpec engines;
  engines.any_table = &engine_table;

  // [models.<id>]: a model clients may ask for, as one model of one engine.
  static TableSpec model_table;
  model_table.fields = {
      required_string_field("engine", "the generation plugin that runs it"),
      string_field("engine_model", "", "the engine's name for it; empty: the table's name"),
      string_array_field("plans", {}, "the plans that may use it; empty: every plan"),
      string_array_field("aliases", {}, "more names for it (\"sora-2\", …)"),
      string_array_field("sizes", {}, "the sizes offered (\"1280x720\", …); empty: every size the engine makes"),
      integer_field("max_seconds", 0, 0, 600, "longest video; 0: the engine's longest"),
      boolean_field("image_input", true, "image to video, where the engine takes images"),
  };
  TableSpec models;
  models.any_table = &model_table;

  static TableSpec plan_table;
  plan_table.fields = {
      integer_field("max_seconds", 8, 1, 120, "longest video"),
      integer_field("max_side", 1280, 64, 1920, "longest side of a video, pixels"),
      integer_field("videos_per_day", 10, 0, 1000000, "videos created in any 24 hours"),
      integer_field("concurrent_jobs", 1, 1, 64, "videos queued or rendering at once"),
      boolean_field("watermark", true, "mark every frame"),
      integer_field("retention_days", 7, 1, 3650, "generated videos are deleted after this long"),
  };
  TableSpec plans;
  plans.any_table = &plan_table;

  TableSpec billing;
  billing.fields = {
      string_field("default_plan", "free", "the plan of every account without an active subscription"),
      integer_field("period_days", 30, 1, 366, "length of a paid period"),
      integer_field("grace_days", 3, 0, 60,
                    "how long a plan stays after its renewal was not paid (the processor retries meanwhile); 0: it ends at once"),
      string_field("plugin", "", "the payment processor plugin; empty: subscriptions are only granted by admins"),
  };

  TableSpec privacy;
  privacy.fields = {
      string_field("contact", "privacy@localhost", "where people send privacy questions; shown in every privacy email"),
      string_field("policy_file", "", "the deployment's privacy policy (Markdown with a \"Last Updated:\" line), relative to "
                                      "this file; empty: none is served"),
      string_field("master_key", "", "32 bytes (64 hex or base64) that wrap every person's data key; use env: or file:. "
                                     "Empty: generated once under <data_dir>/keys (keep it apart from database backups)"),
      string_field("retired_master_key", "", "the previous master key during a rotation: keys it wraps are re-wrapped at start"),
      string_field("receipt_signing_key", "", "Ed25519 seed (32 bytes, hex or base64) that signs deletion receipts; "
                                              "empty: generated once under <data_dir>/keys"),
      integer_field("access_due_days", 30, 1, 90, "an access request is due this long after it is received"),
      integer_field("erasure_due_days", 30, 1, 90, "an erasure request is due this long after it is received"),
      integer_field("rectification_due_days", 30, 1, 90, "a rectification request is due this long after it is received"),
      integer_field("extension_days", 60, 1, 90, "how much one recorded extension adds to a due date"),
      integer_field("deletion_grace_hours", 0, 0, 24 * 30, "\"delete my account\" waits this long, cancelable, before erasure starts"),
      integer_field("export_link_days", 7, 1, 30, "an access export can be downloaded for this long"),
      integer_field("receipt_link_days", 90, 1, 3650, "an erasure's signed receipt can be fetched by its mailed link for this long"),
      integer_field("workers", 1, 0, 16, "privacy tasks run at once by this process; 0 = this process runs none"),
      integer_field("max_attempts", 5, 1, 50, "a participant's task is retried (with exponential backoff) this many times"),
      integer_field("retry_base_seconds", 10, 1, 3600, "the first retry waits this long; each next one twice as long"),
      integer_field("lease_seconds", 120, 3, 3600, "a task whose worker stops renewing its lease is taken over after this"),
      integer_field("participant_timeout_seconds", 600, 1, 86400, "one participant's export or erasure may run this long"),
      integer_field("intake_per_address_per_hour", 3, 1, 100, "confirmation codes mailed to one address per hour"),
      integer_field("intake_per_client_per_hour", 10, 1, 10000, "email intake requests from one client address per hour"),
      integer_field("opt_out_due_hours", 48, 1, 240, "an opt-out must reach every plugin within this (Gmail/Yahoo: 2 days)"),
      integer_field("analytics_min_group", 10, 2, 1000, "admin analytics suppress any cell describing fewer people than this"),
  };

  TableSpec storage;
  storage.fields = {string_field("plugin", "storage_fs", "the storage plugin for users' files")};
  TableSpec email;
  email.fields = {
      string_field("plugin", "email_outbox", "the email plugin for outgoing mail"),
      string_field("from", "Framehouse <noreply@localhost>", "the From header of every message"),
      integer_field("delivery_workers", 2, 1, 64, "threads that hand queued mail to the email plugin"),
      integer_field("max_attempts", 12, 1, 100, "tries of one message before it is recorded as failed for good"),
      integer_field("first_retry_ms", 2000, 10, 3'600'000, "wait before the second try; doubled for each further one"),
      integer_field("longest_retry_seconds", 1800, 1, 86400, "the longest wait between two tries"),
      integer_field("keep_sent_days", 7, 1, 365,
                    "how long the record of a settled job stays: a sent or failed message, an announcement, a video's job (never its content)"),
  };

  TableSpec root;
  root.tables["server"] = std::move(server);
  root.tables["log"] = std::move(log);
  root.tables["database"] = std::move(database);
  root.tables["plugins"] = std::move(plugins);
  root.tables["accounts"] = std::move(accounts);
  root.tables["sso"] = std::move(sso);
  root.tables["engines"] = std::move(engines);
  root.tables["models"] = std::move(models);
  root.tables["uploads"] = std::move(uploads);
  root.tables["video"] = std::move(video);
  root.tables["generation"] = std::move(generation);
  root.tables["plans"] = std::move(plans);
  root.tables["billing"] = std::move(billing);
  root.tables["storage"] = std::move(storage);
  root.tables["privacy"] = std::move(privacy);
  root.tables["email"] = std::move(email);
  return root;
}

std::string env_name(const std::string& key) {
  std::string name = "FRAMEHOUSE_";
  for (char c : key) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

void apply_overrides(const TableSpec& spec, const std::string& path, Validator& validator,
                     Settings& settings) {
  for (const auto& field : spec.fields) {
    const std::string key = path.empty() ? field.name : path + "." + field.name;
    const std::string name = env_name(key);
    const char* raw = std::getenv(name.c_str());
    if (raw == nullptr) continue;
    // The value is parsed as a one-line TOML document so it gets the same checks as the file.
    std::string document = field.type == ValueType::string ? fmt::format("v = '''{}'''", raw)
                                                           : fmt::format("v = {}", raw);
    toml::table parsed;
    try {
      parsed = toml::parse(document, std::string_view(name));
    } catch (const toml::parse_error&) {
      validator.add_error({}, key, fmt::format("environment variable {} is not a valid {}", name, type_name(field.type)));
      continue;
    }
    FieldSpec renamed = field;
    renamed.name = "v";
    TableSpec one;
    one.fields = {renamed};
    Settings parsed_settings;
    Validator inner(name);
    inner.validate(parsed, one, "", parsed_settings);
    for (const auto& error : inner.errors()) validator.add_error({}, key, name + ": " + error.message);
    if (inner.errors().empty()) settings.set(key, *parsed_settings.find("v"));
  }
  for (const auto& [name, sub] : spec.tables) {
    apply_overrides(sub, path.empty() ? name : path + "." + name, validator, settings);
  }
}

}  // namespace

const TableSpec& core_schema() {
  static const TableSpec schema = make_core_schema();
  return schema;
}

const std::vector<FieldSpec>& plugin_host_fields() {
  static const std::vector<FieldSpec> fields = [] {
    FieldSpec path{"path", ValueType::string};
    path.description = "plugin file; relative to [plugins] directory; default <name>.so";
    FieldSpec timeout{"call_timeout_ms", ValueType::integer};
    timeout.minimum = 0;
    timeout.maximum = 3'600'000;
    timeout.description = "limit on one call into this plugin; default [plugins] call_timeout_ms";
    FieldSpec concurrency{"concurrency", ValueType::integer};
    concurrency.minimum = 1;
    concurrency.maximum = 1024;
    concurrency.description = "calls this plugin runs at once; more wait for a slot (within their timeout); default [plugins] concurrency";
    return std::vector<FieldSpec>{
        path,
        boolean_field("enabled", true, "load this plugin"),
        boolean_field("required", true, "refuse to start when this plugin fails to load"),
        timeout,
        concurrency,
    };
  }();
  return fields;
}

void apply_environment_overrides(const TableSpec& spec, Validator& validator, Settings& settings) {
  apply_overrides(spec, "", validator, settings);
}

}  // namespace framehouse::config
