// Per-person data keys, wrapped by the deployment's master key, one row each in `data_keys`.
//
// The master key never touches the database, so a database backup alone opens nothing; and
// destroying a person's row makes every sealed copy of their objects unreadable, wherever
// it went. Rotation: keys wrapped by a retired master key are re-wrapped with the current one
// at start (see docs/operations.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "storage/sealing.hpp"

namespace framehouse::storage {

using MasterKey = std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_KEYBYTES>;

// A master key from its configured text: 64 hex digits or base64 of 32 bytes.
std::optional<MasterKey> parse_master_key(const std::string& text);

class DataKeys {
 public:
  DataKeys(db::Database& database, const MasterKey& current, std::vector<MasterKey> retired = {});
  ~DataKeys();
  DataKeys(const DataKeys&) = delete;
  DataKeys& operator=(const DataKeys&) = delete;

  // The person's key, created on first use.
  DataKey key_for(const std::string& person);
  // The person's key if one exists (reading never creates one).
  std::optional<DataKey> existing(const std::string& person);
  // Destroys the key; returns whether there was one. Irreversible by design.
  bool destroy(const std::string& person);
  // Re-wraps every key wrapped by a retired master key; returns how many.
  std::size_t rewrap_retired();

  // A short, non-secret name for a master key (stored beside each wrapped key).
  static std::string key_id(const MasterKey& key);

 private:
  std::optional<DataKey> unwrap(const std::string& person, const std::string& wrapped, const std::string& master_id);
  std::string wrap(const std::string& person, const DataKey& key) const;

  db::Database& database_;
  MasterKey current_;
  std::string current_id_;
  std::vector<MasterKey> retired_;
};

}  // namespace framehouse::storage
