// Enterprise sign-in, end to end: a browser leaves for the provider with a fresh state, nonce
// and PKCE verifier (kept here, hashed by state), comes back with a code, and leaves with a
// session — for an account linked to the identity, linked by the verified address, or made
// just in time after the same age gate as sign-up (a birth date, asked once, unless the
// provider says the person is an adult). The browser is bound to its sign-in by a cookie
// holding the state, so that nobody can finish a sign-in they did not start in that browser.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.hpp"
#include "clock/clock.hpp"
#include "db/database.hpp"
#include "sso/oidc.hpp"

namespace framehouse::sso {

class SignIns {
 public:
  // `public_url`: where the provider sends the browser back ("<public_url>/v1/sso/<name>/callback").
  SignIns(db::Database& database, accounts::Accounts& accounts, const std::vector<ProviderConfig>& providers,
          std::string public_url, int minimum_age, UnixClock clock = unix_now);

  std::vector<const ProviderConfig*> providers() const;
  const ProviderConfig* provider(const std::string& name) const;
  int minimum_age() const { return minimum_age_; }
  // Only a path on this server, never a full URL, so that a sign-in cannot send the browser
  // elsewhere (an open redirect): anything else is "/".
  static std::string safe_return_to(const std::string& requested);

  static constexpr std::int64_t kLoginSeconds = 10 * 60;
  struct Started {
    std::string redirect;  // the provider's authorization URL
    std::string state;     // for the browser's binding cookie
  };
  // Nullopt for an unknown provider; throws std::runtime_error when the provider is unreachable.
  std::optional<Started> start(const std::string& provider_name, const std::string& return_to);

  struct Outcome {
    // signed_in: `session` holds the new session. needs_birth_date: `ticket` completes it
    // with one. refused: `message` says why, for the person (underage, no account here…).
    enum class Status { signed_in, needs_birth_date, refused } status = Status::refused;
    accounts::SignInResult session;
    std::string ticket;
    std::string return_to = "/";
    std::string message;
  };
  // The provider's answer at the callback. `binding` is the browser's cookie; `issuer` the
  // callback's iss parameter (RFC 9207) when the provider sends one.
  Outcome finish(const std::string& provider_name, const std::string& code, const std::string& state,
                 const std::string& binding, const std::optional<std::string>& issuer, const std::string& client);
  // The birth date for a new account (the same age gate as sign-up; under it, nothing is kept).
  Outcome complete(const std::string& ticket, const std::string& binding, const std::string& date_of_birth,
                   const std::string& client);
  // Deletes sign-ins that were never finished.
  std::int64_t purge_expired();

 private:
  Outcome sign_in_or_create(const ProviderConfig& config, const accounts::ExternalIdentity& identity, bool adult,
                            bool multi_factor, const std::string& return_to, const std::string& state_hash,
                            const std::string& client);

  db::Database& database_;
  accounts::Accounts& accounts_;
  std::map<std::string, std::unique_ptr<OidcProvider>> providers_;
  std::string public_url_;
  int minimum_age_;
  UnixClock now_;
};

}  // namespace framehouse::sso
