#include "accounts/accounts.hpp"
#include "accounts/roles.hpp"

#include <algorithm>
#include <stdexcept>

#include <soci/soci.h>

#include "accounts/validation.hpp"
#include "observability/log.hpp"

namespace framehouse::accounts {
namespace {

using observability::Log;

constexpr std::int64_t kLastUsedResolution = 60;  // seconds: avoid a write per request
constexpr const char* kSession = "session";
constexpr const char* kApiKey = "api_key";
constexpr std::int64_t kMailWindowSeconds = 3600;

std::string hours(std::int64_t seconds) {
  return std::to_string(std::max<std::int64_t>(1, seconds / 3600));
}

}  // namespace

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const std::vector<std::string>& preference_categories() {
  static const std::vector<std::string> categories = {"account", "product_updates", "marketing", "training_use", "sale_sharing"};
  return categories;
}

std::string sign_in_throttle_key(const std::string& secret, const std::string& address) {
  return "email:" + crypto::keyed_hash(secret, address);
}

std::string mail_throttle_key(const std::string& secret, const std::string& address) {
  return "mail:" + crypto::keyed_hash(secret, address);
}

Accounts::Accounts(db::Database& database, mail::Mailer& mailer, AccountsConfig config, Clock clock)
    : database_(database), mailer_(mailer), config_(std::move(config)), now_(std::move(clock)) {
  dummy_password_hash_ = std::async(std::launch::async, [cost = config_.password_cost] {
                           return crypto::hash_password(crypto::random_id("", 16), cost);
                         }).share();
  address_key_secret_ = db::server_secret(database_, kAddressKeySecret);
  change_subscription_ = database_.changes().subscribe(kChangeTopic, [this] { forget_recent(); });
}

Accounts::~Accounts() { database_.changes().unsubscribe(change_subscription_); }

std::string Accounts::link(const std::string& path, const std::string& token) const {
  return config_.public_url + path + "?token=" + token;
}

void Accounts::mail(db::WriteTransaction& transaction, const std::string& to, const std::string& user_id,
                    const std::string& subject, const std::string& body) {
  const auto queued = mailer_.queue(transaction, {to, subject, body, "account", user_id});
  if (!queued) Log::warn("accounts", "account mail not queued", {{"subject", subject}, {"reason", queued.message()}});
}

std::string Accounts::issue_email_token(soci::session& sql, const std::string& user_id, const std::string& purpose,
                                        const std::optional<std::string>& new_email, std::int64_t ttl) {
  const std::string token = crypto::random_token("fhe_");
  const std::string hash = crypto::token_hash(token);
  const long long now = now_();
  const long long expires = now + ttl;
  // One live token per purpose: a new one replaces the old.
  sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose = :p", soci::use(user_id), soci::use(purpose);
  soci::indicator email_indicator = new_email ? soci::i_ok : soci::i_null;
  const std::string email_value = new_email.value_or("");
  sql << "INSERT INTO email_tokens (token_hash, user_id, purpose, new_email, created_at, expires_at)"
         " VALUES (:h, :u, :p, :e, :c, :x)",
      soci::use(hash), soci::use(user_id), soci::use(purpose), soci::use(email_value, email_indicator),
      soci::use(now), soci::use(expires);
  return token;
}

FieldErrors Accounts::check_sign_up(const SignUpRequest& request) const {
  FieldErrors errors;
  if (!age_on(request.date_of_birth, utc_date(now_()))) {
    errors.push_back({"date_of_birth", "must be a date in the past, as YYYY-MM-DD"});
  }
  const auto email = normalise_email(request.email);
  if (!email) errors.push_back({"email", "is not a valid email address"});
  if (auto problem = name_problem(request.name)) errors.push_back({"name", *problem});
  if (auto problem = password_problem(request.password, config_.password_min_length, email.value_or(""), request.name)) {
    errors.push_back({"password", *problem});
  }
  return errors;
}

SignUpStatus Accounts::sign_up(const SignUpRequest& request, FieldErrors& errors) {
  errors = check_sign_up(request);
  if (!errors.empty()) return SignUpStatus::invalid;
  // The age gate keeps nothing: no row, no mail, no log line.
  if (*age_on(request.date_of_birth, utc_date(now_())) < config_.minimum_age) return SignUpStatus::underage;
  const auto email = normalise_email(request.email);

  // Hashed whether or not the address is taken, so both answers cost the same time.
  const std::string password_hash = hash_password(request.password);
  soci::session sql(database_.pool());
  std::string existing_id;
  sql << "SELECT id FROM users WHERE email = :e", soci::use(*email), soci::into(existing_id);
  if (sql.got_data()) {
    db::WriteTransaction transaction(sql, database_);
    if (!may_mail_unasked(sql, *email)) return SignUpStatus::accepted;
    mail(transaction, *email, existing_id, "Someone tried to sign up with your address",
         "Someone, perhaps you, tried to create a Framehouse account with this email address.\n"
         "You already have an account. To sign in with a new password, reset it here:\n\n" +
             config_.public_url + "/v1/password-reset\n\n"
             "If this was not you, you can ignore this message; your account is unchanged.\n");
    transaction.commit();
    return SignUpStatus::accepted;
  }

  const std::string id = crypto::random_id("usr_", 16);
  const long long now = now_();
  const std::string role = "user";
  {
    db::WriteTransaction transaction(sql, database_);
    try {
      sql << "INSERT INTO users (id, email, name, password_hash, role, email_verified_at, age_check_passed_at,"
             " created_at, updated_at) VALUES (:id, :e, :n, :p, :r, NULL, :a, :c, :u)",
          soci::use(id), soci::use(*email), soci::use(request.name), soci::use(password_hash), soci::use(role),
          soci::use(now), soci::use(now), soci::use(now);
    } catch (const soci::soci_error&) {
      // A concurrent sign-up with the same address won the race: answer as for a duplicate.
      int taken = 0;
      transaction.rollback();
      sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
      if (taken > 0) return SignUpStatus::accepted;
      throw;
    }
    for (const auto& category : preference_categories()) {
      const bool enabled = category == "account" || (category == "training_use" && config_.training_use_default);
      write_preference(sql, id, category, enabled, "sign_up");
    }
    const std::string token = issue_email_token(sql, id, "verify_email", std::nullopt, config_.verification_ttl_seconds);
    mail_verification_link(transaction, *email, id, token);
    transaction.commit();
  }
  return SignUpStatus::accepted;
}

void Accounts::mail_verification_link(db::WriteTransaction& transaction, const std::string& email, const std::string& user_id,
                                      const std::string& token) {
  mail(transaction, email, user_id, "Confirm your email address",
       "Welcome to Framehouse.\n\nConfirm your email address by opening this link:\n\n" +
           link("/v1/accounts/verify-email", token) + "\n\nThe link works once and expires in " +
           hours(config_.verification_ttl_seconds) +
           " hours. If you did not sign up, ignore this message.\n");
}

void Accounts::resend_verification(const std::string& email_input) {
  const auto email = normalise_email(email_input);
  if (!email) return;
  std::string user_id;
  soci::session sql(database_.pool());
  soci::indicator verified = soci::i_null;
  long long verified_at = 0;
  sql << "SELECT id, email_verified_at FROM users WHERE email = :e", soci::use(*email), soci::into(user_id),
      soci::into(verified_at, verified);
  if (!sql.got_data() || verified == soci::i_ok) return;
  db::WriteTransaction transaction(sql, database_);
  if (!may_mail_unasked(sql, *email)) return;
  const std::string token = issue_email_token(sql, user_id, "verify_email", std::nullopt, config_.verification_ttl_seconds);
  mail_verification_link(transaction, *email, user_id, token);
  transaction.commit();
}

void remember_previous_email(soci::session& sql, const std::string& user_id, const std::string& email, std::int64_t now) {
  const long long replaced = now;
  sql << "INSERT INTO email_history (user_id, email, replaced_at) VALUES (:u, :e, :t)", soci::use(user_id), soci::use(email),
      soci::use(replaced);
}

std::vector<std::string> Accounts::addresses(const std::string& user_id) {
  std::vector<std::string> out;
  const auto user = find(user_id);
  if (!user) return out;
  out.push_back(user->email);
  if (user->pending_email) out.push_back(*user->pending_email);
  soci::session sql(database_.pool());
  std::string email;
  soci::statement statement =
      (sql.prepare << "SELECT email FROM email_history WHERE user_id = :u ORDER BY replaced_at", soci::use(user_id), soci::into(email));
  statement.execute();
  while (statement.fetch()) {
    if (std::find(out.begin(), out.end(), email) == out.end()) out.push_back(email);
  }
  return out;
}

bool Accounts::confirm_email(const std::string& token) {
  std::string user_id, purpose, new_email, old_email;
  if (!consume_email_token(token, user_id, purpose, new_email, old_email)) return false;
  account_changed();  // a context says whether the address is verified
  // The database session is released by now: what follows takes sessions of its own.
  record_event(user_id, "email_verified");
  if (purpose == "change_email" && profile_changed_) profile_changed_(user_id, "email", old_email, new_email);
  return true;
}

bool Accounts::consume_email_token(const std::string& token, std::string& user_id, std::string& purpose, std::string& new_email,
                                   std::string& old_email) {
  const std::string hash = crypto::token_hash(token);
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  soci::indicator email_indicator = soci::i_null;
  long long expires_at = 0;
  sql << "SELECT user_id, purpose, new_email, expires_at FROM email_tokens WHERE token_hash = :h"
         " AND purpose IN ('verify_email', 'change_email')",
      soci::use(hash), soci::into(user_id), soci::into(purpose), soci::into(new_email, email_indicator),
      soci::into(expires_at);
  if (!sql.got_data() || expires_at <= now_()) return false;
  sql << "DELETE FROM email_tokens WHERE token_hash = :h", soci::use(hash);
  const long long now = now_();
  if (purpose == "change_email") {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(new_email), soci::into(taken);
    if (taken > 0) {
      transaction.commit();  // the token is spent either way
      return false;
    }
    sql << "SELECT email FROM users WHERE id = :id", soci::use(user_id), soci::into(old_email);
    remember_previous_email(sql, user_id, old_email, now);
    sql << "UPDATE users SET email = :e, email_verified_at = :t, updated_at = :t2 WHERE id = :id",
        soci::use(new_email), soci::use(now), soci::use(now), soci::use(user_id);
  } else {
    sql << "UPDATE users SET email_verified_at = :t, updated_at = :t2 WHERE id = :id", soci::use(now), soci::use(now),
        soci::use(user_id);
  }
  transaction.commit();
  return true;
}

std::string Accounts::address_key(const std::string& client_address) {
  return "addr:" + crypto::keyed_hash(address_key_secret_, client_address);
}

std::int64_t Accounts::throttled_for(soci::session& sql, const std::string& key, int limit, std::int64_t window_seconds) {
  int events = 0;
  long long started = 0;
  sql << "SELECT events, window_started_at FROM rate_limits WHERE throttle_key = :k", soci::use(key), soci::into(events),
      soci::into(started);
  if (!sql.got_data()) return 0;
  const std::int64_t window_end = started + window_seconds;
  if (window_end <= now_() || events < limit) return 0;
  return window_end - now_();
}

void Accounts::count_event(soci::session& sql, const std::string& key, std::int64_t window_seconds) {
  const long long now = now_();
  const long long window_start_limit = now - window_seconds;
  sql << "INSERT INTO rate_limits (throttle_key, events, window_started_at) VALUES (:k, 1, :n)"
         " ON CONFLICT (throttle_key) DO UPDATE SET"
         " events = CASE WHEN rate_limits.window_started_at <= :limit THEN 1 ELSE rate_limits.events + 1 END,"
         " window_started_at = CASE WHEN rate_limits.window_started_at <= :limit2 THEN :n2"
         " ELSE rate_limits.window_started_at END",
      soci::use(key), soci::use(now), soci::use(window_start_limit), soci::use(window_start_limit), soci::use(now);
}

std::string Accounts::hash_password(const std::string& password) {
  const auto cost = config_.password_cost;
  const auto hash = [&password, cost] { return crypto::hash_password(password, cost); };
  return cpu_ != nullptr ? cpu_->run(hash) : hash();
}

bool Accounts::verify_password(const std::string& stored_hash, const std::string& password) {
  const auto verify = [&stored_hash, &password] { return crypto::verify_password(stored_hash, password); };
  return cpu_ != nullptr ? cpu_->run(verify) : verify();
}

bool Accounts::within_client_limit(const std::string& purpose, const std::string& client_address, int limit,
                                   std::int64_t window_seconds) {
  const std::string key = purpose + ":" + address_key(client_address);
  soci::session sql(database_.pool());
  if (throttled_for(sql, key, limit, window_seconds) > 0) return false;
  count_event(sql, key, window_seconds);
  return true;
}

bool Accounts::may_mail_unasked(soci::session& sql, const std::string& address) {
  const std::string key = mail_throttle_key(address_key_secret_, address);
  if (throttled_for(sql, key, config_.mails_per_address_per_hour, kMailWindowSeconds) > 0) {
    Log::info("accounts", "mail held back: this address had its hourly share");
    return false;
  }
  count_event(sql, key, kMailWindowSeconds);
  return true;
}

SignInResult Accounts::sign_in(const std::string& email_input, const std::string& password, const std::string& client,
                               const std::string& client_address) {
  SignInResult result;
  const std::string email = normalise_email(email_input).value_or(email_input);
  // No pooled session is held while the password is checked (argon2id, tens of milliseconds on
  // the CPU threads), nor during the frozen check, which takes a session of its own.
  std::string user_id, stored_hash;
  bool known = false;
  const std::string client_key = address_key(client_address);
  const auto window = config_.failure_window_seconds;
  std::string account_key;
  {
    soci::session sql(database_.pool());
    std::string role;
    sql << "SELECT id, password_hash, role FROM users WHERE email = :e", soci::use(email), soci::into(user_id),
        soci::into(stored_hash), soci::into(role);
    known = sql.got_data();
    // Unknown addresses are throttled too, under a key that does not reveal the address.
    account_key = known ? "user:" + user_id : sign_in_throttle_key(address_key_secret_, email);
    const std::int64_t wait = std::max(throttled_for(sql, account_key, config_.max_failures_per_account, window),
                                       throttled_for(sql, client_key, config_.max_failures_per_address, window));
    if (wait > 0) {
      result.status = SignInResult::Status::throttled;
      result.retry_after_seconds = wait;
      return result;
    }
  }
  // Always one argon2id verification, so that timing does not tell known addresses apart.
  const bool verified = verify_password(known ? stored_hash : dummy_password_hash_.get(), password) && known;
  {
    soci::session sql(database_.pool());
    if (!verified) {
      count_event(sql, account_key, window);
      count_event(sql, client_key, window);
      return result;
    }
    sql << "DELETE FROM rate_limits WHERE throttle_key = :k", soci::use(account_key);
  }
  if (frozen_check_ && frozen_check_(user_id)) {
    result.status = SignInResult::Status::frozen;
    return result;
  }

  const std::string token = crypto::random_token("fhs_");
  const std::string hash = crypto::token_hash(token);
  Credential session{crypto::random_id("ses_", 16), kSession, client.substr(0, 200), now_(), now_(),
                     now_() + config_.session_ttl_seconds};
  const std::string kind = kSession;
  const long long created = session.created_at;
  const long long expires = *session.expires_at;
  soci::session sql(database_.pool());
  sql << "INSERT INTO credentials (id, user_id, kind, token_hash, label, created_at, last_used_at, expires_at)"
         " VALUES (:id, :u, :k, :h, :l, :c, :lu, :x)",
      soci::use(session.id), soci::use(user_id), soci::use(kind), soci::use(hash), soci::use(session.label),
      soci::use(created), soci::use(created), soci::use(expires);
  record_event(sql, user_id, "signed_in");
  result.status = SignInResult::Status::signed_in;
  result.token = token;
  result.session = session;
  return result;
}

void Accounts::account_changed() { database_.changes().announce(kChangeTopic); }

void Accounts::forget_recent() {
  std::lock_guard lock(recent_mutex_);
  recent_credentials_.clear();
  recent_users_.clear();
}

std::optional<AuthContext> Accounts::authenticate(const std::string& bearer_token) {
  if (bearer_token.rfind("fhs_", 0) != 0 && bearer_token.rfind("fhk_", 0) != 0) return std::nullopt;
  const std::string hash = crypto::token_hash(bearer_token);
  const auto steady_now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(recent_mutex_);
    if (const auto found = recent_credentials_.find(hash); found != recent_credentials_.end()) {
      const auto& recent = found->second;
      if (recent.fresh_until > steady_now && (recent.expires_at == 0 || recent.expires_at > now_())) return recent.context;
      recent_credentials_.erase(found);
    }
  }
  soci::session sql(database_.pool());
  AuthContext context;
  long long last_used = 0;
  long long expires_at = 0;
  soci::indicator expires_indicator = soci::i_null;
  soci::indicator verified_indicator = soci::i_null;
  long long verified_at = 0;
  sql << "SELECT c.id, c.kind, c.last_used_at, c.expires_at, u.id, u.role, u.email_verified_at"
         " FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.token_hash = :h",
      soci::use(hash), soci::into(context.credential_id), soci::into(context.kind), soci::into(last_used),
      soci::into(expires_at, expires_indicator), soci::into(context.user_id), soci::into(context.role),
      soci::into(verified_at, verified_indicator);
  if (!sql.got_data()) return std::nullopt;
  const long long now = now_();
  if (expires_indicator == soci::i_ok && expires_at <= now) return std::nullopt;
  context.email_verified = verified_indicator == soci::i_ok;
  if (now - last_used >= kLastUsedResolution) {
    sql << "UPDATE credentials SET last_used_at = :n WHERE id = :id", soci::use(now), soci::use(context.credential_id);
  }
  {
    std::lock_guard lock(recent_mutex_);
    if (recent_credentials_.size() >= kMaxRecent) recent_credentials_.clear();
    recent_credentials_[hash] = RecentCredential{context, steady_now + kFreshness,
                                                 expires_indicator == soci::i_ok ? static_cast<std::int64_t>(expires_at) : 0};
  }
  return context;
}

