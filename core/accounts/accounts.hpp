// Accounts and identity: sign-up with the age gate, email verification, sign-in with
// throttling, sessions and API keys (bearer tokens, stored only as hashes), password reset and
// change, profile, communication and data-use preferences with their history, usage events.
//
// Plain C++ over the database and the mailer: no HTTP here (routes.cpp translates).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "clock/clock.hpp"
#include "crypto/crypto.hpp"
#include "db/database.hpp"
#include "mail/mailer.hpp"
#include "storage/data_keys.hpp"
#include "workers/task_processor.hpp"

namespace framehouse::accounts {

struct AccountsConfig {
  int minimum_age = 13;
  std::size_t password_min_length = 10;
  crypto::PasswordCost password_cost;
  std::int64_t session_ttl_seconds = 30 * 24 * 3600;
  // A session unused this long ends (an API key never idles out).
  std::int64_t session_idle_seconds = 3 * 24 * 3600;
  // Session cookies carry Secure (and the __Host- prefix): the server is reached over TLS.
  bool secure_cookies = false;
  std::int64_t verification_ttl_seconds = 48 * 3600;
  std::int64_t reset_ttl_seconds = 3600;
  // The link that undoes an address change, mailed to the old address, works this long.
  std::int64_t revert_email_ttl_seconds = 7 * 24 * 3600;
  // A sensitive change needs the password in the request, or a session that proved it this
  // recently (OWASP ASVS 3.7.1).
  std::int64_t reauthentication_seconds = 5 * 60;
  // Staff roles whose permissions work only in a session that signed in with a second factor.
  std::vector<std::string> two_factor_required_for;
  // How long a sign-in may wait for its second factor, and how many codes it may try.
  std::int64_t two_factor_challenge_seconds = 5 * 60;
  int two_factor_challenge_attempts = 5;
  // Wrong one-time codes per account (from any client) before backing off: the codes are six
  // digits, so their guesses are counted across clients (recovery codes are not limited).
  int max_wrong_codes_per_account = 10;
  // Identity providers whose linked accounts may not sign in with a password ([sso.<name>]
  // password_sign_in = false): the enterprise decides who may use the service.
  std::vector<std::string> providers_without_password_sign_in;
  std::string issuer = "Framehouse";  // the name authenticator apps show beside the code
  int max_failures_per_account = 5;
  int max_failures_per_address = 20;
  std::int64_t failure_window_seconds = 15 * 60;
  // Mail that anyone can cause (sign-up notices, password resets, address changes) per address
  // per hour, so that the server cannot be used to flood someone's mailbox.
  int mails_per_address_per_hour = 5;
  bool training_use_default = false;
  std::int64_t usage_retention_seconds = 396LL * 24 * 3600;  // 13 months
  std::string public_url;  // for links in emails
};

// Rows of rate_limits about an email address are keyed by a keyed hash of it, never by the
// address: failed sign-ins to an unknown address, and mail that others caused to be sent to
// it. The key is the server secret of this name.
inline constexpr const char* kAddressKeySecret = "address_key";
std::string sign_in_throttle_key(const std::string& secret, const std::string& address);
std::string mail_throttle_key(const std::string& secret, const std::string& address);
// Failed sign-ins are counted per (account, client): "<account key>|<client key>", so that
// someone elsewhere guessing cannot lock the owner out. What every client's count for one
// account starts with (for clearing them all: a reset, an erasure):
std::string account_throttle_prefix(const std::string& account_key);
// Deletes every per-client count of the account; returns how many.
long long delete_account_throttles(soci::session& sql, const std::string& account_key);

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string role;  // one of role_names() (roles.hpp)
  bool email_verified = false;
  std::int64_t created_at = 0;
  std::optional<std::string> pending_email;  // an email change awaiting verification
  std::optional<std::int64_t> suspended_at;  // staff suspended the account (the reason is theirs)
};

// What an API key may do, chosen when it is made. A key is for programs that make videos (an
// OpenAI-style client): it can never manage keys, sessions, credentials, the address, billing,
// privacy requests or the account itself, and never acts as staff — a signed-in session can.
enum class Scope { videos_read, videos_write, images_read, images_write, account_read };
inline constexpr Scope kScopes[] = {Scope::videos_read, Scope::videos_write, Scope::images_read, Scope::images_write,
                                    Scope::account_read};
