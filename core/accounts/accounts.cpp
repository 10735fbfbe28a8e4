// Accounts: sign-up, email tokens and addresses, throttles, profiles, roles, events. Sign-in,
// sessions, API keys and passwords are in credentials.cpp; preferences in preferences.cpp.
#include "accounts/accounts.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <soci/soci.h>

#include "accounts/roles.hpp"
#include "accounts/validation.hpp"
#include "observability/log.hpp"

namespace framehouse::accounts {
namespace {

using observability::Log;

constexpr std::int64_t kMailWindowSeconds = 3600;

}  // namespace

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

std::string account_throttle_prefix(const std::string& account_key) { return account_key + "|"; }

long long delete_account_throttles(soci::session& sql, const std::string& account_key) {
  // A prefix compared as such (LIKE would read the ids' underscores as wildcards).
  const std::string prefix = account_throttle_prefix(account_key);
  const int length = static_cast<int>(prefix.size());
  soci::statement deleted =
      (sql.prepare << "DELETE FROM rate_limits WHERE substr(throttle_key, 1, :n) = :p", soci::use(length), soci::use(prefix));
  deleted.execute(true);
  return deleted.get_affected_rows();
}

Accounts::Accounts(db::Database& database, mail::Mailer& mailer, AccountsConfig config, UnixClock clock)
    : database_(database), mailer_(mailer), config_(std::move(config)), now_(std::move(clock)) {
  dummy_password_hash_ = std::async(std::launch::async, [cost = config_.password_cost] {
                           return crypto::hash_password(crypto::random_id("", 16), cost);
                         }).share();
  address_key_secret_ = db::server_secret(database_, kAddressKeySecret);
  csrf_key_ = db::server_secret(database_, "csrf_key");
  change_subscription_ = database_.changes().subscribe(kChangeTopic, [this] { forget_recent(); });
}

Accounts::~Accounts() { database_.changes().unsubscribe(change_subscription_); }

std::string Accounts::link(const std::string& path, const std::string& token) const {
  return config_.public_url + path + "?token=" + token;
}

void end_every_credential(soci::session& sql, const std::string& user_id) {
  sql << "DELETE FROM credentials WHERE user_id = :u", soci::use(user_id);
  sql << "DELETE FROM sign_in_challenges WHERE user_id = :u", soci::use(user_id);
}

void Accounts::mail(db::WriteTransaction& transaction, const std::string& to, const std::string& user_id,
                    const std::string& subject, const std::string& body) {
  const auto queued = mailer_.queue(transaction, {to, subject, body, "account", user_id});
  if (!queued) Log::warn("accounts", "account mail not queued", {{"subject", subject}, {"reason", queued.message()}});
}

std::string Accounts::issue_email_token(soci::session& sql, const std::string& user_id, const std::string& purpose,
                                        const std::optional<std::string>& new_email, std::int64_t ttl, bool keep_earlier) {
  const std::string token = crypto::random_token("fhe_");
  const std::string hash = crypto::token_hash(token);
  const long long now = now_();
  const long long expires = now + ttl;
  if (!keep_earlier) {
    sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose = :p", soci::use(user_id), soci::use(purpose);
  }
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
             config_.public_url + "/reset-password\n\n"
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
           link("/verify-email", token) + "\n\nThe link works once and expires in " +
           whole_hours(config_.verification_ttl_seconds) +
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

bool Accounts::revert_email_change(const std::string& token) {
  const std::string hash = crypto::token_hash(token);
  std::string user_id, restored, current;
  long long expires_at = 0;
  bool address_restored = false;
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    sql << "SELECT user_id, new_email, expires_at FROM email_tokens WHERE token_hash = :h AND purpose = 'revert_email'",
        soci::use(hash), soci::into(user_id), soci::into(restored), soci::into(expires_at);
    if (!sql.got_data() || expires_at <= now_()) return false;
    sql << "SELECT email FROM users WHERE id = :id", soci::use(user_id), soci::into(current);
    if (!sql.got_data()) return false;
    const long long now = now_();
    // The address comes back unless another account took it meanwhile (then the owner keeps
    // the current one, and every session still ends).
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e AND id <> :id", soci::use(restored), soci::use(user_id), soci::into(taken);
    address_restored = current != restored && taken == 0;
    if (address_restored) {
      remember_previous_email(sql, user_id, current, now);
      sql << "UPDATE users SET email = :e, email_verified_at = :t, updated_at = :t2 WHERE id = :id", soci::use(restored),
          soci::use(now), soci::use(now), soci::use(user_id);
    }
    const std::string& owner_address = taken == 0 ? restored : current;
    // Every change in flight, every reset link that went elsewhere, every session and key.
    sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose IN ('change_email', 'reset_password', 'revert_email')",
        soci::use(user_id);
    end_every_credential(sql, user_id);
    record_event(sql, user_id, "email_change_reverted");
    const std::string reset = issue_email_token(sql, user_id, "reset_password", std::nullopt, config_.reset_ttl_seconds);
    mail(transaction, owner_address, user_id, "The change of your email address was undone",
         "Your Framehouse account keeps this address, and every session and API key was signed out.\n"
         "Choose a new password now — whoever changed the address may know the old one:\n\n" +
             link("/reset-password", reset) + "\n\nThe link works for " + whole_hours(config_.reset_ttl_seconds) +
             " hours.\n");
    transaction.commit();
  }
  account_changed();
  Log::info("accounts", "an address change was undone from the old address", {});
  // The plugins that hold the address learn it back (it had reached them when it was confirmed).
  if (profile_changed_ && address_restored) profile_changed_(user_id, "email", current, restored);
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

std::int64_t Accounts::backoff_for(soci::session& sql, const std::string& key, int free_attempts, std::int64_t window_seconds) {
  int events = 0;
  long long started = 0, last = 0;
  soci::indicator last_indicator = soci::i_null;
  sql << "SELECT events, window_started_at, last_event_at FROM rate_limits WHERE throttle_key = :k", soci::use(key),
      soci::into(events), soci::into(started), soci::into(last, last_indicator);
  if (!sql.got_data() || started + window_seconds <= now_() || events < free_attempts) return 0;
  if (last_indicator != soci::i_ok) last = started;
  // 30 s after the last free attempt, doubling with each failure after it, at most the window.
  const std::int64_t wait = std::min<std::int64_t>(window_seconds, std::int64_t{30} << std::min(events - free_attempts, 20));
  return std::max<std::int64_t>(0, last + wait - now_());
}

void Accounts::count_event(soci::session& sql, const std::string& key, std::int64_t window_seconds) {
  const long long now = now_();
  const long long window_start_limit = now - window_seconds;
  sql << "INSERT INTO rate_limits (throttle_key, events, window_started_at, last_event_at) VALUES (:k, 1, :n, :n3)"
         " ON CONFLICT (throttle_key) DO UPDATE SET"
         " events = CASE WHEN rate_limits.window_started_at <= :limit THEN 1 ELSE rate_limits.events + 1 END,"
         " window_started_at = CASE WHEN rate_limits.window_started_at <= :limit2 THEN :n2"
         " ELSE rate_limits.window_started_at END, last_event_at = :n4",
      soci::use(key), soci::use(now), soci::use(now), soci::use(window_start_limit), soci::use(window_start_limit),
      soci::use(now), soci::use(now);
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
  long long suspended_at = 0;
  soci::indicator suspended_indicator = soci::i_null;
  sql << "SELECT u.id, u.email, u.name, u.role, u.email_verified_at, u.created_at, t.new_email, t.expires_at, u.suspended_at"
         " FROM users u LEFT JOIN email_tokens t ON t.user_id = u.id AND t.purpose = 'change_email'"
         " WHERE u.id = :id",
      soci::use(user_id), soci::into(user.id), soci::into(user.email), soci::into(user.name), soci::into(user.role),
      soci::into(verified_at, verified_indicator), soci::into(created), soci::into(pending, pending_indicator),
      soci::into(pending_expires, expires_indicator), soci::into(suspended_at, suspended_indicator);
  if (!sql.got_data()) return std::nullopt;
  user.email_verified = verified_indicator == soci::i_ok;
  user.created_at = created;
  if (suspended_indicator == soci::i_ok) user.suspended_at = suspended_at;
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
    // The old address can undo it for a week, confirmed or not: the link brings this address
    // back and signs everyone out (stored with the token: the address to restore).
    const std::string revert =
        issue_email_token(sql, who.user_id, "revert_email", user->email, config_.revert_email_ttl_seconds, true);
    mail(transaction, *email, who.user_id, "Confirm your new email address",
         "Confirm that this is the new email address of your Framehouse account:\n\n" +
             link("/verify-email", token) + "\n\nUntil you do, your account keeps its old address.\n");
    mail(transaction, user->email, who.user_id, "Your email address is being changed",
         "Someone signed in to your Framehouse account asked to change its email address to another one.\n"
         "The change takes effect only once the new address is confirmed.\n\n"
         "If this was not you, undo it here — your address comes back, every session and API key is\n"
         "signed out, and we send you a link to choose a new password:\n\n" +
             link("/revert-email", revert) + "\n\nThe link works for " +
             std::to_string(config_.revert_email_ttl_seconds / 86400) + " days.\n");
    transaction.commit();
    account_changed();  // the pending address shows
  }
  return {};
}

int Accounts::active_admins(soci::session& sql) {
  // Counted in the transaction that demotes or suspends, so two admins doing it to each other
  // at once cannot both succeed (one waits for the other's commit, then counts again).
  int admins = 0;
  sql << "SELECT COUNT(*) FROM users WHERE role = 'admin' AND suspended_at IS NULL", soci::into(admins);
  return admins;
}

Accounts::RoleChange Accounts::suspend(const std::string& user_id, const std::string& reason) {
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    std::string role;
    soci::indicator suspended_indicator = soci::i_null;
    long long suspended_at = 0;
    sql << "SELECT role, suspended_at FROM users WHERE id = :id", soci::use(user_id), soci::into(role),
        soci::into(suspended_at, suspended_indicator);
    if (!sql.got_data()) return RoleChange::no_such_account;
    if (role == "admin" && suspended_indicator != soci::i_ok && active_admins(sql) <= 1) return RoleChange::last_admin;
    const long long now = now_();
    sql << "UPDATE users SET suspended_at = COALESCE(suspended_at, :n), suspension_reason = :r, updated_at = :t WHERE id = :id",
        soci::use(now), soci::use(reason), soci::use(now), soci::use(user_id);
    end_every_credential(sql, user_id);
    record_event(sql, user_id, "suspended");
    transaction.notify(kChangeTopic);
    transaction.commit();
  }
  if (suspended_) suspended_(user_id);
  return RoleChange::changed;
}

