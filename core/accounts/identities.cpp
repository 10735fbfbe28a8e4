// Accounts: enterprise identities (OpenID Connect) — the link from an issuer's subject to an
// account, accounts made just in time for them, and their sessions.
#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "accounts/validation.hpp"

namespace framehouse::accounts {

std::optional<std::string> Accounts::identity_account(const ExternalIdentity& identity, bool link_by_email) {
  soci::session sql(database_.pool());
  std::string user_id;
  sql << "SELECT user_id FROM sso_identities WHERE provider = :p AND subject = :s", soci::use(identity.provider),
      soci::use(identity.subject), soci::into(user_id);
  if (sql.got_data()) return user_id;
  // Only an address the provider says it verified: anyone could put any address on an
  // unverified profile.
  const auto email = normalise_email(identity.email);
  if (!link_by_email || !identity.email_verified || !email) return std::nullopt;
  sql << "SELECT id FROM users WHERE email = :e", soci::use(*email), soci::into(user_id);
  if (!sql.got_data()) return std::nullopt;
  const long long now = now_();
  db::WriteTransaction transaction(sql, database_);
  sql << "INSERT INTO sso_identities (provider, subject, user_id, linked_at, last_sign_in_at) VALUES (:p, :s, :u, :t, :t2)"
         " ON CONFLICT (provider, subject) DO NOTHING",
      soci::use(identity.provider), soci::use(identity.subject), soci::use(user_id), soci::use(now), soci::use(now);
  record_event(sql, user_id, "identity_linked");
  mail(transaction, *email, user_id, "Your account is linked to your organisation's sign-in",
       "Your Framehouse account can now be signed in to through " + identity.provider +
           ", your organisation's sign-in.\n\nIf this was not you, contact your administrator.\n");
  transaction.commit();
  return user_id;
}

std::string Accounts::create_identity_account(const ExternalIdentity& identity) {
  const auto email = normalise_email(identity.email);
  if (!email) throw std::invalid_argument("the identity provider gave no usable email address");
  const std::string name = identity.name.empty() ? email->substr(0, email->find('@')) : identity.name.substr(0, 400);
  if (auto problem = name_problem(name)) throw std::invalid_argument("name " + *problem);
  const std::string id = crypto::random_id("usr_", 16);
  const long long now = now_();
  soci::session sql(database_.pool());
  int taken = 0;
  sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(*email), soci::into(taken);
  if (taken > 0) throw std::invalid_argument("an account with this address exists and is not linked to this sign-in");
  // No password: "!" is no PHC string, so no password ever verifies against it (a reset can
  // set one where the provider allows password sign-in).
  const std::string no_password = "!";
  db::WriteTransaction transaction(sql, database_);
  // The provider verified the address; the age gate was passed just before.
  insert_vouched_user(sql, id, *email, name, no_password, "user", "sign_up");
  sql << "INSERT INTO sso_identities (provider, subject, user_id, linked_at, last_sign_in_at) VALUES (:p, :s, :u, :t, :t2)",
      soci::use(identity.provider), soci::use(identity.subject), soci::use(id), soci::use(now), soci::use(now);
  record_event(sql, id, "signed_up");
  transaction.commit();
  return id;
}

bool Accounts::signs_in_through_provider_only(const std::string& user_id) {
  if (config_.providers_without_password_sign_in.empty()) return false;
  soci::session sql(database_.pool());
  for (const auto& provider : config_.providers_without_password_sign_in) {
    int linked = 0;
    sql << "SELECT COUNT(*) FROM sso_identities WHERE user_id = :u AND provider = :p", soci::use(user_id), soci::use(provider),
        soci::into(linked);
    if (linked > 0) return true;
  }
  return false;
}

SignInResult Accounts::sign_in_with_identity(const std::string& user_id, const ExternalIdentity& identity,
                                             const std::string& client, bool second_factor) {
  bool totp_on = false;
  {
    soci::session sql(database_.pool());
    const long long now = now_();
    sql << "UPDATE sso_identities SET last_sign_in_at = :t WHERE provider = :p AND subject = :s", soci::use(now),
        soci::use(identity.provider), soci::use(identity.subject);
    totp_on = two_factor_enabled(sql, user_id);
  }
  // The owner turned on two-factor sign-in: a provider that did not prove a second factor
  // itself is the first factor only, as a password would be.
  if (totp_on && !second_factor) return second_factor_challenge(user_id, client.substr(0, 200));
  return start_session(user_id, client.substr(0, 200), second_factor);
}

}  // namespace framehouse::accounts