// A key made without a choice gets what a video client needs, and nothing about the account.
inline constexpr Scope kDefaultKeyScopes[] = {Scope::videos_read, Scope::videos_write, Scope::images_read,
                                              Scope::images_write};
std::string_view to_string(Scope scope);  // "videos:read", ...
std::optional<Scope> scope_from(std::string_view name);
// "videos:read videos:write" ↔ scopes (as stored); unknown names are dropped.
std::string scopes_text(const std::vector<Scope>& scopes);
std::vector<Scope> scopes_from_text(std::string_view text);

struct Credential {
  std::string id;
  std::string kind;   // "session" or "api_key"
  std::string label;  // client (sessions) or name (API keys)
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::optional<std::int64_t> expires_at;
  std::vector<Scope> scopes;  // an API key's
};

struct AuthContext {
  std::string user_id;
  std::string role;
  std::string credential_id;
  std::string kind;
  bool email_verified = false;
  std::vector<Scope> scopes;  // an API key's; a session is not limited by scopes
  std::int64_t authenticated_at = 0;  // a session's sign-in or last re-authentication
  bool second_factor = false;  // the session proved a second factor (sign-in or enrolment)
  bool from_cookie = false;    // a browser's session cookie, not an Authorization header

  bool is_session() const { return kind == "session"; }
  bool allows(Scope scope) const {
    return is_session() || std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
  }
};

struct FieldError {
  std::string field;
  std::string message;
};
using FieldErrors = std::vector<FieldError>;

struct SignUpRequest {
  std::string name;
  std::string email;
  std::string password;
  std::string date_of_birth;  // "YYYY-MM-DD"; checked, never stored
};

enum class SignUpStatus { accepted, underage, invalid };

struct SignInResult {
  // frozen: the password was right, but an erasure of the account waits under a legal hold
  // and no new session may start (told only to whoever knows the password).
  // suspended: the password was right, but staff suspended the account.
  // identity_provider_only: the password was right, but the account signs in through its
  // enterprise identity provider only.
  // second_factor_required: the password was right and the account has two-factor sign-in:
  // `challenge` (shown once) completes it with a code (complete_sign_in).
  enum class Status {
    signed_in,
    bad_credentials,
    throttled,
    frozen,
    suspended,
    second_factor_required,
    identity_provider_only
  } status =
      Status::bad_credentials;
  std::string token;  // the bearer token, shown once
  Credential session;
  std::int64_t retry_after_seconds = 0;
  std::string challenge;
  std::int64_t challenge_expires_at = 0;
};

// Two-factor sign-in (TOTP): set up by begin_totp_enrolment, on once a first code confirms it.
struct TwoFactorStatus {
  bool enabled = false;
  std::optional<std::int64_t> enabled_at;
  bool enrolment_pending = false;  // begun, not confirmed yet
  int recovery_codes_left = 0;
};
struct TotpEnrolment {
  std::string secret;  // base32, for typing into an app
  std::string uri;     // otpauth://totp/…, for a QR code
};
inline constexpr int kRecoveryCodeCount = 10;

// A person as an enterprise identity provider (OpenID Connect) vouches for them.
struct ExternalIdentity {
  std::string provider;  // the deployment's name for the issuer ([sso.<name>])
  std::string subject;   // the issuer's stable id of the person ("sub")
  std::string email;
  bool email_verified = false;
  std::string name;
};

struct NewApiKey {
  Credential credential;
  std::string key;  // shown once
};

// The preference categories, in order. "account" is always on.
const std::vector<std::string>& preference_categories();

// Ends every session, API key and sign-in waiting for its second factor of the account, in
// the caller's session (a reset, a reverted address change, a suspension).
void end_every_credential(soci::session& sql, const std::string& user_id);

// Keeps an address the account no longer uses (after a confirmed change), in the caller's
// transaction, so that what others keep under it stays reachable by export and erasure.
void remember_previous_email(soci::session& sql, const std::string& user_id, const std::string& email, std::int64_t now);

class Accounts {
 public:
  Accounts(db::Database& database, mail::Mailer& mailer, AccountsConfig config, UnixClock clock = unix_now);
  ~Accounts();
  Accounts(const Accounts&) = delete;
  Accounts& operator=(const Accounts&) = delete;
  // The change notice every node's Accounts forget what they recently read on: a revocation,
  // a role, a verification, a profile change (db::ChangeFeed).
  static constexpr const char* kChangeTopic = "accounts";
  // Password hashing (argon2id) runs on `cpu` (borrowed) from now on, so that however many
  // sign-ins come at once they take only its threads, never an I/O thread or every core.
  void hash_passwords_on(workers::TaskProcessor& cpu) { cpu_ = &cpu; }

