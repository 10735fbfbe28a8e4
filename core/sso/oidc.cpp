#include "sso/oidc.hpp"

#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/url/url.hpp>

#include "sso/http_fetch.hpp"

namespace framehouse::sso {
namespace {

namespace json = boost::json;

constexpr auto kDiscoveryLifetime = std::chrono::hours(1);
constexpr auto kKeysLifetime = std::chrono::hours(1);

std::string text_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

json::object json_document(const FetchResponse& response, const std::string& what) {
  if (response.status != 200) throw std::runtime_error(what + " answered HTTP " + std::to_string(response.status));
  boost::system::error_code error;
  auto value = json::parse(response.body, error);
  if (error || !value.is_object()) throw std::runtime_error(what + " is not a JSON object");
  return std::move(value.as_object());
}

bool truthy(const json::value* value) {
  return value != nullptr && ((value->is_bool() && value->as_bool()) || (value->is_string() && value->as_string() == "true"));
}

}  // namespace

std::optional<std::string> check_id_token_claims(const Jwt& token, const TokenRules& rules) {
  const auto& claims = token.claims;
  if (text_of(claims, "iss") != rules.issuer) return "the token's issuer is not " + rules.issuer;
  const auto* audience = claims.if_contains("aud");
  bool ours = false;
  std::size_t audiences = 0;
  if (audience != nullptr && audience->is_string()) {
    ours = audience->as_string() == rules.client_id;
    audiences = 1;
  } else if (audience != nullptr && audience->is_array()) {
    for (const auto& entry : audience->as_array()) ours = ours || (entry.is_string() && entry.as_string() == rules.client_id);
    audiences = audience->as_array().size();
  }
  if (!ours) return std::string("the token is not for this client (aud)");
  // Core §3.1.3.7: with several audiences, azp names the client it was issued to; when azp is
  // there at all, it must be this client.
  const bool has_azp = claims.contains("azp");
  if ((audiences > 1 || has_azp) && text_of(claims, "azp") != rules.client_id) return std::string("azp is not this client");
  if (const auto* not_before = claims.if_contains("nbf");
      not_before != nullptr && (!not_before->is_number() || not_before->to_number<double>() > rules.now + rules.leeway_seconds)) {
    return std::string("the token is not valid yet (nbf)");
  }
  const auto* expires = claims.if_contains("exp");
  if (expires == nullptr || !expires->is_number() || expires->to_number<double>() + rules.leeway_seconds <= rules.now) {
    return std::string("the token has expired (exp)");
  }
  if (const auto* issued = claims.if_contains("iat");
      issued == nullptr || !issued->is_number() || issued->to_number<double>() > rules.now + rules.leeway_seconds) {
    return std::string("the token's iat is missing or in the future");
  }
  if (text_of(claims, "nonce") != rules.nonce || rules.nonce.empty()) {
    return std::string("the token's nonce is not this sign-in's (a replay?)");
  }
  if (text_of(claims, "sub").empty()) return std::string("the token names no subject");
  return std::nullopt;
}

VerifiedIdentity identity_from(const json::object& claims, const ProviderConfig& config) {
  VerifiedIdentity identity;
  identity.subject = text_of(claims, "sub");
  identity.email = text_of(claims, config.email_claim);
  identity.email_verified = truthy(claims.if_contains("email_verified"));
  identity.name = text_of(claims, config.name_claim);
  identity.adult_by_claim = !config.adult_claim.empty() && truthy(claims.if_contains(config.adult_claim));
  if (const auto* methods = claims.if_contains("amr"); methods != nullptr && methods->is_array()) {
    for (const auto& method : methods->as_array()) {
      // RFC 8176 values that mean more than one factor, or a factor beyond the password.
      for (const char* factor : {"mfa", "otp", "hwk", "swk", "sc", "fido", "mca"}) {
        identity.multi_factor = identity.multi_factor || (method.is_string() && method.as_string() == factor);
      }
    }
  }
  return identity;
}

OidcProvider::OidcProvider(ProviderConfig config, UnixClock clock) : config_(std::move(config)), now_(std::move(clock)) {}

OidcProvider::Discovery OidcProvider::discovery() {
  std::lock_guard lock(mutex_);
  if (discovery_ && std::chrono::steady_clock::now() - discovered_at_ < kDiscoveryLifetime) return *discovery_;
  const std::string url = config_.issuer + "/.well-known/openid-configuration";
  const auto document = json_document(http_get(url, {std::chrono::seconds(10), config_.ca_file}), url);
  // OpenID Connect Discovery §4.3: the document is the issuer's own.
  if (text_of(document, "issuer") != config_.issuer) {
    throw std::runtime_error(url + " names issuer '" + text_of(document, "issuer") + "', not " + config_.issuer);
  }
  Discovery found{text_of(document, "authorization_endpoint"), text_of(document, "token_endpoint"),
                  text_of(document, "jwks_uri")};
  for (const auto* endpoint : {&found.authorization_endpoint, &found.token_endpoint, &found.jwks_uri}) {
    if (!allowed_url(*endpoint)) throw std::runtime_error(url + " gives an endpoint that is not https: '" + *endpoint + "'");
  }
  discovery_ = found;
  discovered_at_ = std::chrono::steady_clock::now();
  return found;
}

std::string OidcProvider::authorization_url(const std::string& redirect_uri, const std::string& state, const std::string& nonce,
                                            const std::string& code_challenge) {
  boost::urls::url url(discovery().authorization_endpoint);
  std::string scope;
  for (const auto& name : config_.scopes) scope += (scope.empty() ? "" : " ") + name;
  auto params = url.params();
  params.append({"response_type", "code"});
  params.append({"client_id", config_.client_id});
  params.append({"redirect_uri", redirect_uri});
  params.append({"scope", scope});
  params.append({"state", state});
  params.append({"nonce", nonce});
  params.append({"code_challenge", code_challenge});
  params.append({"code_challenge_method", "S256"});
  return std::string(url.buffer());
}

json::array OidcProvider::fetch_keys(const std::string& jwks_uri) {
  const auto document = json_document(http_get(jwks_uri, {std::chrono::seconds(10), config_.ca_file}), jwks_uri);
  const auto* keys = document.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) throw std::runtime_error(jwks_uri + " has no keys");
  return keys->as_array();
}