bool Accounts::unsuspend(const std::string& user_id) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  const long long now = now_();
  soci::statement update = (sql.prepare << "UPDATE users SET suspended_at = NULL, suspension_reason = NULL, updated_at = :t"
                                           " WHERE id = :id AND suspended_at IS NOT NULL",
                            soci::use(now), soci::use(user_id));
  update.execute(true);
  if (update.get_affected_rows() == 0) return false;
  record_event(sql, user_id, "unsuspended");
  transaction.notify(kChangeTopic);
  transaction.commit();
  return true;
}

Accounts::RoleChange Accounts::set_role(const std::string& user_id, const std::string& role) {
  if (!is_role(role)) throw std::invalid_argument("role: is not a role");
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  std::string current;
  long long suspended_at = 0;
  soci::indicator suspended_indicator = soci::i_null;
  sql << "SELECT role, suspended_at FROM users WHERE id = :id", soci::use(user_id), soci::into(current),
      soci::into(suspended_at, suspended_indicator);
  if (!sql.got_data()) return RoleChange::no_such_account;
  // Only an active admin can be the last one (a suspended admin may be demoted).
  const bool active_admin = current == "admin" && suspended_indicator != soci::i_ok;
  if (active_admin && role != "admin" && active_admins(sql) <= 1) return RoleChange::last_admin;
  const long long now = now_();
  sql << "UPDATE users SET role = :r, updated_at = :t WHERE id = :id", soci::use(role), soci::use(now), soci::use(user_id);
  transaction.notify(kChangeTopic);
  transaction.commit();
  return RoleChange::changed;
}

