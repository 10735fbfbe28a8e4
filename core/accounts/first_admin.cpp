// The first admin of a fresh installation, made in the browser with the link the server
// prints at start (accounts.hpp: issue_first_admin_token, create_first_admin).
#include "accounts/accounts.hpp"
#include "accounts/validation.hpp"

namespace framehouse::accounts {

std::optional<std::string> Accounts::issue_first_admin_token() {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  if (active_admins(sql) > 0) return std::nullopt;
  const long long now = now_();
  const long long expires_at = now + kFirstAdminTokenSeconds;
  sql << "DELETE FROM setup_tokens WHERE expires_at <= :n", soci::use(now);
  const std::string token = crypto::random_token("fha_");
  const std::string token_hash = crypto::token_hash(token);  // soci::use binds by reference: a named value
  sql << "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (:h, :e)", soci::use(token_hash), soci::use(expires_at);
  transaction.commit();
  return token;
}

Accounts::FirstAdmin Accounts::create_first_admin(const std::string& token, const std::string& name,
                                                  const std::string& email_input, const std::string& password,
                                                  FieldErrors& errors, std::string& user_id) {
  const auto email = normalise_email(email_input);
  if (!email) errors.push_back({"email", "is not a valid email address"});
  if (auto problem = name_problem(name)) errors.push_back({"name", *problem});
  if (auto problem = password_problem(password, config_.password_min_length, email.value_or(""), name)) {
    errors.push_back({"password", *problem});
  }
  if (!errors.empty()) return FirstAdmin::invalid;
  const std::string token_hash = crypto::token_hash(token);
  {
    soci::session sql(database_.pool());
    const long long now = now_();
    int live = 0;
    sql << "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = :h AND expires_at > :n", soci::use(token_hash), soci::use(now),
        soci::into(live);
    if (live == 0) return FirstAdmin::token_unusable;  // before the costly hash: a guess costs nothing
  }
  // No pooled session is held while the password is hashed or the audit log writes.
  const std::string hash = hash_password(password);
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    // The token goes whatever follows: each link makes one admin at most (on PostgreSQL a
    // second use waits for this row's lock and then finds it gone).
    const long long now = now_();
    soci::statement use_up = (sql.prepare << "DELETE FROM setup_tokens WHERE token_hash = :h AND expires_at > :n",
                              soci::use(token_hash), soci::use(now));
    use_up.execute(true);
    if (use_up.get_affected_rows() == 0 || active_admins(sql) > 0) return FirstAdmin::token_unusable;
    int taken = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
    if (taken > 0) {
      errors.push_back({"email", "an account with this address exists (make it an admin with `framehouse admin set-role`)"});
      return FirstAdmin::invalid;
    }
    user_id = crypto::random_id("usr_", 16);
    insert_vouched_user(sql, user_id, *email, name, hash, "admin", "first_admin_setup");
    // Every other link of this installation is void now that there is an admin.
    sql << "DELETE FROM setup_tokens";
    transaction.notify(kChangeTopic);
    transaction.commit();
  }
  if (audit_log_ != nullptr) audit_log_->record(user_id, "admin.first_admin_setup", user_id, "{}");
  return FirstAdmin::created;
}

}  // namespace framehouse::accounts