  // Every problem with the request's fields, without touching the database.
  FieldErrors check_sign_up(const SignUpRequest& request) const;
  // Sign-up never tells an anonymous caller whether the address is registered: an existing
  // address gets a notice by mail instead of a new account, and the caller the same answer.
  SignUpStatus sign_up(const SignUpRequest& request, FieldErrors& errors);
  // Consumes a verification or email-change token. False for an unknown, used or expired one.
  bool confirm_email(const std::string& token);
  // Mails a fresh verification link if the address has an account that is not verified yet
  // (within the per-address mail cap). Looks the same to the caller either way.
  void resend_verification(const std::string& email);

  // With two-factor sign-in on, `second_factor` (a current code or a recovery code) finishes
  // the sign-in at once; without it, a challenge is issued. A right password with a right
  // second factor always gets through, however many failures from elsewhere came before.
  SignInResult sign_in(const std::string& email, const std::string& password, const std::string& client,
                       const std::string& client_address, const std::optional<std::string>& second_factor = std::nullopt);
  // The second step: a challenge from sign_in and a code. bad_credentials for a wrong code or
  // an unknown, used or expired challenge (which dies after a few wrong codes).
  SignInResult complete_sign_in(const std::string& challenge, const std::string& code);
  std::optional<AuthContext> authenticate(const std::string& bearer_token);
  // Browser sessions: the token a state-changing request made with the session cookie must
  // carry in X-CSRF-Token (a keyed hash of the session id: nothing to store), and its check.
  std::string csrf_token(const std::string& session_id) const;
  bool csrf_token_matches(const AuthContext& session, std::string_view token) const;
  bool secure_cookies() const { return config_.secure_cookies; }
  std::int64_t session_lifetime_seconds() const { return config_.session_ttl_seconds; }
  // A new token for the same session (its old one stops working): after the session gained
  // privilege (a re-authentication, a second factor), so that a token fixed or seen before
  // is worth nothing. Nullopt if the session no longer exists.
  std::optional<std::string> rotate_session_token(const AuthContext& session);

  std::vector<Credential> credentials(const std::string& user_id, const std::string& kind);
  // False when the credential does not exist or is not this user's.
  bool revoke(const std::string& user_id, const std::string& credential_id, const std::string& kind);
  // Revokes the user's sessions except `keep` (empty: all). Returns how many.
  int revoke_sessions(const std::string& user_id, const std::string& keep);
  NewApiKey create_api_key(const std::string& user_id, const std::string& label, const std::vector<Scope>& scopes);

  // Always looks the same to the caller; mails a reset link if the address has an account.
  void request_password_reset(const std::string& email);
  FieldErrors reset_password(const std::string& token, const std::string& new_password);
  FieldErrors change_password(const AuthContext& who, const std::string& current, const std::string& replacement);
  // Whether a sensitive change may go ahead without the password: a session that signed in
  // or re-authenticated within reauthentication_seconds.
  bool recently_authenticated(const AuthContext& who) const;
  // Checks the account's password (throttled like sign-ins, per account and session); on a
  // session, marks it re-authenticated now.
  enum class Reauthentication { confirmed, wrong_password, throttled };
  Reauthentication reauthenticate(const AuthContext& who, const std::string& password);
  // The same with a second factor (a current code or a recovery code) instead of the password.
  Reauthentication reauthenticate_with_code(const AuthContext& who, const std::string& code);

