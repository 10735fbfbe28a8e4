// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits, 30-second
// steps — what every authenticator app computes from an `otpauth://totp/` URI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace framehouse::crypto {

inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226 §4's recommendation

// RFC 4648 base32 (A–Z, 2–7), without padding: how authenticator apps take secrets.
std::string base32_encode(std::string_view bytes);
// Ignores case, spaces and padding; nullopt for any other character.
std::optional<std::string> base32_decode(std::string_view text);

// The step a Unix time falls in.
inline std::int64_t totp_step(std::int64_t unix_seconds) { return unix_seconds / kTotpStepSeconds; }
// The code of `step` for the raw secret, kTotpDigits digits with leading zeros.
std::string totp_code(std::string_view secret, std::int64_t step);
// The step within `window` steps of `now_step` whose code is `code`, if any (the latest
// matching one; compared in constant time).
std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code, std::int64_t now_step, int window);

// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 (the Key
// URI Format authenticator apps read from a QR code).
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace framehouse::crypto
