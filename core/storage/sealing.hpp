// Objects sealed at rest with a per-person data key (libsodium secretstream XChaCha20-Poly1305).
//
// Layout: "FHS1" | secretstream header (24 bytes) | chunks of up to kChunk plaintext bytes, each
// followed by its 17-byte tag; the last chunk carries TAG_FINAL, so a truncated object is an error
// rather than a short read. Destroying the data key makes every copy unreadable, backups included
// (crypto-shredding).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "framehouse/sdk/storage.hpp"
#include "framehouse/sdk/stream.hpp"

namespace framehouse::storage {

using DataKey = std::array<unsigned char, crypto_secretstream_xchacha20poly1305_KEYBYTES>;

inline constexpr std::size_t kSealChunk = 64 * 1024;
inline constexpr std::array<char, 4> kSealMagic = {'F', 'H', 'S', '1'};

// The plaintext size of a sealed object of `sealed_size` bytes.
std::uint64_t plaintext_size(std::uint64_t sealed_size);

// Reads plaintext from `inner` and yields the sealed bytes.
class SealingSource final : public sdk::ByteSource {
 public:
  SealingSource(const DataKey& key, sdk::ByteSource& inner);
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override;

 private:
  sdk::Outcome read_chunk(std::vector<std::byte>& chunk);
  sdk::Outcome seal_next();

  sdk::ByteSource& inner_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  // A chunk is known to be the last only once the one after it reads empty: one chunk of
  // look-ahead.
  std::vector<std::byte> current_;
  std::vector<std::byte> next_;
  std::vector<std::byte> pending_;  // sealed bytes not handed out yet
  std::size_t pending_offset_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

// Takes sealed bytes and writes the plaintext bytes of `range` to `inner`. Fails on any
// forged, reordered or truncated chunk.
class UnsealingSink final : public sdk::ByteSink {
 public:
  UnsealingSink(const DataKey& key, sdk::ByteSink& inner, sdk::ByteRange range = {});
  ~UnsealingSink() override { sodium_memzero(key_.data(), key_.size()); }
  UnsealingSink(const UnsealingSink&) = delete;
  UnsealingSink& operator=(const UnsealingSink&) = delete;
  sdk::Outcome write(std::span<const std::byte> data) override;
  // Call after the last write: an object that ended before its final chunk is an error.
  sdk::Outcome finish();

 private:
  sdk::Outcome open_chunk(std::span<const std::byte> sealed);

  DataKey key_;
  sdk::ByteSink& inner_;
  sdk::ByteRange range_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::vector<std::byte> buffered_;
  std::vector<std::byte> plain_;
  std::uint64_t position_ = 0;  // plaintext offset of the next chunk
  bool header_read_ = false;
  bool finished_ = false;
};

// Whether `prefix` (the first bytes of an object) starts a sealed object.
bool is_sealed(std::span<const std::byte> prefix);

// A small secret sealed with the person's key (XChaCha20-Poly1305, a random nonce), bound to
// `context` (what it is and whose: "totp:usr_…"), as printable text for a database column.
// Opening fails (nullopt) under another key or context, or when the text was altered.
std::string seal_value(const DataKey& key, std::string_view plaintext, std::string_view context);
std::optional<std::string> open_value(const DataKey& key, std::string_view sealed, std::string_view context);

}  // namespace framehouse::storage
