#include "sso/sign_ins.hpp"

#include <stdexcept>

#include <soci/soci.h>
#include <sodium.h>

#include "accounts/validation.hpp"
#include "crypto/crypto.hpp"
#include "observability/log.hpp"

namespace framehouse::sso {
namespace {

using observability::Log;

std::string random_url_token() {
  std::string bytes(32, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return base64url_encode(bytes);
}

// RFC 7636 §4.2: S256.
std::string code_challenge_of(const std::string& verifier) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()), reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return base64url_encode(digest);
}

SignIns::Outcome refused(std::string message) {
  SignIns::Outcome outcome;
  outcome.message = std::move(message);
  return outcome;
}

bool same(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string SignIns::safe_return_to(const std::string& requested) {
  if (requested.empty() || requested.front() != '/' || requested.rfind("//", 0) == 0 || requested.rfind("/\\", 0) == 0 ||
      requested.find_first_of("\r\n") != std::string::npos || requested.size() > 500) {
    return "/";
  }
  return requested;
}

SignIns::SignIns(db::Database& database, accounts::Accounts& accounts, const std::vector<ProviderConfig>& providers,
                 std::string public_url, int minimum_age, UnixClock clock)
    : database_(database), accounts_(accounts), public_url_(std::move(public_url)), minimum_age_(minimum_age),
      now_(std::move(clock)) {
  for (const auto& config : providers) providers_[config.name] = std::make_unique<OidcProvider>(config, now_);
}

std::vector<const ProviderConfig*> SignIns::providers() const {
  std::vector<const ProviderConfig*> out;
  for (const auto& [name, provider] : providers_) out.push_back(&provider->config());
  return out;
}

const ProviderConfig* SignIns::provider(const std::string& name) const {
  const auto found = providers_.find(name);
  return found == providers_.end() ? nullptr : &found->second->config();
}

std::optional<SignIns::Started> SignIns::start(const std::string& provider_name, const std::string& return_to) {
  const auto found = providers_.find(provider_name);
  if (found == providers_.end()) return std::nullopt;
  Started started;
  started.state = random_url_token();
  const std::string nonce = random_url_token();
  const std::string verifier = random_url_token();  // 43 characters, RFC 7636's minimum
  started.redirect = found->second->authorization_url(public_url_ + "/v1/sso/" + provider_name + "/callback", started.state,
                                                      nonce, code_challenge_of(verifier));
  const std::string state_hash = crypto::token_hash(started.state);
  const std::string target = safe_return_to(return_to);
  const long long expires = now_() + kLoginSeconds;
  soci::session sql(database_.pool());
  // What unfinished sign-ins left (a provider's word about someone) goes as soon as it expires,
  // not only at the hourly purge.
  const long long now = now_();
  sql << "DELETE FROM sso_logins WHERE expires_at <= :n", soci::use(now);
  sql << "INSERT INTO sso_logins (state_hash, provider, nonce, code_verifier, return_to, expires_at)"
         " VALUES (:h, :p, :n, :v, :r, :x)",
      soci::use(state_hash), soci::use(provider_name), soci::use(nonce), soci::use(verifier), soci::use(target),
      soci::use(expires);
  return started;
}

SignIns::Outcome SignIns::finish(const std::string& provider_name, const std::string& code, const std::string& state,
                                 const std::string& binding, const std::optional<std::string>& issuer,
                                 const std::string& client) {
  const auto found = providers_.find(provider_name);
  if (found == providers_.end()) return refused("This sign-in is not configured here.");
  const ProviderConfig& config = found->second->config();
  // The state must be the one this browser left with (its cookie), and is used once.
  if (state.empty() || !same(state, binding)) return refused("This sign-in was not started in this browser. Start again.");
  if (issuer && *issuer != config.issuer) return refused("The answer came from another identity provider. Start again.");
  const std::string state_hash = crypto::token_hash(state);
  std::string nonce, verifier, return_to, stored_provider;
  {
    soci::session sql(database_.pool());
    long long expires_at = 0;
    sql << "SELECT provider, nonce, code_verifier, return_to, expires_at FROM sso_logins WHERE state_hash = :h AND"
           " ticket_hash IS NULL",
        soci::use(state_hash), soci::into(stored_provider), soci::into(nonce), soci::into(verifier), soci::into(return_to),
        soci::into(expires_at);
    if (!sql.got_data() || expires_at <= now_() || stored_provider != provider_name) {
      return refused("This sign-in has expired or was used already. Start again.");
    }
    soci::statement used = (sql.prepare << "DELETE FROM sso_logins WHERE state_hash = :h", soci::use(state_hash));
    used.execute(true);
    if (used.get_affected_rows() == 0) return refused("This sign-in was used already. Start again.");
  }
  VerifiedIdentity verified;
  try {
    verified = found->second->redeem(code, verifier, public_url_ + "/v1/sso/" + provider_name + "/callback", nonce);
  } catch (const std::exception& error) {
    // The reason is the provider's or its token's, never the person's data.
    Log::warn("sso", "an identity provider's answer was refused", {{"provider", provider_name}, {"reason", error.what()}});
    return refused("The identity provider's answer could not be verified. Try again, or ask your administrator.");
  }
  const accounts::ExternalIdentity identity{provider_name, verified.subject, verified.email, verified.email_verified,
                                            verified.name};
  return sign_in_or_create(config, identity, verified.adult_by_claim, verified.multi_factor, return_to, state_hash, client);
}

SignIns::Outcome SignIns::sign_in_or_create(const ProviderConfig& config, const accounts::ExternalIdentity& identity,
                                            bool adult, bool multi_factor, const std::string& return_to,
                                            const std::string& state_hash, const std::string& client) {
  Outcome outcome;
  outcome.return_to = return_to;
  if (const auto user_id = accounts_.identity_account(identity, config.link_by_email)) {
    outcome.session = accounts_.sign_in_with_identity(*user_id, identity, client, multi_factor);
    outcome.status = Outcome::Status::signed_in;
    return outcome;
  }
  if (!config.create_accounts) {
    return refused("There is no account here for you yet: ask your administrator for one.");
  }
  if (!identity.email_verified) return refused("Your identity provider has not verified your email address.");
  if (!adult) {
    // The age gate, as at sign-up: the birth date is asked once, checked, never stored. What
    // the provider said waits under a ticket for ten minutes at most.
    outcome.status = Outcome::Status::needs_birth_date;
    outcome.ticket = random_url_token();
    const std::string ticket_hash = crypto::token_hash(outcome.ticket);
    const long long expires = now_() + kLoginSeconds;
    const int email_verified = identity.email_verified ? 1 : 0;
    soci::session sql(database_.pool());
    sql << "INSERT INTO sso_logins (state_hash, provider, nonce, code_verifier, return_to, expires_at, ticket_hash, subject,"
           " email, email_verified, name) VALUES (:h, :p, '', '', :r, :x, :t, :s, :e, :v, :n)",
        soci::use(state_hash), soci::use(identity.provider), soci::use(return_to), soci::use(expires), soci::use(ticket_hash),
        soci::use(identity.subject), soci::use(identity.email), soci::use(email_verified), soci::use(identity.name);
    return outcome;
  }
  try {
    const std::string user_id = accounts_.create_identity_account(identity);
    outcome.session = accounts_.sign_in_with_identity(user_id, identity, client, multi_factor);
    outcome.status = Outcome::Status::signed_in;
  } catch (const std::invalid_argument& problem) {
    return refused(std::string("An account cannot be made for you: ") + problem.what() + ".");
  }
  return outcome;
}

SignIns::Outcome SignIns::complete(const std::string& ticket, const std::string& binding, const std::string& date_of_birth,
                                   const std::string& client) {
  const std::string ticket_hash = crypto::token_hash(ticket);
  accounts::ExternalIdentity identity;
  std::string state_hash, return_to;
  {
    soci::session sql(database_.pool());
    long long expires_at = 0;
    int email_verified = 0;
    sql << "SELECT state_hash, provider, subject, email, email_verified, name, return_to, expires_at FROM sso_logins"
           " WHERE ticket_hash = :t",
        soci::use(ticket_hash), soci::into(state_hash), soci::into(identity.provider), soci::into(identity.subject),
        soci::into(identity.email), soci::into(email_verified), soci::into(identity.name), soci::into(return_to),
        soci::into(expires_at);
    if (!sql.got_data() || expires_at <= now_()) return refused("This sign-in has expired. Start again.");
    if (!same(crypto::token_hash(binding), state_hash)) return refused("This sign-in was not started in this browser.");
    identity.email_verified = email_verified != 0;
    const auto age = accounts::age_on(date_of_birth, accounts::utc_date(now_()));
    if (!age) return refused("The date of birth must be a date in the past, as YYYY-MM-DD.");
    // Used once, whatever the answer: under the age, what the provider said goes at once.
    sql << "DELETE FROM sso_logins WHERE ticket_hash = :t", soci::use(ticket_hash);
    if (*age < minimum_age_) return refused("This service is not available to you.");
  }
  const auto* config = provider(identity.provider);
  if (config == nullptr) return refused("This sign-in is not configured here any more.");
  return sign_in_or_create(*config, identity, true, false, return_to, state_hash, client);
}

std::int64_t SignIns::purge_expired() {
  soci::session sql(database_.pool());
  const long long now = now_();
  soci::statement purge = (sql.prepare << "DELETE FROM sso_logins WHERE expires_at <= :n", soci::use(now));
  purge.execute(true);
  return purge.get_affected_rows();
}

}  // namespace framehouse::sso
