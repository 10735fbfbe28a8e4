// JSON Web Tokens signed by an identity provider (RFC 7515/7519): the ID token's signature
// checked against the provider's published keys (RFC 7517 JWK Set). RS256 (every OpenID
// provider's default), PS256 and ES256; "none" and HMAC algorithms are refused, so a token can
// never choose to be unsigned or signed with a public key as a shared secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace framehouse::sso {

struct Jwt {
  boost::json::object header;
  boost::json::object claims;
  std::string signing_input;  // "<header>.<payload>", as received
  std::string signature;      // raw bytes
  std::string algorithm() const;
  std::string key_id() const;
};

// The three parts decoded; nullopt for anything that is not a compact JWS with JSON objects.
std::optional<Jwt> parse_jwt(std::string_view compact);

// Whether `jwk` (one key of a JWK Set) verifies the token's signature with the token's
// algorithm, which the key must allow (its "alg", when present, must match).
bool verify_signature(const Jwt& token, const boost::json::object& jwk);

// RFC 4648 §5 base64url without padding.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

}  // namespace framehouse::sso