std::vector<Credential> Accounts::credentials(const std::string& user_id, const std::string& kind) {
  soci::session sql(database_.pool());
  std::vector<Credential> out;
  Credential row;
  long long created = 0, last_used = 0, expires = 0;
  soci::indicator expires_indicator = soci::i_null;
  const long long now = now_();
  soci::statement statement =
      (sql.prepare << "SELECT id, kind, label, created_at, last_used_at, expires_at FROM credentials"
                      " WHERE user_id = :u AND kind = :k AND (expires_at IS NULL OR expires_at > :n)"
                      " ORDER BY created_at, id",
       soci::use(user_id), soci::use(kind), soci::use(now), soci::into(row.id), soci::into(row.kind),
       soci::into(row.label), soci::into(created), soci::into(last_used), soci::into(expires, expires_indicator));
  statement.execute();
  while (statement.fetch()) {
    row.created_at = created;
    row.last_used_at = last_used;
    row.expires_at = expires_indicator == soci::i_ok ? std::optional<std::int64_t>(expires) : std::nullopt;
    out.push_back(row);
  }
  return out;
}

bool Accounts::revoke(const std::string& user_id, const std::string& credential_id, const std::string& kind) {
  soci::session sql(database_.pool());
  soci::statement statement =
      (sql.prepare << "DELETE FROM credentials WHERE id = :id AND user_id = :u AND kind = :k", soci::use(credential_id),
       soci::use(user_id), soci::use(kind));
  statement.execute(true);
  account_changed();
  return statement.get_affected_rows() > 0;
}

