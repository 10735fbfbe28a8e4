// Accounts: sign-in, the credentials it issues (sessions, API keys) and their check on every
// request (with the short-lived cache every node forgets on a change notice), passwords and
// their reset.
#include <algorithm>

#include <soci/soci.h>
#include <sodium.h>

#include "accounts/accounts.hpp"
#include "accounts/roles.hpp"
#include "accounts/validation.hpp"

namespace framehouse::accounts {
namespace {

constexpr std::int64_t kLastUsedResolution = 60;  // seconds: avoid a write per request
constexpr const char* kSession = "session";
constexpr const char* kApiKey = "api_key";

}  // namespace

std::string Accounts::hash_password(const std::string& password) {
  const auto cost = config_.password_cost;
  const auto hash = [&password, cost] { return crypto::hash_password(password, cost); };
  return cpu_ != nullptr ? cpu_->run(hash) : hash();
}

bool Accounts::verify_password(const std::string& stored_hash, const std::string& password) {
  const auto verify = [&stored_hash, &password] { return crypto::verify_password(stored_hash, password); };
  return cpu_ != nullptr ? cpu_->run(verify) : verify();
}

SignInResult Accounts::sign_in(const std::string& email_input, const std::string& password, const std::string& client,
                               const std::string& client_address, const std::optional<std::string>& second_factor) {
  SignInResult result;
  const std::string email = normalise_email(email_input).value_or(email_input);
  // No pooled session is held while the password is checked (argon2id, tens of milliseconds on
  // the CPU threads), nor during the frozen check, which takes a session of its own.
  std::string user_id, stored_hash;
  bool known = false;
  bool two_factor = false;
  const std::string client_key = address_key(client_address);
  const auto window = config_.failure_window_seconds;
  std::string account_key;
  std::int64_t wait = 0;
  {
    soci::session sql(database_.pool());
    sql << "SELECT id, password_hash FROM users WHERE email = :e", soci::use(email), soci::into(user_id),
        soci::into(stored_hash);
    known = sql.got_data();
    two_factor = known && two_factor_enabled(sql, user_id);
    // Unknown addresses are throttled too, under a key that does not reveal the address; each
    // account per client, so that failures elsewhere never lock the owner out here.
    account_key = account_throttle_prefix(known ? "user:" + user_id : sign_in_throttle_key(address_key_secret_, email)) +
                  client_key;
    // This account from this client backs off exponentially; one client across accounts has a
    // fixed cap.
    wait = std::max(backoff_for(sql, account_key, config_.max_failures_per_account, window),
                    throttled_for(sql, client_key, config_.max_failures_per_address, window));
  }
  // Whoever caused the wait lacked the password or the second factor; the owner, giving both
  // at once, is not held back by it (and learns nothing more than "throttled" if either is
  // wrong).
  const bool past_the_wait = two_factor && second_factor.has_value();
  SignInResult throttled;
  throttled.status = SignInResult::Status::throttled;
  throttled.retry_after_seconds = wait;
  if (wait > 0 && !past_the_wait) return throttled;
  // Always one argon2id verification, so that timing does not tell known addresses apart.
  const bool verified = verify_password(known ? stored_hash : dummy_password_hash_.get(), password) && known;
  if (!verified) {
    soci::session sql(database_.pool());
    count_event(sql, account_key, window);
    count_event(sql, client_key, window);
    return wait > 0 ? throttled : result;
  }
  // The failures before no longer count once the owner is through (past the wait, only with
  // the second factor too: the wait must not tell that the password alone was right).
  const auto forget_failures = [this, &account_key] {
    soci::session sql(database_.pool());
    sql << "DELETE FROM rate_limits WHERE throttle_key = :k", soci::use(account_key);
  };
  const std::string label = client.substr(0, 200);
  if (signs_in_through_provider_only(user_id)) {
    result.status = SignInResult::Status::identity_provider_only;
    return result;
  }
  if (!two_factor) {
    forget_failures();
    return start_session(user_id, label, false);
  }
  if (second_factor) {
    std::int64_t retry_after = 0;
    switch (check_second_factor(user_id, *second_factor, retry_after)) {
      case SecondFactor::accepted:
        forget_failures();
        return start_session(user_id, label, true);
      case SecondFactor::wrong: return wait > 0 ? throttled : result;
      case SecondFactor::throttled:
        throttled.retry_after_seconds = retry_after;
        return throttled;
    }
  }
  // The password was right: the second step gets a challenge of its own.
  forget_failures();
  return second_factor_challenge(user_id, label);
}

SignInResult Accounts::second_factor_challenge(const std::string& user_id, const std::string& label) {
  SignInResult result;
  result.status = SignInResult::Status::second_factor_required;
  result.challenge = crypto::random_token("fhc_");
  result.challenge_expires_at = now_() + config_.two_factor_challenge_seconds;
  const std::string hash = crypto::token_hash(result.challenge);  // stored as a hash, like every token
  const long long expires = result.challenge_expires_at;
  soci::session sql(database_.pool());
  sql << "INSERT INTO sign_in_challenges (token_hash, user_id, label, attempts, expires_at) VALUES (:h, :u, :l, 0, :x)",
      soci::use(hash), soci::use(user_id), soci::use(label), soci::use(expires);
  return result;
}

SignInResult Accounts::complete_sign_in(const std::string& challenge, const std::string& code) {
  SignInResult result;
  const std::string hash = crypto::token_hash(challenge);
  std::string user_id, label;
  {
    soci::session sql(database_.pool());
    long long expires_at = 0;
    sql << "SELECT user_id, label, expires_at FROM sign_in_challenges WHERE token_hash = :h", soci::use(hash),
        soci::into(user_id), soci::into(label), soci::into(expires_at);
    if (!sql.got_data() || expires_at <= now_()) return result;
  }
  std::int64_t retry_after = 0;
  const auto checked = check_second_factor(user_id, code, retry_after);
  if (checked == SecondFactor::throttled) {
    result.status = SignInResult::Status::throttled;
    result.retry_after_seconds = retry_after;
    return result;
  }
  {
    soci::session sql(database_.pool());  // released before start_session takes one
    if (checked == SecondFactor::wrong) {
      // A challenge allows a few codes; then the password is needed again.
      const int limit = config_.two_factor_challenge_attempts;
      sql << "UPDATE sign_in_challenges SET attempts = attempts + 1 WHERE token_hash = :h", soci::use(hash);
      sql << "DELETE FROM sign_in_challenges WHERE token_hash = :h AND attempts >= :n", soci::use(hash), soci::use(limit);
      return result;
    }
    // Used once: of two requests with the same challenge, one deletes it.
    soci::statement used = (sql.prepare << "DELETE FROM sign_in_challenges WHERE token_hash = :h", soci::use(hash));
    used.execute(true);
    if (used.get_affected_rows() == 0) return result;
  }
  return start_session(user_id, label, true);
}

SignInResult Accounts::start_session(const std::string& user_id, const std::string& label, bool second_factor) {
  SignInResult result;
  {
    soci::session sql(database_.pool());
    long long suspended_at = 0;
    soci::indicator suspended = soci::i_null;
    sql << "SELECT suspended_at FROM users WHERE id = :id", soci::use(user_id), soci::into(suspended_at, suspended);
    // Told only to whoever proved the password.
    if (suspended == soci::i_ok) {
      result.status = SignInResult::Status::suspended;
      return result;
    }
  }
  if (frozen_check_ && frozen_check_(user_id)) {
    result.status = SignInResult::Status::frozen;
    return result;
  }
  const std::string token = crypto::random_token("fhs_");
  const std::string hash = crypto::token_hash(token);
  Credential session{crypto::random_id("ses_", 16), kSession, label, now_(), now_(), now_() + config_.session_ttl_seconds};
  const std::string kind = kSession;
  const long long created = session.created_at;
  const long long expires = *session.expires_at;
  soci::indicator second_factor_indicator = second_factor ? soci::i_ok : soci::i_null;
  long long second_factor_at = created;
  soci::session sql(database_.pool());
  sql << "INSERT INTO credentials (id, user_id, kind, token_hash, label, created_at, last_used_at, expires_at, authenticated_at,"
         " second_factor_at) VALUES (:id, :u, :k, :h, :l, :c, :lu, :x, :a, :f)",
      soci::use(session.id), soci::use(user_id), soci::use(kind), soci::use(hash), soci::use(session.label),
      soci::use(created), soci::use(created), soci::use(expires), soci::use(created),
      soci::use(second_factor_at, second_factor_indicator);
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
  std::string scope_names;
  soci::indicator scopes_indicator = soci::i_null, authenticated_indicator = soci::i_null;
  long long authenticated_at = 0, second_factor_at = 0;
  soci::indicator second_factor_indicator = soci::i_null;
  sql << "SELECT c.id, c.kind, c.last_used_at, c.expires_at, c.scopes, c.authenticated_at, c.second_factor_at, u.id, u.role,"
         " u.email_verified_at FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.token_hash = :h",
      soci::use(hash), soci::into(context.credential_id), soci::into(context.kind), soci::into(last_used),
      soci::into(expires_at, expires_indicator), soci::into(scope_names, scopes_indicator),
      soci::into(authenticated_at, authenticated_indicator), soci::into(second_factor_at, second_factor_indicator),
      soci::into(context.user_id), soci::into(context.role), soci::into(verified_at, verified_indicator);
  if (authenticated_indicator == soci::i_ok) context.authenticated_at = authenticated_at;
  context.second_factor = second_factor_indicator == soci::i_ok;
  if (!sql.got_data()) return std::nullopt;
  const long long now = now_();
  if (expires_indicator == soci::i_ok && expires_at <= now) return std::nullopt;
  // Idle: last_used_at is kept to the minute, well within any idle timeout.
  if (context.is_session() && now - last_used > config_.session_idle_seconds) {
    sql << "DELETE FROM credentials WHERE id = :id", soci::use(context.credential_id);
    return std::nullopt;
  }
  context.email_verified = verified_indicator == soci::i_ok;
  if (scopes_indicator == soci::i_ok) context.scopes = scopes_from_text(scope_names);
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

std::string Accounts::csrf_token(const std::string& session_id) const {
  return crypto::keyed_hash(csrf_key_, "csrf|" + session_id);
}

bool Accounts::csrf_token_matches(const AuthContext& session, std::string_view token) const {
  const std::string expected = csrf_token(session.credential_id);
  return token.size() == expected.size() && sodium_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

std::optional<std::string> Accounts::rotate_session_token(const AuthContext& session) {
  if (!session.is_session()) return std::nullopt;
  const std::string token = crypto::random_token("fhs_");
  const std::string hash = crypto::token_hash(token);
  soci::session sql(database_.pool());
  soci::statement rotate = (sql.prepare << "UPDATE credentials SET token_hash = :h WHERE id = :id", soci::use(hash),
                            soci::use(session.credential_id));
  rotate.execute(true);
  if (rotate.get_affected_rows() == 0) return std::nullopt;
  account_changed();  // the old token is forgotten on every node
  return token;
}

std::vector<Credential> Accounts::credentials(const std::string& user_id, const std::string& kind) {
  soci::session sql(database_.pool());
  std::vector<Credential> out;
  Credential row;
  long long created = 0, last_used = 0, expires = 0;
  soci::indicator expires_indicator = soci::i_null;
  const long long now = now_();
  std::string scope_names;
  soci::indicator scopes_indicator = soci::i_null;
  // Sessions idle too long are over, even before the purge deletes them.
  const long long idle_cutoff = kind == kSession ? now - config_.session_idle_seconds : 0;
  soci::statement statement =
      (sql.prepare << "SELECT id, kind, label, created_at, last_used_at, expires_at, scopes FROM credentials"
                      " WHERE user_id = :u AND kind = :k AND (expires_at IS NULL OR expires_at > :n) AND last_used_at >= :i"
                      " ORDER BY created_at, id",
       soci::use(user_id), soci::use(kind), soci::use(now), soci::use(idle_cutoff), soci::into(row.id), soci::into(row.kind),
       soci::into(row.label), soci::into(created), soci::into(last_used), soci::into(expires, expires_indicator),
       soci::into(scope_names, scopes_indicator));
  statement.execute();
  while (statement.fetch()) {
    row.created_at = created;
    row.last_used_at = last_used;
    row.expires_at = expires_indicator == soci::i_ok ? std::optional<std::int64_t>(expires) : std::nullopt;
    row.scopes = scopes_indicator == soci::i_ok ? scopes_from_text(scope_names) : std::vector<Scope>{};
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

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::videos_read: return "videos:read";
    case Scope::videos_write: return "videos:write";
    case Scope::images_read: return "images:read";
    case Scope::images_write: return "images:write";
    case Scope::account_read: return "account:read";
  }
  return "videos:read";
}

std::optional<Scope> scope_from(std::string_view name) {
  for (const Scope scope : kScopes) {
    if (to_string(scope) == name) return scope;
  }
  return std::nullopt;
}

std::string scopes_text(const std::vector<Scope>& scopes) {
  std::string text;
  for (const Scope scope : scopes) text += (text.empty() ? "" : " ") + std::string(to_string(scope));
  return text;
}

std::vector<Scope> scopes_from_text(std::string_view text) {
  std::vector<Scope> scopes;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (const auto scope = scope_from(text.substr(0, space))) scopes.push_back(*scope);
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return scopes;
}

NewApiKey Accounts::create_api_key(const std::string& user_id, const std::string& label, const std::vector<Scope>& scopes) {
  NewApiKey created;
  created.key = crypto::random_token("fhk_");
  const std::string hash = crypto::token_hash(created.key);
  created.credential = Credential{crypto::random_id("key_", 16), kApiKey, label, now_(), now_(), std::nullopt, scopes};
  const long long now = created.credential.created_at;
  const std::string kind = kApiKey;
  const std::string scope_names = scopes_text(scopes);
  soci::session sql(database_.pool());
  sql << "INSERT INTO credentials (id, user_id, kind, token_hash, label, created_at, last_used_at, expires_at, scopes)"
         " VALUES (:id, :u, :k, :h, :l, :c, :lu, NULL, :s)",
      soci::use(created.credential.id), soci::use(user_id), soci::use(kind), soci::use(hash),
      soci::use(created.credential.label), soci::use(now), soci::use(now), soci::use(scope_names);
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
       "Choose a new password here:\n\n" + link("/reset-password", token) +
           "\n\nThe link works once and expires in " + whole_hours(config_.reset_ttl_seconds) +
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
  // Whoever had the old password, or a key made with it, loses them: the keys are named in the
  // mail so that the owner knows which programs to give a new one.
  std::vector<std::string> revoked_keys;
  {
    // On this session: a second one from the pool could wait for this one forever.
    std::string label;
    const std::string key_kind = kApiKey;
    soci::statement keys = (sql.prepare << "SELECT label FROM credentials WHERE user_id = :u AND kind = :k ORDER BY created_at",
                            soci::use(user_id), soci::use(key_kind), soci::into(label));
    keys.execute();
    while (keys.fetch()) revoked_keys.push_back(label);
  }
  {
    db::WriteTransaction transaction(sql, database_);
    // The reset link reached the address, which proves control of it as a verification would.
    sql << "UPDATE users SET password_hash = :p, email_verified_at = COALESCE(email_verified_at, :v), updated_at = :t"
           " WHERE id = :id",
        soci::use(password_hash), soci::use(now), soci::use(now), soci::use(user_id);
    sql << "DELETE FROM email_tokens WHERE user_id = :u AND purpose IN ('reset_password', 'verify_email')", soci::use(user_id);
    end_every_credential(sql, user_id);
    // The failed sign-ins that came before no longer hold the owner back, from any client.
    delete_account_throttles(sql, "user:" + user_id);
    record_event(sql, user_id, "password_reset");
    std::string keys_line = "No API key was affected.";
    if (!revoked_keys.empty()) {
      keys_line = "These API keys were revoked; make new ones for the programs that used them:";
      for (const auto& label : revoked_keys) keys_line += "\n  - " + label;
    }
    mail(transaction, email, user_id, "Your password was changed",
         "The password of your Framehouse account was just reset, and every session was signed out.\n" + keys_line +
             "\n\nIf this was not you, reset it again at once and contact your administrator.\n");
    transaction.commit();
  }
  account_changed();
  return {};
}

bool Accounts::recently_authenticated(const AuthContext& who) const {
  return who.is_session() && who.authenticated_at > 0 && now_() - who.authenticated_at <= config_.reauthentication_seconds;
}

Accounts::Reauthentication Accounts::reauthenticate(const AuthContext& who, const std::string& password) {
  // Guesses through a stolen session count like sign-in failures, for this account and caller.
  const std::string key = account_throttle_prefix("user:" + who.user_id) + "credential:" + who.credential_id;
  std::string stored_hash;
  {
    soci::session sql(database_.pool());
    if (backoff_for(sql, key, config_.max_failures_per_account, config_.failure_window_seconds) > 0) {
      return Reauthentication::throttled;
    }
    sql << "SELECT password_hash FROM users WHERE id = :id", soci::use(who.user_id), soci::into(stored_hash);
    if (!sql.got_data()) return Reauthentication::wrong_password;
  }
  const bool verified = verify_password(stored_hash, password);  // no pooled session held meanwhile
  {
    soci::session sql(database_.pool());
    if (!verified) {
      count_event(sql, key, config_.failure_window_seconds);
      return Reauthentication::wrong_password;
    }
    sql << "DELETE FROM rate_limits WHERE throttle_key = :k", soci::use(key);
  }
  mark_reauthenticated(who, false);
  return Reauthentication::confirmed;
}

void Accounts::mark_reauthenticated(const AuthContext& who, bool second_factor) {
  if (!who.is_session()) return;
  soci::session sql(database_.pool());
  const long long now = now_();
  sql << "UPDATE credentials SET authenticated_at = :n WHERE id = :id", soci::use(now), soci::use(who.credential_id);
  if (second_factor) {
    sql << "UPDATE credentials SET second_factor_at = :n WHERE id = :id", soci::use(now), soci::use(who.credential_id);
  }
  account_changed();  // the cached context says when
}

Accounts::Reauthentication Accounts::reauthenticate_with_code(const AuthContext& who, const std::string& code) {
  std::int64_t retry_after = 0;
  switch (check_second_factor(who.user_id, code, retry_after)) {
    case SecondFactor::accepted: break;
    case SecondFactor::wrong: return Reauthentication::wrong_password;
    case SecondFactor::throttled: return Reauthentication::throttled;
  }
  mark_reauthenticated(who, true);
  return Reauthentication::confirmed;
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

}  // namespace framehouse::accounts
