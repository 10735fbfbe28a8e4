// Stripe's webhook signatures, checked as Stripe's own libraries check them: the
// Stripe-Signature header holds `t=<unix seconds>` and one or more `v1=<hex>` (more than one
// while a secret is rotated; any may match); the signed text is "<t>.<raw body>", its
// HMAC-SHA256 keyed with the whole `whsec_…` string; `v0` and other schemes are ignored; a
// timestamp more than the tolerance in the past is refused (a replay). Comparison is in
// constant time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace framehouse::stripe {

enum class SignatureVerdict {
  valid,
  malformed_header,       // no timestamp, or no v1 signature
  no_matching_signature,  // none of the v1 signatures is the body's
  outside_tolerance,      // signed too long ago
};

std::string_view to_string(SignatureVerdict verdict);

inline constexpr std::int64_t kDefaultTolerance = 300;

SignatureVerdict verify_signature(std::string_view secret, std::string_view header, std::string_view payload,
                                  std::int64_t now_seconds, std::int64_t tolerance_seconds = kDefaultTolerance);

// The lower-case hex HMAC-SHA256 of "<timestamp>.<payload>" keyed with `secret`.
std::string signature_of(std::string_view secret, std::int64_t timestamp, std::string_view payload);

// The lower-case hex SHA-256 of `text` (an idempotency key made from a value, without it).
std::string sha256_hex(std::string_view text);

}  // namespace framehouse::stripe