int Accounts::revoke_sessions(const std::string& user_id, const std::string& keep) {
  soci::session sql(database_.pool());
  const std::string kind = kSession;
  soci::statement statement =
      (sql.prepare << "DELETE FROM credentials WHERE user_id = :u AND kind = :k AND id <> :keep", soci::use(user_id),
       soci::use(kind), soci::use(keep));
  statement.execute(true);
  account_changed();
  return static_cast<int>(statement.get_affected_rows());
}

NewApiKey Accounts::create_api_key(const std::string& user_id, const std::string& label) {
  NewApiKey created;
  created.key = crypto::random_token("fhk_");
  const std::string hash = crypto::token_hash(created.key);
  created.credential = Credential{crypto::random_id("key_", 16), kApiKey, label, now_(), now_(), std::nullopt};
  const long long now = created.credential.created_at;
  const std::string kind = kApiKey;
  soci::session sql(database_.pool());
  sql << "INSERT INTO credentials (id, user_id, kind, token_hash, label, created_at, last_used_at, expires_at)"
         " VALUES (:id, :u, :k, :h, :l, :c, :lu, NULL)",
      soci::use(created.credential.id), soci::use(user_id), soci::use(kind), soci::use(hash),
      soci::use(created.credential.label), soci::use(now), soci::use(now);
  record_event(sql, user_id, "api_key_created");
  return created;
}