  // Two-factor sign-in. The secret is sealed with the person's data key (seal_secrets_with);
  // without one attached, enrolment throws.
  void seal_secrets_with(storage::DataKeys& keys) { data_keys_ = &keys; }
  TwoFactorStatus two_factor(const std::string& user_id);
  // A new secret, replacing an unconfirmed one; nullopt when two-factor sign-in is on already.
  std::optional<TotpEnrolment> begin_totp_enrolment(const std::string& user_id);
  // Turns it on with the first code from the app: the recovery codes (shown once), or empty
  // for a wrong code or no enrolment. The session `who` counts as having proved it.
  std::vector<std::string> confirm_totp(const AuthContext& who, const std::string& code);
  // Turns it off (the owner, re-authenticated; or an admin helping one who lost the device:
  // `by_staff`). False when it was not on. The owner is told by mail.
  bool disable_two_factor(const std::string& user_id, bool by_staff);
  // Replaces every recovery code; empty when two-factor sign-in is off.
  std::vector<std::string> new_recovery_codes(const std::string& user_id);
  // Whether staff permissions of `who`'s role need a session with a second factor it lacks.
  bool lacks_required_second_factor(const AuthContext& who) const;
  // The link mailed to the old address when the address changes: the old address comes back
  // (or the pending change is dropped), every session and API key ends, and a reset link goes
  // to the restored address. False for an unknown, used or expired link.
  bool revert_email_change(const std::string& token);

  std::optional<User> find(const std::string& user_id);
  // The account registered under the address (normalised first), if any.
  std::optional<User> find_by_email(const std::string& email);
  // Every address the account is or was known by: the current one, one awaiting
  // confirmation, and earlier ones. Empty for an unknown account.
  std::vector<std::string> addresses(const std::string& user_id);
  // Name changes at once; an email change is mailed for verification to the new address
  // (the old one is told) and takes effect when confirmed.
  FieldErrors update_profile(const AuthContext& who, const std::optional<std::string>& name,
                             const std::optional<std::string>& email);

  std::map<std::string, bool> preferences(const std::string& user_id);
  // Every change of a choice, newest first (at most `limit`): what, when, and from where.
  struct PreferenceChange {
    std::string category;
    bool enabled = false;
    std::string source;  // settings, unsubscribe link, GPC signal, privacy request, sign-up, ...
    std::int64_t changed_at = 0;
  };
  std::vector<PreferenceChange> preference_history(const std::string& user_id, int limit);
  // Records an opt-out of a category (not "account") with its source, even when it was off
  // already (an unsubscribe click is an instruction worth keeping), and tells the listener.
  // False for an unknown category or user.
  bool opt_out(const std::string& user_id, const std::string& category, const std::string& source);
  // A Global Privacy Control signal (Sec-GPC: 1): a sale_sharing opt-out, recorded once.
  bool record_global_privacy_control(const std::string& user_id);
  FieldErrors set_preferences(const std::string& user_id, const std::map<std::string, bool>& changes,
                              const std::string& source);

  // Users by id, after `after_id`; with a `query`, only those whose address or name starts with
  // it (ignoring case; a whole address matches itself).
  std::vector<User> list_users(std::size_t limit, const std::string& after_id, const std::string& query = "");
  // Staff helping an owner: the address counts as verified (the owner showed it is theirs).
  bool mark_email_verified(const std::string& user_id);
  // Enterprise sign-in. The account linked to the identity; without a link, with
  // `link_by_email`, the account whose address the provider verified (linked from then on).
  std::optional<std::string> identity_account(const ExternalIdentity& identity, bool link_by_email);
  // A new account for the identity, linked to it: the provider verified the address and the
  // age gate was passed (a birth date asked, or a trusted claim). Throws std::invalid_argument
  // for an unusable address or name, or an address another account has.
  std::string create_identity_account(const ExternalIdentity& identity);
  // A session for an account whose identity the provider proved now (suspension and freezing
  // checked as at sign-in). `second_factor`: the provider reported a multi-factor sign-in;
  // without one, an account with two-factor sign-in on gets a challenge instead, as after a
  // password.
  SignInResult sign_in_with_identity(const std::string& user_id, const ExternalIdentity& identity, const std::string& client,
                                     bool second_factor);

  // Every account, a page at a time (no database session is held while `visit` runs).
  void for_each_user(const std::function<void(const User&)>& visit);
  // Gives the account a role from role_names(). The last admin keeps the role: a deployment
  // without one could never be administered again.
  enum class RoleChange { changed, no_such_account, last_admin };
  RoleChange set_role(const std::string& user_id, const std::string& role);
  // Staff stop an account: every session and key ends, sign-in is refused with a clear
  // message, the reason is kept (and shown to staff); the processing it started stops (see
  // on_suspended). The last active admin cannot be suspended.
  RoleChange suspend(const std::string& user_id, const std::string& reason);
  bool unsuspend(const std::string& user_id);
  // Told after an account was suspended (its running jobs are canceled).
  using Suspended = std::function<void(const std::string& user_id)>;
  void on_suspended(Suspended listener) { suspended_ = std::move(listener); }
  // For the command line: a verified account without the sign-up flow. Throws on bad input.
  std::string create_user(const std::string& name, const std::string& email, const std::string& password,
                          const std::string& role);

