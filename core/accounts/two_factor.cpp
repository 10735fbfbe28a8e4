// Accounts: two-factor sign-in with TOTP (RFC 6238) — enrolment, confirmation, recovery codes,
// the check of a second factor at sign-in and re-authentication, and turning it off.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "crypto/totp.hpp"
#include "observability/log.hpp"
#include "storage/sealing.hpp"

namespace framehouse::accounts {
namespace {

using observability::Log;

// Codes of the step before and after the current one are accepted too: the phone's clock and
// the time it takes to type (RFC 6238 §5.2).
constexpr int kStepWindow = 1;

std::string sealing_context(const std::string& user_id) { return "totp:" + user_id; }

// Recovery codes: 10 base32 characters (50 bits), shown as "xxxxx-xxxxx". Stored as SHA-256 of
// the normalised form, which makes them case- and dash-insensitive when typed.
std::string normalise_recovery_code(std::string_view code) {
  std::string out;
  for (const char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string new_recovery_code() {
  std::string bytes(7, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  std::string code = crypto::base32_encode(bytes).substr(0, 10);
  std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return std::tolower(c); });
  return code.substr(0, 5) + "-" + code.substr(5);
}

bool looks_like_totp(std::string_view code) {
  return code.size() == static_cast<std::size_t>(crypto::kTotpDigits) &&
         std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

bool Accounts::two_factor_enabled(soci::session& sql, const std::string& user_id) {
  int enabled = 0;
  sql << "SELECT COUNT(*) FROM totp_factors WHERE user_id = :u AND confirmed_at IS NOT NULL", soci::use(user_id),
      soci::into(enabled);
  return enabled > 0;
}

TwoFactorStatus Accounts::two_factor(const std::string& user_id) {
  soci::session sql(database_.pool());
  TwoFactorStatus status;
  long long confirmed_at = 0;
  soci::indicator confirmed = soci::i_null;
  sql << "SELECT confirmed_at FROM totp_factors WHERE user_id = :u", soci::use(user_id), soci::into(confirmed_at, confirmed);
  if (!sql.got_data()) return status;
  status.enabled = confirmed == soci::i_ok;
  status.enrolment_pending = !status.enabled;
  if (status.enabled) status.enabled_at = confirmed_at;
  sql << "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u AND used_at IS NULL", soci::use(user_id),
      soci::into(status.recovery_codes_left);
  return status;
}

std::optional<TotpEnrolment> Accounts::begin_totp_enrolment(const std::string& user_id) {
  if (data_keys_ == nullptr) throw std::logic_error("two-factor sign-in needs the data keys (seal_secrets_with)");
  std::string email;
  {
    soci::session sql(database_.pool());
    if (two_factor_enabled(sql, user_id)) return std::nullopt;
    sql << "SELECT email FROM users WHERE id = :id", soci::use(user_id), soci::into(email);
    if (!sql.got_data()) return std::nullopt;
  }
  std::string secret(crypto::kTotpSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  // The person's data key: erasing them (which destroys it) makes every copy of the secret,
  // backups included, unreadable. Taken before the session below (it uses one of its own).
  const std::string sealed = storage::seal_value(data_keys_->key_for(user_id), secret, sealing_context(user_id));
  const long long now = now_();
  soci::session sql(database_.pool());
  sql << "INSERT INTO totp_factors (user_id, sealed_secret, confirmed_at, last_step, created_at) VALUES (:u, :s, NULL, 0, :t)"
         " ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at"
         " WHERE totp_factors.confirmed_at IS NULL",
      soci::use(user_id), soci::use(sealed), soci::use(now);
  TotpEnrolment enrolment{crypto::base32_encode(secret), crypto::otpauth_uri(config_.issuer, email, secret)};
  sodium_memzero(secret.data(), secret.size());
  return enrolment;
}

std::vector<std::string> Accounts::replace_recovery_codes(soci::session& sql, const std::string& user_id) {
  sql << "DELETE FROM recovery_codes WHERE user_id = :u", soci::use(user_id);
  std::vector<std::string> codes;
  const long long now = now_();
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    codes.push_back(new_recovery_code());
    const std::string hash = crypto::token_hash(normalise_recovery_code(codes.back()));
    sql << "INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES (:u, :h, :t, NULL)", soci::use(user_id),
        soci::use(hash), soci::use(now);
  }
  return codes;
}

std::vector<std::string> Accounts::confirm_totp(const AuthContext& who, const std::string& code) {
  if (data_keys_ == nullptr) throw std::logic_error("two-factor sign-in needs the data keys (seal_secrets_with)");
  const auto key = data_keys_->existing(who.user_id);
  if (!key) return {};
  soci::session sql(database_.pool());
  std::string sealed;
  sql << "SELECT sealed_secret FROM totp_factors WHERE user_id = :u AND confirmed_at IS NULL", soci::use(who.user_id),
      soci::into(sealed);
  if (!sql.got_data()) return {};
  auto secret = storage::open_value(*key, sealed, sealing_context(who.user_id));
  if (!secret) {
    Log::error("accounts", "a TOTP secret does not open with its owner's data key", {});
    return {};
  }
  const auto step = crypto::totp_match(*secret, code, crypto::totp_step(now_()), kStepWindow);
  sodium_memzero(secret->data(), secret->size());
  if (!step) return {};
  const long long now = now_();
  const long long used_step = *step;
  std::string email;
  sql << "SELECT email FROM users WHERE id = :id", soci::use(who.user_id), soci::into(email);
  db::WriteTransaction transaction(sql, database_);
  soci::statement confirm =
      (sql.prepare << "UPDATE totp_factors SET confirmed_at = :t, last_step = :s WHERE user_id = :u AND confirmed_at IS NULL",
       soci::use(now), soci::use(used_step), soci::use(who.user_id));
  confirm.execute(true);
  if (confirm.get_affected_rows() == 0) return {};  // confirmed meanwhile by another request
  auto codes = replace_recovery_codes(sql, who.user_id);
  if (who.is_session()) {
    sql << "UPDATE credentials SET second_factor_at = :t WHERE id = :id", soci::use(now), soci::use(who.credential_id);
  }
  record_event(sql, who.user_id, "two_factor_enabled");
  mail(transaction, email, who.user_id, "Two-factor sign-in is on",
       "Signing in to your Framehouse account now needs a code from your authenticator app as well as your password.\n"
       "Keep your recovery codes somewhere safe: each one signs you in once if you lose the device.\n\n"
       "If this was not you, reset your password at once and contact your administrator.\n");
  transaction.commit();
  account_changed();
  return codes;
}

bool Accounts::disable_two_factor(const std::string& user_id, bool by_staff) {
  soci::session sql(database_.pool());
  std::string email;
  sql << "SELECT email FROM users WHERE id = :id", soci::use(user_id), soci::into(email);
  if (!sql.got_data()) return false;
  const bool was_on = two_factor_enabled(sql, user_id);
  db::WriteTransaction transaction(sql, database_);
  sql << "DELETE FROM totp_factors WHERE user_id = :u", soci::use(user_id);
  sql << "DELETE FROM recovery_codes WHERE user_id = :u", soci::use(user_id);
  sql << "DELETE FROM sign_in_challenges WHERE user_id = :u", soci::use(user_id);
  sql << "UPDATE credentials SET second_factor_at = NULL WHERE user_id = :u", soci::use(user_id);
  if (was_on) {
    record_event(sql, user_id, by_staff ? "two_factor_reset_by_staff" : "two_factor_disabled");
    mail(transaction, email, user_id, "Two-factor sign-in is off",
         std::string(by_staff ? "An administrator turned off two-factor sign-in for your Framehouse account, as you asked.\n"
                              : "Two-factor sign-in for your Framehouse account was turned off.\n") +
             "Signing in now needs only your password; you can turn it on again in your settings.\n\n"
             "If you did not ask for this, reset your password at once and contact your administrator.\n");
  }
  transaction.commit();
  account_changed();
  return was_on;
}

std::vector<std::string> Accounts::new_recovery_codes(const std::string& user_id) {
  soci::session sql(database_.pool());
  if (!two_factor_enabled(sql, user_id)) return {};
  db::WriteTransaction transaction(sql, database_);
  auto codes = replace_recovery_codes(sql, user_id);
  record_event(sql, user_id, "recovery_codes_replaced");
  transaction.commit();
  return codes;
}

Accounts::SecondFactor Accounts::check_second_factor(const std::string& user_id, const std::string& code,
                                                     std::int64_t& retry_after) {
  // Read before the session below: the data keys take a pooled session of their own.
  const auto key = data_keys_ != nullptr ? data_keys_->existing(user_id) : std::nullopt;
  soci::session sql(database_.pool());
  std::string sealed;
  long long last_step = 0;
  sql << "SELECT sealed_secret, last_step FROM totp_factors WHERE user_id = :u AND confirmed_at IS NOT NULL",
      soci::use(user_id), soci::into(sealed), soci::into(last_step);
  if (!sql.got_data()) return SecondFactor::wrong;
  const std::string wrong_codes_key = account_throttle_prefix("user:" + user_id) + "codes";
  const auto window = config_.failure_window_seconds;
  if (!looks_like_totp(code)) {
    // A recovery code: 50 random bits, beyond guessing, so never held back by the wait that
    // wrong six-digit codes cause — the owner's way in when someone with the password guessed.
    const std::string hash = crypto::token_hash(normalise_recovery_code(code));
    const long long now = now_();
    soci::statement use_code =
        (sql.prepare << "UPDATE recovery_codes SET used_at = :t WHERE user_id = :u AND code_hash = :h AND used_at IS NULL",
         soci::use(now), soci::use(user_id), soci::use(hash));
    use_code.execute(true);
    if (use_code.get_affected_rows() == 0) return SecondFactor::wrong;
    sql << "DELETE FROM rate_limits WHERE throttle_key = :k", soci::use(wrong_codes_key);
    record_event(sql, user_id, "recovery_code_used");
    return SecondFactor::accepted;
  }
  if (const auto wait = backoff_for(sql, wrong_codes_key, config_.max_wrong_codes_per_account, window); wait > 0) {
    retry_after = wait;
    return SecondFactor::throttled;
  }
  auto secret = key ? storage::open_value(*key, sealed, sealing_context(user_id)) : std::nullopt;
  if (!secret) {
    Log::error("accounts", "a TOTP secret does not open with its owner's data key", {});
    return SecondFactor::wrong;
  }
  const auto step = crypto::totp_match(*secret, code, crypto::totp_step(now_()), kStepWindow);
  sodium_memzero(secret->data(), secret->size());
  // A code works once: its step must be newer than the last one used (also across nodes, by
  // the conditional update).
  bool accepted = false;
  if (step && *step > last_step) {
    const long long used_step = *step;
    soci::statement use_step =
        (sql.prepare << "UPDATE totp_factors SET last_step = :s WHERE user_id = :u AND last_step < :s2", soci::use(used_step),
         soci::use(user_id), soci::use(used_step));
    use_step.execute(true);
    accepted = use_step.get_affected_rows() > 0;
  }
  if (!accepted) {
    count_event(sql, wrong_codes_key, window);
    return SecondFactor::wrong;
  }
  sql << "DELETE FROM rate_limits WHERE throttle_key = :k", soci::use(wrong_codes_key);
  return SecondFactor::accepted;
}

bool Accounts::lacks_required_second_factor(const AuthContext& who) const {
  const auto& roles = config_.two_factor_required_for;
  return !who.second_factor && std::find(roles.begin(), roles.end(), who.role) != roles.end();
}

}  // namespace framehouse::accounts