void Accounts::request_password_reset(const std::string& email_input) {
  const auto email = normalise_email(email_input);
  if (!email) return;
  soci::session sql(database_.pool());
  std::string user_id;
  sql << "SELECT id FROM users WHERE email = :e", soci::use(*email), soci::into(user_id);
  if (!sql.got_data()) return;
  db::WriteTransaction transaction(sql, database_);
  if (!may_mail_unasked(sql, *email)) return;
  const std::string token = issue_email_token(sql, user_id, "reset_password", std::nullopt, config_.reset_ttl_seconds);
  mail(transaction, *email, user_id, "Reset your password",
       "Someone, perhaps you, asked to reset the password of your Framehouse account.\n\n"
       "Choose a new password here:\n\n" + link("/v1/password-reset/confirm", token) +
           "\n\nThe link works once and expires in " + hours(config_.reset_ttl_seconds) +
           " hour(s). If you did not ask, ignore this message: your password is unchanged.\n");
  transaction.commit();
}

FieldErrors Accounts::reset_password(const std::string& token, const std::string& new_password) {
  const std::string hash = crypto::token_hash(token);
  soci::session sql(database_.pool());
  std::string user_id;
  long long expires_at = 0;
  sql << "SELECT user_id, expires_at FROM email_tokens WHERE token_hash = :h AND purpose = 'reset_password'",
      soci::use(hash), soci::into(user_id), soci::into(expires_at);
  if (!sql.got_data() || expires_at <= now_()) return {{"token", "is unknown, used or expired"}};
  std::string email, name;
  sql << "SELECT email, name FROM users WHERE id = :id", soci::use(user_id), soci::into(email), soci::into(name);
  if (auto problem = password_problem(new_password, config_.password_min_length, email, name)) {
    return {{"password", *problem}};
  }
  const std::string password_hash = hash_password(new_password);
  const long long now = now_();
  const std::string session_kind = kSession;
  {
    db::WriteTransaction transaction(sql, database_);
    // The reset link reached the address, which proves control of it as a verification would.
    sql << "UPDATE users SET password_hash = :p, email_verified_at = COALESCE(email_verified_at, :v), updated_at = :t"
           " WHERE id = :id",
        soci::use(password_hash), soci::use(now), soci::use(now), soci::use(user_id);
    sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose IN ('reset_password', 'verify_email')", soci::use(user_id);
    // Whoever had the old password is signed out everywhere.
    sql << "DELETE FROM credentials WHERE user_id = :u AND kind = :k", soci::use(user_id), soci::use(session_kind);
    record_event(sql, user_id, "password_reset");
    mail(transaction, email, user_id, "Your password was changed",
         "The password of your Framehouse account was just reset, and every session was signed out.\n"
         "If this was not you, reset it again at once and contact your administrator.\n");
    transaction.commit();
  }
  account_changed();
  return {};
}