bool OidcProvider::signature_valid(const Jwt& token) {
  const std::string jwks_uri = discovery().jwks_uri;
  const std::string kid = token.key_id();
  const auto verify_with = [&token, &kid](const json::array& keys) {
    for (const auto& key : keys) {
      if (!key.is_object()) continue;
      if (!kid.empty() && text_of(key.as_object(), "kid") != kid) continue;
      if (verify_signature(token, key.as_object())) return true;
    }
    return false;
  };
  json::array keys;
  {
    std::lock_guard lock(mutex_);
    keys = keys_;
    bool known_kid = false;
    for (const auto& key : keys) known_kid = known_kid || (key.is_object() && text_of(key.as_object(), "kid") == kid);
    // Keys are fetched again when a token names one not seen yet — the token came from the
    // provider's own token endpoint, not from whoever is signing in, so this cannot be used to
    // make us fetch at will — and once an hour, so that a key the provider withdrew goes.
    const bool stale = std::chrono::steady_clock::now() - keys_fetched_at_ >= kKeysLifetime;
    if (known_kid && !stale) return verify_with(keys);
    keys_fetched_at_ = std::chrono::steady_clock::now();
  }
  // A key not seen yet: the provider rotated its keys. Fetched without the lock held.
  keys = fetch_keys(jwks_uri);
  {
    std::lock_guard lock(mutex_);
    keys_ = keys;
  }
  return verify_with(keys);
}

VerifiedIdentity OidcProvider::redeem(const std::string& code, const std::string& code_verifier,
                                      const std::string& redirect_uri, const std::string& nonce) {
  const auto endpoints = discovery();
  const std::string form = "grant_type=authorization_code&code=" + form_encode(code) +
                           "&redirect_uri=" + form_encode(redirect_uri) + "&code_verifier=" + form_encode(code_verifier);
  const auto answer = http_post_form(endpoints.token_endpoint, form, config_.client_id, config_.client_secret,
                                     {std::chrono::seconds(10), config_.ca_file});
  const auto document = json_document(answer, endpoints.token_endpoint);
  const auto token = parse_jwt(text_of(document, "id_token"));
  if (!token) throw std::runtime_error("the token endpoint returned no ID token");
  if (!signature_valid(*token)) throw std::runtime_error("the ID token's signature does not verify with the provider's keys");
  if (auto problem = check_id_token_claims(*token, {config_.issuer, config_.client_id, nonce, now_()})) {
    throw std::runtime_error(*problem);
  }
  return identity_from(token->claims, config_);
}

}  // namespace framehouse::sso
