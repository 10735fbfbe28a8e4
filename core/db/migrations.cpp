// The server's schema, one migration per step, shared by SQLite and PostgreSQL. Times are
// stored as BIGINT seconds since the epoch on both.
//
// Never edit a migration that has shipped: add a new one.
#include "db/database.hpp"

namespace framehouse::db {

const std::vector<Migration>& server_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "plugin_history",
       [](const Dialect&) -> std::vector<std::string> {
         // Every plugin version that ever ran here, with the third party behind it and the
         // personal data it received: the processors register must still name a processor
         // after its plugin was removed.
         return {
             "CREATE TABLE plugin_history ("
             " name TEXT NOT NULL,"
             " version TEXT NOT NULL,"
             " interfaces TEXT NOT NULL,"
             " personal_data TEXT NOT NULL,"
             " third_party TEXT NOT NULL,"
             " purpose TEXT NOT NULL,"
             " first_loaded_at BIGINT NOT NULL,"
             " last_loaded_at BIGINT NOT NULL,"
             " PRIMARY KEY (name, version))",
         };
       }},
      {2, "accounts",
       [](const Dialect& d) -> std::vector<std::string> {
         // Everything here is about a person and is reached by the accounts privacy
         // participant (accounts/privacy_participant.cpp) through user_id. The date of birth
         // is never stored: only when the age check passed.
         return {
             "CREATE TABLE users ("
             " id TEXT PRIMARY KEY,"
             " email TEXT NOT NULL UNIQUE,"
             " name TEXT NOT NULL,"
             " password_hash TEXT NOT NULL,"
             " role TEXT NOT NULL,"
             " email_verified_at BIGINT,"
             " age_check_passed_at BIGINT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL)",
             // Single-use tokens sent by email: verification, password reset, email change.
             "CREATE TABLE email_tokens ("
             " token_hash TEXT PRIMARY KEY,"
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " purpose TEXT NOT NULL,"
             " new_email TEXT,"
             " created_at BIGINT NOT NULL,"
             " expires_at BIGINT NOT NULL)",
             "CREATE INDEX email_tokens_user ON email_tokens (user_id)",
             // Sessions and API keys: only the hash of the bearer token is kept.
             "CREATE TABLE credentials ("
             " id TEXT PRIMARY KEY,"
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " kind TEXT NOT NULL,"
             " token_hash TEXT NOT NULL UNIQUE,"
             " label TEXT NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " last_used_at BIGINT NOT NULL,"
             " expires_at BIGINT)",
             "CREATE INDEX credentials_user ON credentials (user_id, kind)",
             "CREATE TABLE preferences ("
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " category TEXT NOT NULL,"
             " enabled INTEGER NOT NULL,"
             " updated_at BIGINT NOT NULL,"
             " PRIMARY KEY (user_id, category))",
             "CREATE TABLE preference_history ("
             " id " + d.auto_id_column() + ","
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " category TEXT NOT NULL,"
             " enabled INTEGER NOT NULL,"
             " source TEXT NOT NULL,"
             " changed_at BIGINT NOT NULL)",
             "CREATE INDEX preference_history_user ON preference_history (user_id)",
             // How the app is used: typed events, never free text.
             "CREATE TABLE usage_events ("
             " id " + d.auto_id_column() + ","
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " event_type TEXT NOT NULL,"
             " occurred_at BIGINT NOT NULL)",
             "CREATE INDEX usage_events_user ON usage_events (user_id)",
             "CREATE INDEX usage_events_time ON usage_events (occurred_at)",
             // Failed sign-ins, by account ("user:<id>") or by keyed hash of the client address
             // ("addr:<hash>"): the address itself is never stored.
             "CREATE TABLE sign_in_failures ("
             " throttle_key TEXT PRIMARY KEY,"
             " failures INTEGER NOT NULL,"
             " window_started_at BIGINT NOT NULL)",
             // Secrets the server generates for itself (keys for hashing addresses and the like).
             "CREATE TABLE server_secrets ("
             " name TEXT PRIMARY KEY,"
             " secret TEXT NOT NULL)",
         };
       }},
      {3, "uploads",
       [](const Dialect&) -> std::vector<std::string> {
         // Images users uploaded; the bytes are in the storage plugin under (owner_id, id).
         // Reached by the uploads privacy participant (video/uploads.cpp).
         return {
             "CREATE TABLE uploads ("
             " id TEXT PRIMARY KEY,"
             " owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " content_type TEXT NOT NULL,"
             " width INTEGER NOT NULL,"
             " height INTEGER NOT NULL,"
             " bytes BIGINT NOT NULL,"
             " created_at BIGINT NOT NULL)",
             "CREATE INDEX uploads_owner ON uploads (owner_id, created_at)",
         };
       }},
      {4, "videos",
       [](const Dialect&) -> std::vector<std::string> {
         // A video is also its generation job. Prompts are the user's content; the rendered
         // files live in the storage plugin under (owner_id, <id>.mp4 / <id>.jpg).
         return {
             "CREATE TABLE videos ("
             " id TEXT PRIMARY KEY,"
             " owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " status TEXT NOT NULL,"
             " model TEXT NOT NULL,"
             " prompt TEXT NOT NULL,"
             " width INTEGER NOT NULL,"
             " height INTEGER NOT NULL,"
             " seconds INTEGER NOT NULL,"
             " fps INTEGER NOT NULL,"
             " seed BIGINT NOT NULL,"
             " input_image_id TEXT,"
             " remixed_from TEXT,"
             " progress INTEGER NOT NULL,"
             " error_code TEXT,"
             " error_message TEXT,"
             " cancel_requested INTEGER NOT NULL,"
             " lease_owner TEXT,"
             " lease_expires_at BIGINT,"
             " attempts INTEGER NOT NULL,"
             " created_at BIGINT NOT NULL,"
             " started_at BIGINT,"
             " completed_at BIGINT,"
             " expires_at BIGINT)",
             "CREATE INDEX videos_owner ON videos (owner_id, created_at)",
             "CREATE INDEX videos_queue ON videos (status, created_at)",
         };
       }},
      {5, "billing",
       [](const Dialect&) -> std::vector<std::string> {
         // Subscriptions (reached by the billing privacy participant) and each video's plan
         // terms at the time it was made.
         return {
             "CREATE TABLE subscriptions ("
             " user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
             " plan TEXT NOT NULL,"
             " status TEXT NOT NULL,"
             " current_period_end BIGINT NOT NULL,"
             " auto_renew INTEGER NOT NULL,"
             " prepaid_periods INTEGER NOT NULL,"
             " customer_id TEXT,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL)",
             "ALTER TABLE videos ADD COLUMN retention_seconds BIGINT NOT NULL DEFAULT 604800",
             "ALTER TABLE videos ADD COLUMN watermark INTEGER NOT NULL DEFAULT 0",
         };
       }},
      {6, "privacy",
       [](const Dialect&) -> std::vector<std::string> {
         // Data keys have no foreign key to users: erasure destroys the key first, before any
         // participant runs, so that an object that escapes deletion is already unreadable.
         // Requests and tasks hold the whole state of every privacy request: a restarted or
         // another server resumes from them. A finished erasure keeps only non-identifying
         // columns (subject_hash, outcomes, the signed receipt).
         return {
             "CREATE TABLE data_keys ("
             " person_id TEXT PRIMARY KEY,"
             " wrapped_key TEXT NOT NULL,"
             " master_key_id TEXT NOT NULL,"
             " created_at BIGINT NOT NULL)",
             "CREATE TABLE privacy_requests ("
             " id TEXT PRIMARY KEY,"
             " type TEXT NOT NULL,"
             " source TEXT NOT NULL,"
             " status TEXT NOT NULL,"
             " subject_id TEXT,"
             " subject_email TEXT,"
             " subject_hash TEXT NOT NULL,"
             " details TEXT,"
             " code_hash TEXT,"
             " code_expires_at BIGINT,"
             " code_attempts INTEGER NOT NULL DEFAULT 0,"
             " not_before BIGINT NOT NULL,"
             " due_at BIGINT NOT NULL,"
             " extension_reason TEXT,"
             " extended_at BIGINT,"
             " status_reason TEXT,"
             " client_hash TEXT,"
             " export_object TEXT,"
             " export_expires_at BIGINT,"
             " download_token_hash TEXT,"
             " receipt TEXT,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL,"
             " completed_at BIGINT)",
             "CREATE INDEX privacy_requests_subject ON privacy_requests (subject_id, type, status)",
             "CREATE INDEX privacy_requests_status ON privacy_requests (status, due_at)",
             // At most one open access and one open erasure per subject, even under a race.
             "CREATE UNIQUE INDEX privacy_requests_open ON privacy_requests (subject_hash, type)"
             " WHERE status IN ('pending', 'in_progress', 'on_hold') AND type IN ('access', 'erasure')",
             "CREATE TABLE privacy_tasks ("
             " request_id TEXT NOT NULL REFERENCES privacy_requests(id) ON DELETE CASCADE,"
             " participant TEXT NOT NULL,"
             " stage INTEGER NOT NULL,"
             " status TEXT NOT NULL,"
             " attempts INTEGER NOT NULL DEFAULT 0,"
             " next_attempt_at BIGINT NOT NULL,"
             " lease_owner TEXT,"
             " lease_expires_at BIGINT,"
             " outcome TEXT,"
             " last_error TEXT,"
             " completed_at BIGINT,"
             " PRIMARY KEY (request_id, participant))",
             "CREATE INDEX privacy_tasks_due ON privacy_tasks (status, next_attempt_at)",
             "CREATE TABLE legal_holds ("
             " id TEXT PRIMARY KEY,"
             " subject_id TEXT NOT NULL,"
             " reason TEXT NOT NULL,"
             " reference TEXT NOT NULL,"
             " expires_at BIGINT,"
             " placed_by TEXT NOT NULL,"
             " placed_at BIGINT NOT NULL,"
             " lifted_at BIGINT)",
             "CREATE INDEX legal_holds_subject ON legal_holds (subject_id)",
         };
       }},
      {7, "audit log",
       [](const Dialect&) -> std::vector<std::string> {
         // Append-only: the application never updates or deletes a row (see audit/audit_log.hpp).
         return {
             "CREATE TABLE audit_log ("
             " seq BIGINT PRIMARY KEY,"
             " occurred_at BIGINT NOT NULL,"
             " actor TEXT NOT NULL,"
             " action TEXT NOT NULL,"
             " target TEXT NOT NULL,"
             " detail TEXT NOT NULL,"
             " prev_hash TEXT NOT NULL,"
             " entry_hash TEXT NOT NULL)",
         };
       }},
      {8, "communications and policy",
       [](const Dialect&) -> std::vector<std::string> {
         // One-click unsubscribe links (only their hash), policy notices sent and
         // acknowledgements given: all per person, exported and erased with the account.
         // Disclosures on legal requests: an append-only record kept for the legal obligation.
         return {
             "CREATE TABLE unsubscribe_tokens ("
             " token_hash TEXT PRIMARY KEY,"
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " category TEXT NOT NULL,"
             " created_at BIGINT NOT NULL)",
             "CREATE INDEX unsubscribe_tokens_user ON unsubscribe_tokens (user_id)",
             "CREATE TABLE policy_versions ("
             " version TEXT PRIMARY KEY,"
             " last_updated TEXT NOT NULL,"
             " first_seen_at BIGINT NOT NULL)",
             "CREATE TABLE policy_notices ("
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " version TEXT NOT NULL,"
             " sent_at BIGINT NOT NULL,"
             " PRIMARY KEY (user_id, version))",
             "CREATE TABLE policy_acknowledgements ("
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " version TEXT NOT NULL,"
             " acknowledged_at BIGINT NOT NULL,"
             " PRIMARY KEY (user_id, version))",
             "CREATE TABLE disclosures ("
             " id TEXT PRIMARY KEY,"
             " subject_id TEXT NOT NULL,"
             " authority TEXT NOT NULL,"
             " legal_basis TEXT NOT NULL,"
             " reference TEXT NOT NULL,"
             " categories TEXT NOT NULL,"
             " disclosed_at BIGINT NOT NULL,"
             " notice_restricted INTEGER NOT NULL,"
             " restriction_basis TEXT,"
             " recorded_by TEXT NOT NULL,"
             " recorded_at BIGINT NOT NULL)",
             "CREATE INDEX disclosures_subject ON disclosures (subject_id)",
         };
       }},
      {9, "rate limits",
       [](const Dialect&) -> std::vector<std::string> {
         // Failed sign-ins are one kind of counted event among others now (mail anyone can
         // cause, by "mail:<keyed hash of the address>").
         return {
             "ALTER TABLE sign_in_failures RENAME TO rate_limits",
             "ALTER TABLE rate_limits RENAME COLUMN failures TO events",
         };
       }},
      {10, "idempotent video submission",
       [](const Dialect&) -> std::vector<std::string> {
         // A client's Idempotency-Key and a fingerprint of what it asked: a retry gets the
         // video the first request made. They go with the video.
         return {
             "ALTER TABLE videos ADD COLUMN idempotency_key TEXT",
             "ALTER TABLE videos ADD COLUMN request_fingerprint TEXT",
             "CREATE UNIQUE INDEX videos_idempotency ON videos (owner_id, idempotency_key)",
         };
       }},
      {11, "previous addresses and receipt links",
       [](const Dialect&) -> std::vector<std::string> {
         // The addresses an account had before a confirmed change: a provider keyed by address
         // (mail sent to the old one, an intake filed under it) is reached by export and
         // erasure through them. They go with the account.
         return {
             "CREATE TABLE email_history ("
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " email TEXT NOT NULL,"
             " replaced_at BIGINT NOT NULL)",
             "CREATE INDEX email_history_user ON email_history (user_id)",
             // A finished erasure's receipt, fetched by whoever holds the mailed link (the
             // requester is signed out by then). Only the token's hash is kept.
             "ALTER TABLE privacy_requests ADD COLUMN receipt_token_hash TEXT",
             "ALTER TABLE privacy_requests ADD COLUMN receipt_expires_at BIGINT",
             "CREATE INDEX privacy_requests_receipt ON privacy_requests (receipt_token_hash)",
         };
       }},
      {12, "jobs",
       [](const Dialect&) -> std::vector<std::string> {
         // One durable queue for work that must happen even if the process dies, first the
         // outgoing mail (the outbox). A job about a person (subject_id, or their address in a
         // queued message) is exported and erased with them; a sent message's payload is
         // cleared at once. Times are in milliseconds.
         return {
             "CREATE TABLE jobs ("
             " id TEXT PRIMARY KEY,"
             " queue TEXT NOT NULL,"
             " state TEXT NOT NULL,"
             " subject_id TEXT,"
             " label TEXT NOT NULL,"
             " payload TEXT,"
             " attempts INTEGER NOT NULL,"
             " run_at_ms BIGINT NOT NULL,"
             " lease_owner TEXT,"
             " lease_expires_at_ms BIGINT,"
             " last_error TEXT,"
             " result TEXT,"
             " created_at_ms BIGINT NOT NULL,"
             " started_at_ms BIGINT,"
             " finished_at_ms BIGINT)",
             "CREATE INDEX jobs_due ON jobs (queue, state, run_at_ms)",
             "CREATE INDEX jobs_subject ON jobs (subject_id)",
         };
       }},
      {13, "video jobs in the job queue",
       [](const Dialect&) -> std::vector<std::string> {
         // A video's job is a row of the job queue now (same id), which holds its lease; the
         // videos waiting or running when the server was upgraded are queued there.
         return {
             "INSERT INTO jobs (id, queue, state, subject_id, label, payload, attempts, run_at_ms, created_at_ms)"
             " SELECT id, 'video', 'ready', owner_id, 'video: generation', '{\"video_id\":\"' || id || '\"}', 0,"
             " created_at * 1000, created_at * 1000 FROM videos WHERE status IN ('queued', 'in_progress')",
             "UPDATE videos SET status = 'queued' WHERE status = 'in_progress'",
             "ALTER TABLE videos DROP COLUMN lease_owner",
             "ALTER TABLE videos DROP COLUMN lease_expires_at",
         };
       }},
      {14, "privacy tasks in the job queue",
       [](const Dialect&) -> std::vector<std::string> {
         // A task that may run has a job (privacy_tasks.job_id), which holds its lease; tasks
         // that were running are pending again and get their jobs when the server starts.
         return {
             "ALTER TABLE privacy_tasks ADD COLUMN job_id TEXT",
             "UPDATE privacy_tasks SET status = 'pending' WHERE status = 'running'",
             "ALTER TABLE privacy_tasks DROP COLUMN lease_owner",
             "ALTER TABLE privacy_tasks DROP COLUMN lease_expires_at",
         };
       }},
      {15, "what a generation engine remembers with a job",
       [](const Dialect&) -> std::vector<std::string> {
         // generation 1.1's GenerationSink::remember(): a remote job's handle, kept until the
         // job ends, so that a rerun reattaches to it.
         return {"ALTER TABLE videos ADD COLUMN engine_state TEXT"};
       }},
      {16, "scoped API keys",
       [](const Dialect&) -> std::vector<std::string> {
         // A key may do only what its scopes say; the keys made before keep what they were for
         // (videos and images), and lose the rest (keys, sessions, the account).
         return {"ALTER TABLE credentials ADD COLUMN scopes TEXT",
                 "UPDATE credentials SET scopes = 'videos:read videos:write images:read images:write' WHERE kind = 'api_key'"};
       }},
      {17, "when a session last proved the password",
       [](const Dialect&) -> std::vector<std::string> {
         // Sensitive changes need a recent proof (sign-in or re-authentication); sessions
         // started before have none and ask for the password.
         return {"ALTER TABLE credentials ADD COLUMN authenticated_at BIGINT"};
       }},
      {18, "exponential backoff of failed sign-ins",
       [](const Dialect&) -> std::vector<std::string> {
         // The wait after the free attempts runs from the last failure, doubling with each.
         return {"ALTER TABLE rate_limits ADD COLUMN last_event_at BIGINT"};
       }},
      {19, "suspended accounts",
       [](const Dialect&) -> std::vector<std::string> {
         return {"ALTER TABLE users ADD COLUMN suspended_at BIGINT", "ALTER TABLE users ADD COLUMN suspension_reason TEXT"};
       }},
      {20, "two-factor sign-in",
       [](const Dialect&) -> std::vector<std::string> {
         // The TOTP secret is sealed with the person's data key (never stored in the clear);
         // last_step is the newest step whose code was used, so that no code works twice.
         // Recovery codes and sign-in challenges are stored as hashes, like every token.
         return {
             "CREATE TABLE totp_factors (user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE, sealed_secret TEXT NOT NULL,"
             " confirmed_at BIGINT, last_step BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)",
             "CREATE TABLE recovery_codes (user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, code_hash TEXT NOT NULL,"
             " created_at BIGINT NOT NULL, used_at BIGINT, PRIMARY KEY (user_id, code_hash))",
             "CREATE TABLE sign_in_challenges (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
             " label TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, expires_at BIGINT NOT NULL)",
             "CREATE INDEX sign_in_challenges_user ON sign_in_challenges (user_id)",
             // When the session proved a second factor (staff roles may need one).
             "ALTER TABLE credentials ADD COLUMN second_factor_at BIGINT",
         };
       }},
      {21, "enterprise sign-in (OpenID Connect)",
       [](const Dialect&) -> std::vector<std::string> {
         return {
             // Which issuer's subject is which account.
             "CREATE TABLE sso_identities (provider TEXT NOT NULL, subject TEXT NOT NULL,"
             " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, linked_at BIGINT NOT NULL,"
             " last_sign_in_at BIGINT NOT NULL, PRIMARY KEY (provider, subject))",
             "CREATE INDEX sso_identities_user ON sso_identities (user_id)",
             // A sign-in on its way through the provider (state, nonce, PKCE verifier), and —
             // for a new account that must pass the age gate — the identity the provider vouched
             // for, until the birth date is given. Minutes at most, before any account exists.
             "CREATE TABLE sso_logins (state_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, nonce TEXT NOT NULL,"
             " code_verifier TEXT NOT NULL, return_to TEXT NOT NULL, expires_at BIGINT NOT NULL, ticket_hash TEXT,"
             " subject TEXT, email TEXT, email_verified INTEGER, name TEXT)",
             "CREATE INDEX sso_logins_ticket ON sso_logins (ticket_hash)",
         };
       }},
      {22, "several generation engines, routed by model",
       [](const Dialect&) -> std::vector<std::string> {
         return {
             // The engine (plugin) and its own name of the model a video runs on; NULL for
             // videos from before: the server's default engine, as `model` (set at start).
             "ALTER TABLE videos ADD COLUMN engine TEXT",
             "ALTER TABLE videos ADD COLUMN engine_model TEXT",
             // Why a queued video waits (its engine is unavailable); NULL when it just waits
             // for its turn.
             "ALTER TABLE videos ADD COLUMN status_reason TEXT",
             "CREATE INDEX videos_engine_queue ON videos (engine, status, created_at)",
         };
       }},
      {23, "first-admin setup links",
       [](const Dialect&) -> std::vector<std::string> {
         // While no account is an admin, the link the server prints at start to make the first
         // one in the browser: stored as a hash, an hour, once. Nothing about a person.
         return {"CREATE TABLE setup_tokens (token_hash TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)"};
       }},
      {24, "billing state apart from entitlement; payment events applied once",
       [](const Dialect&) -> std::vector<std::string> {
         return {
             // The entitlement may be in grace after an unpaid renewal; the holder's last
             // auto-renew choice is dated, so that an older processor event does not undo it.
             "ALTER TABLE subscriptions ADD COLUMN grace_until BIGINT",
             "ALTER TABLE subscriptions ADD COLUMN auto_renew_changed_at BIGINT NOT NULL DEFAULT 0",
             // What the payment processor says about a person (reached by the billing privacy
             // participant): its customer and subscription ids, the subscription's state and
             // period, and when the processor made the newest event applied to it.
             "CREATE TABLE billing_accounts ("
             " user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
             " customer_id TEXT NOT NULL UNIQUE,"
             " subscription_id TEXT UNIQUE,"
             " state TEXT NOT NULL,"
             " plan TEXT,"
             " period_end BIGINT NOT NULL DEFAULT 0,"
             " cancel_at_period_end INTEGER NOT NULL DEFAULT 0,"
             " state_at BIGINT NOT NULL DEFAULT 0,"
             " created_at BIGINT NOT NULL,"
             " updated_at BIGINT NOT NULL)",
             "INSERT INTO billing_accounts (user_id, customer_id, state, created_at, updated_at)"
             " SELECT user_id, customer_id, 'none', created_at, updated_at FROM subscriptions WHERE customer_id IS NOT NULL",
             "ALTER TABLE subscriptions DROP COLUMN customer_id",
             // Each processor event id, once: the key that makes a webhook apply once across
             // nodes. Nothing about a person (the event's content is not kept).
             "CREATE TABLE payment_events (processor TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL,"
             " received_at BIGINT NOT NULL, PRIMARY KEY (processor, event_id))",
             "CREATE INDEX payment_events_received ON payment_events (received_at)",
         };
       }},
  };
  return migrations;
}

}  // namespace framehouse::db