void Accounts::for_each_user(const std::function<void(const User&)>& visit) {
  std::string after;
  for (auto page = list_users(200, after); !page.empty(); page = list_users(200, after)) {
    for (const auto& user : page) visit(user);
    after = page.back().id;
  }
}

std::vector<User> Accounts::list_users(std::size_t limit, const std::string& after_id, const std::string& query) {
  soci::session sql(database_.pool());
  std::vector<User> out;
  User row;
  long long created = 0, verified_at = 0;
  soci::indicator verified_indicator = soci::i_null;
  const int max_rows = static_cast<int>(limit);
  // A prefix compared as such: LIKE would read _ and % in the query as wildcards.
  std::string lowered = query;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  const int every = lowered.empty() ? 1 : 0;
  const int length = static_cast<int>(lowered.size());
  soci::statement statement =
      (sql.prepare << "SELECT id, email, name, role, email_verified_at, created_at FROM users WHERE id > :after"
                      " AND (:every = 1 OR substr(lower(email), 1, :n) = :q OR substr(lower(name), 1, :n2) = :q2)"
                      " ORDER BY id LIMIT :max_rows",
       soci::use(after_id), soci::use(every), soci::use(length), soci::use(lowered), soci::use(length), soci::use(lowered),
       soci::use(max_rows), soci::into(row.id), soci::into(row.email), soci::into(row.name), soci::into(row.role),
       soci::into(verified_at, verified_indicator), soci::into(created));
  statement.execute();
  while (statement.fetch()) {
    row.email_verified = verified_indicator == soci::i_ok;
    row.created_at = created;
    out.push_back(row);
  }
  return out;
}

