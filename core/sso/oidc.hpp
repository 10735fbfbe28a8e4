// An OpenID Connect provider as this server uses it (OpenID Connect Core 1.0, authorization
// code flow with PKCE): its discovery document and keys, fetched and kept; the authorization
// URL; the code redeemed at the token endpoint; the ID token validated (signature against the
// JWKS — fetched again once when a token names a key not seen yet, which is how a provider's
// key rotation reaches us —, iss, aud, azp, exp, iat, nonce).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "clock/clock.hpp"
#include "sso/jwt.hpp"

namespace framehouse::sso {

struct ProviderConfig {
  std::string name;          // [sso.<name>]; in URLs and the identity links
  std::string display_name;  // on the sign-in button
  std::string issuer;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes{"openid", "email", "profile"};
  std::string email_claim = "email";
  std::string name_claim = "name";
  bool create_accounts = true;  // accounts made just in time for people the provider vouches for
  bool link_by_email = true;    // an existing account with the provider-verified address is linked
  // A boolean claim the provider sets for people known to be adults (employees): they are not
  // asked for a birth date. Empty: everyone new is asked.
  std::string adult_claim;
  bool password_sign_in = true;  // whether accounts linked to this provider may also use a password
  std::string ca_file;
};

struct VerifiedIdentity {
  std::string subject;
  std::string email;
  bool email_verified = false;
  std::string name;
  bool adult_by_claim = false;
  bool multi_factor = false;  // "amr" names a second factor (mfa, otp, hwk, …)
};

// What an ID token must be to be accepted. Nullopt and a reason otherwise.
struct TokenRules {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::int64_t now = 0;
  std::int64_t leeway_seconds = 60;
};
std::optional<std::string> check_id_token_claims(const Jwt& token, const TokenRules& rules);
// The identity in validated claims, read with the provider's claim names.
VerifiedIdentity identity_from(const boost::json::object& claims, const ProviderConfig& config);

class OidcProvider {
 public:
  OidcProvider(ProviderConfig config, UnixClock clock = unix_now);
  const ProviderConfig& config() const { return config_; }

  // Throws std::runtime_error when the provider cannot be reached or its document is wrong.
  std::string authorization_url(const std::string& redirect_uri, const std::string& state, const std::string& nonce,
                                const std::string& code_challenge);
  // Redeems the code and validates the ID token; throws std::runtime_error with the reason.
  VerifiedIdentity redeem(const std::string& code, const std::string& code_verifier, const std::string& redirect_uri,
                          const std::string& nonce);

 private:
  struct Discovery {
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string jwks_uri;
  };
  Discovery discovery();
  // The key the token names (or, without a kid, any that verifies); the JWKS is fetched again
  // when the kid is not known (the provider rotated its keys) or the keys are an hour old.
  bool signature_valid(const Jwt& token);
  boost::json::array fetch_keys(const std::string& jwks_uri);

  ProviderConfig config_;
  UnixClock now_;
  std::mutex mutex_;
  std::optional<Discovery> discovery_;
  std::chrono::steady_clock::time_point discovered_at_{};
  boost::json::array keys_;
  std::chrono::steady_clock::time_point keys_fetched_at_{};
};

}  // namespace framehouse::sso