FieldErrors Accounts::change_password(const AuthContext& who, const std::string& current,
                                      const std::string& replacement) {
  std::string email;
  {
    // One pooled session at a time: revoke_sessions() below takes its own.
    soci::session sql(database_.pool());
    std::string stored_hash, name;
    sql << "SELECT password_hash, email, name FROM users WHERE id = :id", soci::use(who.user_id),
        soci::into(stored_hash), soci::into(email), soci::into(name);
    if (!sql.got_data() || !verify_password(stored_hash, current)) {
      return {{"current_password", "is not correct"}};
    }
    if (auto problem = password_problem(replacement, config_.password_min_length, email, name)) {
      return {{"new_password", *problem}};
    }
    const std::string password_hash = hash_password(replacement);
    const long long now = now_();
    db::WriteTransaction transaction(sql, database_);
    sql << "UPDATE users SET password_hash = :p, updated_at = :t WHERE id = :id", soci::use(password_hash),
        soci::use(now), soci::use(who.user_id);
    record_event(sql, who.user_id, "password_changed");
    mail(transaction, email, who.user_id, "Your password was changed",
         "The password of your Framehouse account was just changed, and your other sessions were signed out.\n"
         "If this was not you, reset your password at once and contact your administrator.\n");
    transaction.commit();
  }
  revoke_sessions(who.user_id, who.kind == kSession ? who.credential_id : std::string());
  return {};
}