  // The first admin, made in the browser (as Gitea and Grafana do), so that nobody has to find
  // the command line first. While no account is an admin: a one-time token, valid for
  // kFirstAdminTokenSeconds and stored as a hash, for the link the server prints at start.
  static constexpr std::int64_t kFirstAdminTokenSeconds = 3600;
  std::optional<std::string> issue_first_admin_token();
  // Uses the token up and makes a verified admin account (the person at the server's console
  // vouches for themselves, as with `admin create-user --admin`). `errors` names bad fields.
  enum class FirstAdmin { created, invalid, token_unusable };
  FirstAdmin create_first_admin(const std::string& token, const std::string& name, const std::string& email,
                                const std::string& password, FieldErrors& errors, std::string& user_id);

  void record_event(const std::string& user_id, const std::string& event_type);
  // The same, in a session the caller holds already.
  void record_event(soci::session& sql, const std::string& user_id, const std::string& event_type);

  // Told after a name or a (confirmed) email address changed, so that the change reaches every
  // other place that keeps a copy (the privacy module's rectification).
  using ProfileChanged = std::function<void(const std::string& user_id, const std::string& field, const std::string& old_value,
                                            const std::string& new_value)>;
  void on_profile_change(ProfileChanged listener) { profile_changed_ = std::move(listener); }
  // Told after a category was turned off (settings, unsubscribe link, GPC), so that the opt-out
  // reaches every plugin.
  using OptedOut = std::function<void(const std::string& user_id, const std::string& category)>;
  void on_opt_out(OptedOut listener) { opted_out_ = std::move(listener); }
  // Told after the owner of a verified address turned a category back on, so that what the
  // earlier opt-out left in plugins (an email provider's suppression) is lifted.
  void on_opt_in(OptedOut listener) { opted_in_ = std::move(listener); }
  // Asked before a new session starts: whether the account is frozen (an erasure of it waits
  // under a legal hold).
  using FrozenCheck = std::function<bool(const std::string& user_id)>;
  void on_frozen_check(FrozenCheck check) { frozen_check_ = std::move(check); }

  // A new privacy policy the person has yet to acknowledge (shown as "policy_update" on
  // GET /v1/me), as the policy module answers it.
  struct PolicyUpdate {
    std::string version;
    std::string last_updated;
  };
  using PendingPolicy = std::function<std::optional<PolicyUpdate>(const User&)>;
  void on_policy_check(PendingPolicy check) { pending_policy_ = std::move(check); }
  std::optional<PolicyUpdate> pending_policy(const User& user) const {
    return pending_policy_ ? pending_policy_(user) : std::nullopt;
  }

  // Where admin actions are recorded (the server always attaches one; tools may not).
  void attach_audit_log(audit::AuditLog& log) { audit_log_ = &log; }
  audit::AuditLog* audit_log() const { return audit_log_; }
  // Counts one request of `purpose` from the client address and says whether it stays within
  // `limit` per window (keyed by a keyed hash of the address, never the address).
  bool within_client_limit(const std::string& purpose, const std::string& client_address, int limit, std::int64_t window_seconds);
  // Deletes usage events past retention, expired tokens and sessions, stale throttles.
  std::int64_t purge_expired();

