// ID token checks with keys made here by OpenSSL: the signature against a JWK, and the claims
// OpenID Connect Core §3.1.3.7 requires.
#include <memory>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "sso/jwt.hpp"
#include "sso/oidc.hpp"

namespace framehouse::sso {
namespace {

namespace json = boost::json;
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string bignum_param(const EVP_PKEY* key, const char* name) {
  BIGNUM* value = nullptr;
  EVP_PKEY_get_bn_param(key, name, &value);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(value)), '\0');
  BN_bn2bin(value, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(value);
  return bytes;
}

struct RsaKey {
  PKey key{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), &EVP_PKEY_free};
  json::object jwk(const std::string& kid) const {
    return {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"},
            {"n", base64url_encode(bignum_param(key.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64url_encode(bignum_param(key.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }
  std::string sign(const json::object& header, const json::object& claims) const {
    const std::string input = base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(claims));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get());
    std::size_t size = 0;
    EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string signature(size, '\0');
    EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    signature.resize(size);
    return input + "." + base64url_encode(signature);
  }
};

constexpr std::int64_t kNow = 1'796'000'000;

json::object good_claims() {
  return {{"iss", "https://id.example"}, {"aud", "framehouse"}, {"sub", "ann"}, {"nonce", "n-1"},
          {"iat", kNow - 5},            {"exp", kNow + 300},    {"email", "ann@corp.example"}, {"email_verified", true}};
}

const TokenRules kRules{"https://id.example", "framehouse", "n-1", kNow};

TEST(Jwt, VerifiesWithTheRightKeyOnly) {
  const RsaKey key, other;
  const auto token = parse_jwt(key.sign({{"alg", "RS256"}, {"kid", "k1"}}, good_claims()));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->key_id(), "k1");
  EXPECT_TRUE(verify_signature(*token, key.jwk("k1")));
  EXPECT_FALSE(verify_signature(*token, other.jwk("k1")));
  // Altered claims keep the signature of the old ones.
  auto altered = *token;
  altered.signing_input[altered.signing_input.size() - 3] ^= 1;
  EXPECT_FALSE(verify_signature(altered, key.jwk("k1")));
}

TEST(Jwt, RefusesUnsignedAndSymmetricTokens) {
  const RsaKey key;
  const std::string body = base64url_encode(json::serialize(good_claims()));
  const auto unsigned_token = parse_jwt(base64url_encode(R"({"alg":"none"})") + "." + body + ".");
  ASSERT_TRUE(unsigned_token);
  EXPECT_FALSE(verify_signature(*unsigned_token, key.jwk("k1")));
  // HS256 "signed" with the public key as the secret: the classic confusion.
  auto hmac = parse_jwt(key.sign({{"alg", "HS256"}}, good_claims()));
  ASSERT_TRUE(hmac);
  EXPECT_FALSE(verify_signature(*hmac, key.jwk("k1")));
  // A key published for another algorithm is not used for this one.
  auto jwk = key.jwk("k1");
  jwk["alg"] = "PS256";
  EXPECT_FALSE(verify_signature(*parse_jwt(key.sign({{"alg", "RS256"}}, good_claims())), jwk));
  EXPECT_FALSE(parse_jwt("not.a.jwt.at-all"));
  EXPECT_FALSE(parse_jwt("only-one-part"));
}

TEST(IdTokenClaims, AcceptsAGoodTokenAndNamesWhatIsWrongWithABadOne) {
  const RsaKey key;
  const auto check = [&](json::object claims) {
    return check_id_token_claims(*parse_jwt(key.sign({{"alg", "RS256"}}, claims)), kRules);
  };
  EXPECT_EQ(check(good_claims()), std::nullopt);
  auto claims = good_claims();
  claims["iss"] = "https://evil.example";
  EXPECT_NE(check(claims), std::nullopt);
  claims = good_claims();
  claims["aud"] = "another-client";
  EXPECT_NE(check(claims), std::nullopt);
  claims = good_claims();
  claims["aud"] = json::array{"framehouse", "another-client"};
  EXPECT_NE(check(claims), std::nullopt);  // several audiences need azp
  claims["azp"] = "framehouse";
  EXPECT_EQ(check(claims), std::nullopt);
  claims = good_claims();
  claims["azp"] = "another-client";
  EXPECT_NE(check(claims), std::nullopt);  // azp, when there, is this client
  claims = good_claims();
  claims["nbf"] = kNow + 3600;
  EXPECT_NE(check(claims), std::nullopt);
  claims = good_claims();
  claims["exp"] = kNow - 61;
  EXPECT_NE(check(claims), std::nullopt);
  claims = good_claims();
  claims["iat"] = kNow + 3600;
  EXPECT_NE(check(claims), std::nullopt);
  claims = good_claims();
  claims["nonce"] = "n-2";
  EXPECT_NE(check(claims), std::nullopt);  // a token from another sign-in
  claims = good_claims();
  claims.erase("sub");
  EXPECT_NE(check(claims), std::nullopt);
}

TEST(IdTokenClaims, MapToAnIdentityWithTheProvidersClaimNames) {
  ProviderConfig config;
  config.email_claim = "mail";
  config.name_claim = "display";
  config.adult_claim = "employee";
  const auto identity = identity_from(json::object{{"sub", "u1"}, {"mail", "u1@corp.example"}, {"email_verified", true},
                                                   {"display", "U One"}, {"employee", true}, {"amr", json::array{"pwd", "otp"}}},
                                      config);
  EXPECT_EQ(identity.subject, "u1");
  EXPECT_EQ(identity.email, "u1@corp.example");
  EXPECT_TRUE(identity.email_verified);
  EXPECT_EQ(identity.name, "U One");
  EXPECT_TRUE(identity.adult_by_claim);
  EXPECT_TRUE(identity.multi_factor);
  EXPECT_FALSE(identity_from(json::object{{"sub", "u2"}, {"employee", false}}, config).adult_by_claim);
}

}  // namespace
}  // namespace framehouse::sso