bool Accounts::mark_email_verified(const std::string& user_id) {
  soci::session sql(database_.pool());
  const long long now = now_();
  db::WriteTransaction transaction(sql, database_);
  soci::statement update = (sql.prepare << "UPDATE users SET email_verified_at = COALESCE(email_verified_at, :t), updated_at = :t2"
                                           " WHERE id = :id",
                            soci::use(now), soci::use(now), soci::use(user_id));
  update.execute(true);
  if (update.get_affected_rows() == 0) return false;
  sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose = 'verify_email'", soci::use(user_id);
  record_event(sql, user_id, "email_verified_by_staff");
  transaction.notify(kChangeTopic);
  transaction.commit();
  return true;
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
  soci::session sql(database_.pool());
  int taken = 0;
  sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
  if (taken > 0) throw std::invalid_argument("email: an account with this address exists");
  db::WriteTransaction transaction(sql, database_);
  // Created by an operator who vouches for the person: verified, age check attested.
  insert_vouched_user(sql, id, *email, name, hash, role, "admin_cli");
  transaction.commit();
  return id;
}

void Accounts::insert_vouched_user(soci::session& sql, const std::string& id, const std::string& email, const std::string& name,
                                   const std::string& password_hash, const std::string& role,
                                   const std::string& preference_source) {
  const long long now = now_();
  sql << "INSERT INTO users (id, email, name, password_hash, role, email_verified_at, age_check_passed_at,"
         " created_at, updated_at) VALUES (:id, :e, :n, :p, :r, :v, :a, :c, :u)",
      soci::use(id), soci::use(email), soci::use(name), soci::use(password_hash), soci::use(role), soci::use(now),
      soci::use(now), soci::use(now), soci::use(now);
  for (const auto& category : preference_categories()) {
    const bool enabled = category == "account" || (category == "training_use" && config_.training_use_default);
    write_preference(sql, id, category, enabled, preference_source);
  }
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
  run("DELETE FROM credentials WHERE kind = 'session' AND last_used_at < :t", now - config_.session_idle_seconds);
  run("DELETE FROM sign_in_challenges WHERE expires_at <= :t", now);
  run("DELETE FROM rate_limits WHERE window_started_at <= :t", throttle_cutoff);
  return removed;
}

}  // namespace framehouse::accounts
