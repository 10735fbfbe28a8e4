// Cryptographic building blocks (libsodium): random identifiers and bearer tokens, hashes for
// storing tokens, keyed hashes for pseudonymous keys, argon2id password hashing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace framehouse::crypto {

// Lowercase hex of the bytes.
std::string to_hex(const unsigned char* data, std::size_t size);
// `prefix` + hex of `bytes` random bytes, e.g. random_id("usr_", 16).
std::string random_id(std::string_view prefix, std::size_t bytes);
// `prefix` + 12 hex digits of the current Unix time in milliseconds + 80 random bits: ids that
// sort in creation order, so lists stay stable for records made within the same second.
std::string time_ordered_id(std::string_view prefix);
// A bearer secret: `prefix` + 256 random bits, URL-safe.
std::string random_token(std::string_view prefix);
// SHA-256 of the text, lowercase hex: how tokens are stored and looked up.
std::string token_hash(std::string_view token);
// Keyed BLAKE2b of the text, lowercase hex: pseudonymous keys (client addresses) that cannot
// be reversed without the key.
std::string keyed_hash(std::string_view key, std::string_view text);

struct PasswordCost {
  std::uint64_t ops_limit = 2;             // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t mem_limit = 64u << 20;       // bytes; crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// argon2id in the PHC string format ($argon2id$v=19$m=...,t=...,p=1$salt$hash).
std::string hash_password(std::string_view password, const PasswordCost& cost);
bool verify_password(std::string_view stored_hash, std::string_view password);

}  // namespace framehouse::crypto