std::optional<User> Accounts::find_by_email(const std::string& email) {
  const auto normalised = normalise_email(email);
  if (!normalised) return std::nullopt;
  std::string user_id;
  {
    soci::session sql(database_.pool());  // released before find() takes its own
    sql << "SELECT id FROM users WHERE email = :e", soci::use(*normalised), soci::into(user_id);
  }
  if (user_id.empty()) return std::nullopt;
  return find(user_id);
}

std::optional<User> Accounts::find(const std::string& user_id) {
  const auto steady_now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(recent_mutex_);
    if (const auto found = recent_users_.find(user_id); found != recent_users_.end()) {
      const auto& recent = found->second;
      if (recent.fresh_until > steady_now) return recent.user;
      recent_users_.erase(found);
    }
  }
  soci::session sql(database_.pool());
  User user;
  long long created = 0, verified_at = 0, pending_expires = 0;
  std::string pending;
  soci::indicator verified_indicator = soci::i_null, pending_indicator = soci::i_null, expires_indicator = soci::i_null;
  sql << "SELECT u.id, u.email, u.name, u.role, u.email_verified_at, u.created_at, t.new_email, t.expires_at"
         " FROM users u LEFT JOIN email_tokens t ON t.user_id = u.id AND t.purpose = 'change_email'"
         " WHERE u.id = :id",
      soci::use(user_id), soci::into(user.id), soci::into(user.email), soci::into(user.name), soci::into(user.role),
      soci::into(verified_at, verified_indicator), soci::into(created), soci::into(pending, pending_indicator),
      soci::into(pending_expires, expires_indicator);
  if (!sql.got_data()) return std::nullopt;
  user.email_verified = verified_indicator == soci::i_ok;
  user.created_at = created;
  if (pending_indicator == soci::i_ok && expires_indicator == soci::i_ok && pending_expires > now_()) {
    user.pending_email = pending;
  }
  // A pending address change lapses by the clock, not by a change notice: not kept.
  if (user.pending_email) return user;
  std::lock_guard lock(recent_mutex_);
  if (recent_users_.size() >= kMaxRecent) recent_users_.clear();
  recent_users_[user_id] = RecentUser{user, steady_now + kFreshness};
  return user;
}

FieldErrors Accounts::update_profile(const AuthContext& who, const std::optional<std::string>& name,
                                     const std::optional<std::string>& email_input) {
  FieldErrors errors;
  std::optional<std::string> email;
  if (name) {
    if (auto problem = name_problem(*name)) errors.push_back({"name", *problem});
  }
  if (email_input) {
    email = normalise_email(*email_input);
    if (!email) errors.push_back({"email", "is not a valid email address"});
  }
  if (!errors.empty()) return errors;
  const auto user = find(who.user_id);
  if (!user) return {{"user", "does not exist"}};
  const long long now = now_();
  if (name && *name != user->name) {
    {
      soci::session sql(database_.pool());
      sql << "UPDATE users SET name = :n, updated_at = :t WHERE id = :id", soci::use(*name), soci::use(now),
          soci::use(who.user_id);
    }
    account_changed();
    record_event(who.user_id, "profile_updated");
    if (profile_changed_) profile_changed_(who.user_id, "name", user->name, *name);
  }
  if (email && *email != user->email) {
    soci::session sql(database_.pool());
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
    db::WriteTransaction transaction(sql, database_);
    if (!may_mail_unasked(sql, *email)) return {{"email", "too many messages went to this address; try again in an hour"}};
    if (taken > 0) {
      // Told to the address's owner, not to the caller.
      mail(transaction, *email, "", "Someone tried to use your address",
           "Someone tried to move a Framehouse account to this email address, which already has an account.\n"
           "Nothing was changed. If this was you, sign in to your existing account instead.\n");
      transaction.commit();
      return {};
    }
    const std::string token = issue_email_token(sql, who.user_id, "change_email", *email, config_.verification_ttl_seconds);
    mail(transaction, *email, who.user_id, "Confirm your new email address",
         "Confirm that this is the new email address of your Framehouse account:\n\n" +
             link("/v1/accounts/verify-email", token) + "\n\nUntil you do, your account keeps its old address.\n");
    mail(transaction, user->email, who.user_id, "Your email address is being changed",
         "Someone signed in to your Framehouse account asked to change its email address.\n"
         "The change takes effect only once the new address is confirmed. If this was not you,\n"
         "change your password at once.\n");
    transaction.commit();
    account_changed();  // the pending address shows
  }
  return {};
}