 private:
  // One live token per purpose (a new one replaces the old) unless `keep_earlier`: every
  // revert link an address change mailed stays usable, however many changes follow it.
  int active_admins(soci::session& sql);  // admins that are not suspended
  std::string issue_email_token(soci::session& sql, const std::string& user_id, const std::string& purpose,
                                const std::optional<std::string>& new_email, std::int64_t ttl, bool keep_earlier = false);
  std::string hash_password(const std::string& password);
  bool verify_password(const std::string& stored_hash, const std::string& password);
  // A verified account whose age check someone vouched for (an operator, an identity
  // provider with the age gate), with the default preferences; in the caller's transaction.
  void insert_vouched_user(soci::session& sql, const std::string& id, const std::string& email, const std::string& name,
                           const std::string& password_hash, const std::string& role, const std::string& preference_source);
  // Whether the account is linked to a provider with password_sign_in = false.
  bool signs_in_through_provider_only(const std::string& user_id);
  // The first factor was proved: a challenge (stored as a hash) for the second.
  SignInResult second_factor_challenge(const std::string& user_id, const std::string& label);
  // A new session for a user whose password (and second factor, if on) was proved.
  SignInResult start_session(const std::string& user_id, const std::string& label, bool second_factor);
  // Checks a second factor: a TOTP code (6 digits; never the same step twice; wrong ones
  // counted per account) or an unused recovery code (used up). In its own pooled session.
  enum class SecondFactor { accepted, wrong, throttled };
  SecondFactor check_second_factor(const std::string& user_id, const std::string& code, std::int64_t& retry_after);
  bool two_factor_enabled(soci::session& sql, const std::string& user_id);
  // The session `who` proved the password (or a second factor) now.
  void mark_reauthenticated(const AuthContext& who, bool second_factor);
  std::vector<std::string> replace_recovery_codes(soci::session& sql, const std::string& user_id);
  void mail_verification_link(db::WriteTransaction& transaction, const std::string& email, const std::string& user_id,
                              const std::string& token);
  // Queued in the transaction of the change it tells of.
  void mail(db::WriteTransaction& transaction, const std::string& to, const std::string& user_id, const std::string& subject,
            const std::string& body);
  std::string link(const std::string& path, const std::string& token) const;
  std::string address_key(const std::string& client_address);
  // Seconds to wait if the key counted `limit` events in its current window, else 0.
  std::int64_t throttled_for(soci::session& sql, const std::string& key, int limit, std::int64_t window_seconds);
  // Seconds to wait before the next try under `key`: none for the first `free_attempts`
  // failures in the window, then 30 s after the last, doubling per failure, at most the window.
  std::int64_t backoff_for(soci::session& sql, const std::string& key, int free_attempts, std::int64_t window_seconds);
  void count_event(soci::session& sql, const std::string& key, std::int64_t window_seconds);
  // Whether one more mail that someone else caused may go to `address` this hour (counted).
  bool may_mail_unasked(soci::session& sql, const std::string& address);
  // The token's user, purpose and new address, applied (`old_email` is the address it replaced);
  // false for an unknown, used or expired one.
  bool consume_email_token(const std::string& token, std::string& user_id, std::string& purpose, std::string& new_email,
                           std::string& old_email);
  // Whether a GPC opt-out stands since the person last allowed sale/sharing.
  bool gpc_recorded(const std::string& user_id);
  void write_preference(soci::session& sql, const std::string& user_id, const std::string& category, bool enabled,
                        const std::string& source);

  db::Database& database_;
  mail::Mailer& mailer_;
  AccountsConfig config_;
  ProfileChanged profile_changed_;
  OptedOut opted_out_;
  OptedOut opted_in_;
  FrozenCheck frozen_check_;
  Suspended suspended_;
  workers::TaskProcessor* cpu_ = nullptr;
  storage::DataKeys* data_keys_ = nullptr;

  // Credentials (by token hash) and accounts (by id) read in the last second: the hot
  // authenticated path reads no database for them. A change to either, on any node, makes every
  // node forget them all (a change notice, account_changed()); should a notice be lost, what
  // was read stays in use for kFreshness at most.
  static constexpr auto kFreshness = std::chrono::seconds(1);
  static constexpr std::size_t kMaxRecent = 10'000;
  struct RecentCredential {
    AuthContext context;
    std::chrono::steady_clock::time_point fresh_until;
    std::int64_t expires_at = 0;  // the credential's own expiry (Unix seconds), 0 for none
  };
  struct RecentUser {
    User user;
    std::chrono::steady_clock::time_point fresh_until;
  };
  // After a committed change to an account or a credential.
  void account_changed();
  void forget_recent();
  std::mutex recent_mutex_;
  std::unordered_map<std::string, RecentCredential> recent_credentials_;
  std::unordered_map<std::string, RecentUser> recent_users_;
  db::ChangeFeed::Subscription change_subscription_ = 0;
  PendingPolicy pending_policy_;
  audit::AuditLog* audit_log_ = nullptr;
  UnixClock now_;
  // Verified against when the account does not exist; computed off the start-up path.
  std::shared_future<std::string> dummy_password_hash_;
  std::string address_key_secret_;
  std::string csrf_key_;
};

}  // namespace framehouse::accounts
