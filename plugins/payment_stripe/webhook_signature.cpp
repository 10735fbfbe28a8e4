#include "webhook_signature.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace framehouse::stripe {

std::string_view to_string(SignatureVerdict verdict) {
  switch (verdict) {
    case SignatureVerdict::valid: return "valid";
    case SignatureVerdict::malformed_header: return "the Stripe-Signature header has no timestamp or no v1 signature";
    case SignatureVerdict::no_matching_signature: return "no v1 signature matches the body";
    case SignatureVerdict::outside_tolerance: return "the signature is too old";
  }
  return "unknown";
}

namespace {

std::string hex_of(const unsigned char* bytes, unsigned int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 0xf];
  }
  return hex;
}

}  // namespace

std::string signature_of(std::string_view secret, std::int64_t timestamp, std::string_view payload) {
  const std::string signed_text = std::to_string(timestamp) + "." + std::string(payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(signed_text.data()),
       signed_text.size(), digest, &length);
  return hex_of(digest, length);
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return hex_of(digest, length);
}

SignatureVerdict verify_signature(std::string_view secret, std::string_view header, std::string_view payload,
                                  std::int64_t now_seconds, std::int64_t tolerance_seconds) {
  std::optional<std::int64_t> timestamp;
  std::vector<std::string_view> signatures;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
    if (key == "t") {
      std::int64_t parsed = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (error == std::errc{} && end != value.data()) timestamp = parsed;
    } else if (key == "v1") {
      signatures.push_back(value);
    }
  }
  if (!timestamp || signatures.empty()) return SignatureVerdict::malformed_header;
  const std::string expected = signature_of(secret, *timestamp, payload);
  bool matched = false;
  for (const auto candidate : signatures) {
    // Every candidate is compared whole, so that the time taken says nothing about which matched.
    matched |= candidate.size() == expected.size() && CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0;
  }
  if (!matched) return SignatureVerdict::no_matching_signature;
  if (now_seconds - *timestamp > tolerance_seconds) return SignatureVerdict::outside_tolerance;
  return SignatureVerdict::valid;
}

}  // namespace framehouse::stripe