void Accounts::write_preference(soci::session& sql, const std::string& user_id, const std::string& category,
                                bool enabled, const std::string& source) {
  const int value = enabled ? 1 : 0;
  const long long now = now_();
  sql << "INSERT INTO preferences (user_id, category, enabled, updated_at) VALUES (:u, :c, :e, :t)"
         " ON CONFLICT (user_id, category) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
      soci::use(user_id), soci::use(category), soci::use(value), soci::use(now);
  sql << "INSERT INTO preference_history (user_id, category, enabled, source, changed_at) VALUES (:u, :c, :e, :s, :t)",
      soci::use(user_id), soci::use(category), soci::use(value), soci::use(source), soci::use(now);
}

std::map<std::string, bool> Accounts::preferences(const std::string& user_id) {
  std::map<std::string, bool> out;
  for (const auto& category : preference_categories()) out[category] = category == "account";
  soci::session sql(database_.pool());
  std::string category;
  int enabled = 0;
  soci::statement statement = (sql.prepare << "SELECT category, enabled FROM preferences WHERE user_id = :u",
                               soci::use(user_id), soci::into(category), soci::into(enabled));
  statement.execute();
  while (statement.fetch()) out[category] = enabled != 0;
  out["account"] = true;
  return out;
}

FieldErrors Accounts::set_preferences(const std::string& user_id, const std::map<std::string, bool>& changes,
                                      const std::string& source) {
  FieldErrors errors;
  for (const auto& [category, enabled] : changes) {
    const auto& known = preference_categories();
    if (std::find(known.begin(), known.end(), category) == known.end()) {
      errors.push_back({category, "is not a preference category"});
    } else if (category == "account" && !enabled) {
      errors.push_back({"account", "security and legal notices cannot be turned off"});
    }
  }
  if (!errors.empty()) return errors;
  const auto current = preferences(user_id);
  bool changed = false;
  std::vector<std::string> turned_off, turned_on;
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    for (const auto& [category, enabled] : changes) {
      if (category == "account" || current.at(category) == enabled) continue;
      write_preference(sql, user_id, category, enabled, source);
      changed = true;
      (enabled ? turned_on : turned_off).push_back(category);
    }
    transaction.commit();
  }
  if (changed) record_event(user_id, "preferences_changed");
  for (const auto& category : turned_off) {
    if (opted_out_) opted_out_(user_id, category);
  }
  // Only the verified owner of the address may lift a suppression of it: someone who signed
  // up with another person's address cannot undo that person's unsubscribe.
  if (!turned_on.empty() && opted_in_) {
    if (const auto user = find(user_id); user && user->email_verified) {
      for (const auto& category : turned_on) opted_in_(user_id, category);
    }
  }
  return {};
}

bool Accounts::opt_out(const std::string& user_id, const std::string& category, const std::string& source) {
  const auto& known = preference_categories();
  if (category == "account" || std::find(known.begin(), known.end(), category) == known.end()) return false;
  {
    soci::session sql(database_.pool());
    int exists = 0;
    sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(user_id), soci::into(exists);
    if (exists == 0) return false;
    db::WriteTransaction transaction(sql, database_);
    write_preference(sql, user_id, category, false, source);
    transaction.commit();
  }
  if (opted_out_) opted_out_(user_id, category);
  return true;
}

bool Accounts::record_global_privacy_control(const std::string& user_id) {
  if (gpc_recorded(user_id)) return false;
  return opt_out(user_id, "sale_sharing", "gpc");
}

bool Accounts::gpc_recorded(const std::string& user_id) {
  soci::session sql(database_.pool());
  // Once per signal: recorded unless a GPC opt-out already stands since the last time the
  // person allowed sale/sharing themselves.
  // (History rows are ordered by id: several may share a second.)
  long long last_allowed = -1;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT MAX(id) FROM preference_history WHERE user_id = :u AND category = 'sale_sharing' AND enabled = 1",
      soci::use(user_id), soci::into(last_allowed, indicator);
  if (indicator != soci::i_ok) last_allowed = -1;
  int recorded = 0;
  sql << "SELECT COUNT(*) FROM preference_history WHERE user_id = :u AND category = 'sale_sharing' AND source = 'gpc'"
         " AND id > :t",
      soci::use(user_id), soci::use(last_allowed), soci::into(recorded);
  return recorded > 0;
}

