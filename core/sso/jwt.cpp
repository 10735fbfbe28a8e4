#include "sso/jwt.hpp"

#include <memory>

#include <boost/json/parse.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sodium.h>

namespace framehouse::sso {
namespace {

namespace json = boost::json;

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string text_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<json::object> object_from(std::string_view base64url) {
  const auto bytes = base64url_decode(base64url);
  if (!bytes) return std::nullopt;
  boost::system::error_code error;
  auto value = json::parse(*bytes, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// A public key from JWK parameters, through OpenSSL 3's key-from-data interface.
PKey key_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  PKey none(nullptr, &EVP_PKEY_free);
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(builder), &OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr),
                                                                      &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return none;
  }
  return PKey(key, &EVP_PKEY_free);
}

PKey rsa_key(const json::object& jwk) {
  PKey none(nullptr, &EVP_PKEY_free);
  const auto n = base64url_decode(text_of(jwk, "n"));
  const auto e = base64url_decode(text_of(jwk, "e"));
  if (!n || !e || n->size() < 256) return none;  // under 2048 bits is not accepted
  std::unique_ptr<BIGNUM, decltype(&BN_free)> modulus(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr), &BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> exponent(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr), &BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
  if (!modulus || !exponent || !builder || !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get())) {
    return none;
  }
  return key_from_params("RSA", builder.get());
}

PKey p256_key(const json::object& jwk) {
  PKey none(nullptr, &EVP_PKEY_free);
  const auto x = base64url_decode(text_of(jwk, "x"));
  const auto y = base64url_decode(text_of(jwk, "y"));
  if (text_of(jwk, "crv") != "P-256" || !x || !y || x->size() != 32 || y->size() != 32) return none;
  const std::string point = "\x04" + *x + *y;  // uncompressed SEC 1 point
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
  if (!builder || !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    return none;
  }
  return key_from_params("EC", builder.get());
}

// JWS carries ES256 signatures as r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> ecdsa_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!signature || r == nullptr || s == nullptr || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(signature.get(), &der);
  if (size <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string Jwt::algorithm() const { return text_of(header, "alg"); }
std::string Jwt::key_id() const { return text_of(header, "kid"); }

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr, &size,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();  // the terminating NUL
  return out;
}

std::optional<Jwt> parse_jwt(std::string_view compact) {
  const auto first = compact.find('.');
  const auto second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  auto header = object_from(compact.substr(0, first));
  auto claims = object_from(compact.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(compact.substr(second + 1));
  if (!header || !claims || !signature) return std::nullopt;
  return Jwt{std::move(*header), std::move(*claims), std::string(compact.substr(0, second)), std::move(*signature)};
}

bool verify_signature(const Jwt& token, const boost::json::object& jwk) {
  const std::string algorithm = token.algorithm();
  if (const std::string allowed = text_of(jwk, "alg"); !allowed.empty() && allowed != algorithm) return false;
  if (const std::string use = text_of(jwk, "use"); !use.empty() && use != "sig") return false;
  const std::string type = text_of(jwk, "kty");
  PKey key(nullptr, &EVP_PKEY_free);
  std::string signature = token.signature;
  if ((algorithm == "RS256" || algorithm == "PS256") && type == "RSA") {
    key = rsa_key(jwk);
  } else if (algorithm == "ES256" && type == "EC") {
    key = p256_key(jwk);
    auto der = ecdsa_der(signature);
    if (!der) return false;
    signature = std::move(*der);
  } else {
    return false;  // none, HS*, or a key of another type
  }
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* key_context = nullptr;
  if (!context || EVP_DigestVerifyInit(context.get(), &key_context, EVP_sha256(), nullptr, key.get()) != 1) return false;
  if (algorithm == "PS256" && (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
                               EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return false;
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(token.signing_input.data()), token.signing_input.size()) == 1;
}

}  // namespace framehouse::sso