bool Accounts::set_role(const std::string& user_id, const std::string& role) {
  if (!is_role(role)) throw std::invalid_argument("role: is not a role");
  soci::session sql(database_.pool());
  const long long now = now_();
  soci::statement update = (sql.prepare << "UPDATE users SET role = :r, updated_at = :t WHERE id = :id", soci::use(role),
                            soci::use(now), soci::use(user_id));
  update.execute(true);
  account_changed();
  return update.get_affected_rows() > 0;
}

void Accounts::for_each_user(const std::function<void(const User&)>& visit) {
  std::string after;
  for (auto page = list_users(200, after); !page.empty(); page = list_users(200, after)) {
    for (const auto& user : page) visit(user);
    after = page.back().id;
  }
}

std::vector<User> Accounts::list_users(std::size_t limit, const std::string& after_id) {
  soci::session sql(database_.pool());
  std::vector<User> out;
  User row;
  long long created = 0, verified_at = 0;
  soci::indicator verified_indicator = soci::i_null;
  const int max_rows = static_cast<int>(limit);
  soci::statement statement =
      (sql.prepare << "SELECT id, email, name, role, email_verified_at, created_at FROM users WHERE id > :after"
                      " ORDER BY id LIMIT :max_rows",
       soci::use(after_id), soci::use(max_rows), soci::into(row.id), soci::into(row.email), soci::into(row.name),
       soci::into(row.role), soci::into(verified_at, verified_indicator), soci::into(created));
  statement.execute();
  while (statement.fetch()) {
    row.email_verified = verified_indicator == soci::i_ok;
    row.created_at = created;
    out.push_back(row);
  }
  return out;
}

std::string Accounts::create_user(const std::string& name, const std::string& email_input, const std::string& password,
                                  const std::string& role) {
  const auto email = normalise_email(email_input);
  if (!email) throw std::invalid_argument("email: is not a valid email address");
  if (auto problem = name_problem(name)) throw std::invalid_argument("name: " + *problem);
  if (auto problem = password_problem(password, config_.password_min_length, *email, name)) {
    throw std::invalid_argument("password: " + *problem);
  }
  if (!is_role(role)) throw std::invalid_argument("role: is not a role");
  const std::string hash = hash_password(password);
  const std::string id = crypto::random_id("usr_", 16);
  const long long now = now_();
  soci::session sql(database_.pool());
  int taken = 0;
  sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
  if (taken > 0) throw std::invalid_argument("email: an account with this address exists");
  db::WriteTransaction transaction(sql, database_);
  // Created by an operator who vouches for the person: verified, age check attested.
  sql << "INSERT INTO users (id, email, name, password_hash, role, email_verified_at, age_check_passed_at,"
         " created_at, updated_at) VALUES (:id, :e, :n, :p, :r, :v, :a, :c, :u)",
      soci::use(id), soci::use(*email), soci::use(name), soci::use(hash), soci::use(role), soci::use(now),
      soci::use(now), soci::use(now), soci::use(now);
  for (const auto& category : preference_categories()) {
    const bool enabled = category == "account" || (category == "training_use" && config_.training_use_default);
    write_preference(sql, id, category, enabled, "admin_cli");
  }
  transaction.commit();
  return id;
}

void Accounts::record_event(const std::string& user_id, const std::string& event_type) {
  soci::session sql(database_.pool());
  record_event(sql, user_id, event_type);
}

void Accounts::record_event(soci::session& sql, const std::string& user_id, const std::string& event_type) {
  const long long now = now_();
  sql << "INSERT INTO usage_events (user_id, event_type, occurred_at) VALUES (:u, :t, :n)", soci::use(user_id),
      soci::use(event_type), soci::use(now);
}

std::int64_t Accounts::purge_expired() {
  soci::session sql(database_.pool());
  const long long now = now_();
  const long long usage_cutoff = now - config_.usage_retention_seconds;
  const long long throttle_cutoff = now - std::max(config_.failure_window_seconds, kMailWindowSeconds);
  std::int64_t removed = 0;
  const auto run = [&](const std::string& query, long long bound) {
    soci::statement statement = (sql.prepare << query, soci::use(bound));
    statement.execute(true);
    removed += statement.get_affected_rows();
  };
  run("DELETE FROM usage_events WHERE occurred_at < :t", usage_cutoff);
  run("DELETE FROM email_tokens WHERE expires_at <= :t", now);
  run("DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= :t", now);
  run("DELETE FROM rate_limits WHERE window_started_at <= :t", throttle_cutoff);
  return removed;
}

}  // namespace framehouse::accounts
