#include "storage/data_keys.hpp"

#include <stdexcept>

#include <soci/soci.h>

#include "clock/clock.hpp"
#include "crypto/crypto.hpp"

namespace framehouse::storage {
namespace {

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kAuth = crypto_aead_xchacha20poly1305_ietf_ABYTES;


std::optional<std::vector<unsigned char>> from_hex(const std::string& hex) {
  std::vector<unsigned char> out(hex.size() / 2);
  std::size_t length = 0;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &length, nullptr) != 0 ||
      length * 2 != hex.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<MasterKey> parse_master_key(const std::string& text) {
  MasterKey key{};
  std::size_t length = 0;
  if (text.size() == key.size() * 2 &&
      sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &length, nullptr) == 0 &&
      length == key.size()) {
    return key;
  }
  std::vector<unsigned char> decoded(text.size());
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE}) {
    if (sodium_base642bin(decoded.data(), decoded.size(), text.data(), text.size(), nullptr, &length, nullptr, variant) == 0 &&
        length == key.size()) {
      std::copy_n(decoded.begin(), key.size(), key.begin());
      return key;
    }
  }
  return std::nullopt;
}

std::string DataKeys::key_id(const MasterKey& key) {
  unsigned char digest[8];
  static constexpr unsigned char kContext[] = "framehouse master key id";
  crypto_generichash(digest, sizeof digest, kContext, sizeof kContext - 1, key.data(), key.size());
  return crypto::to_hex(digest, sizeof digest);
}

DataKeys::DataKeys(db::Database& database, const MasterKey& current, std::vector<MasterKey> retired)
    : database_(database), current_(current), current_id_(key_id(current)), retired_(std::move(retired)) {}

DataKeys::~DataKeys() {
  sodium_memzero(current_.data(), current_.size());
  for (auto& key : retired_) sodium_memzero(key.data(), key.size());
}

// The person's id is the associated data: a wrapped key moved to another row does not open.
std::string DataKeys::wrap(const std::string& person, const DataKey& key) const {
  std::vector<unsigned char> out(kNonce + key.size() + kAuth);
  randombytes_buf(out.data(), kNonce);
  unsigned long long sealed = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonce, &sealed, key.data(), key.size(),
                                             reinterpret_cast<const unsigned char*>(person.data()), person.size(), nullptr,
                                             out.data(), current_.data());
  return crypto::to_hex(out.data(), out.size());
}

std::optional<DataKey> DataKeys::unwrap(const std::string& person, const std::string& wrapped, const std::string& master_id) {
  const MasterKey* master = master_id == current_id_ ? &current_ : nullptr;
  for (const auto& retired : retired_) {
    if (master == nullptr && key_id(retired) == master_id) master = &retired;
  }
  if (master == nullptr) {
    throw std::runtime_error("a data key is wrapped by master key " + master_id +
                             ", which is neither privacy.master_key nor in privacy.retired_master_keys");
  }
  const auto bytes = from_hex(wrapped);
  DataKey key{};
  unsigned long long opened = 0;
  if (!bytes || bytes->size() != kNonce + key.size() + kAuth ||
      crypto_aead_xchacha20poly1305_ietf_decrypt(key.data(), &opened, nullptr, bytes->data() + kNonce, bytes->size() - kNonce,
                                                 reinterpret_cast<const unsigned char*>(person.data()), person.size(),
                                                 bytes->data(), master->data()) != 0) {
    throw std::runtime_error("a data key failed to unwrap: the master key does not match or the row was altered");
  }
  return key;
}

std::optional<DataKey> DataKeys::existing(const std::string& person) {
  soci::session sql(database_.pool());
  std::string wrapped, master_id;
  sql << "SELECT wrapped_key, master_key_id FROM data_keys WHERE person_id = :p", soci::use(person), soci::into(wrapped),
      soci::into(master_id);
  if (!sql.got_data()) return std::nullopt;
  return unwrap(person, wrapped, master_id);
}

DataKey DataKeys::key_for(const std::string& person) {
  if (auto key = existing(person)) return *key;
  DataKey key{};
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  const std::string wrapped = wrap(person, key);
  const long long now = unix_now();
  {
    soci::session sql(database_.pool());
    // Two first uploads at once: the first row stored wins and both use it.
    sql << "INSERT INTO data_keys (person_id, wrapped_key, master_key_id, created_at) VALUES (:p, :w, :m, :t)"
           " ON CONFLICT (person_id) DO NOTHING",
        soci::use(person), soci::use(wrapped), soci::use(current_id_), soci::use(now);
  }
  return *existing(person);
}

bool DataKeys::destroy(const std::string& person) {
  soci::session sql(database_.pool());
  soci::statement statement = (sql.prepare << "DELETE FROM data_keys WHERE person_id = :p", soci::use(person));
  statement.execute(true);
  return statement.get_affected_rows() > 0;
}

std::size_t DataKeys::rewrap_retired() {
  soci::session sql(database_.pool());
  std::vector<std::pair<std::string, std::string>> stale;
  {
    std::string person, master_id;
    soci::statement statement = (sql.prepare << "SELECT person_id, master_key_id FROM data_keys WHERE master_key_id <> :m",
                                 soci::use(current_id_), soci::into(person), soci::into(master_id));
    statement.execute();
    while (statement.fetch()) stale.emplace_back(person, master_id);
  }
  for (const auto& [person, master_id] : stale) {
    std::string wrapped;
    sql << "SELECT wrapped_key FROM data_keys WHERE person_id = :p", soci::use(person), soci::into(wrapped);
    const auto key = unwrap(person, wrapped, master_id);
    const std::string rewrapped = wrap(person, *key);
    sql << "UPDATE data_keys SET wrapped_key = :w, master_key_id = :m WHERE person_id = :p AND master_key_id = :old",
        soci::use(rewrapped), soci::use(current_id_), soci::use(person), soci::use(master_id);
  }
  return stale.size();
}

}  // namespace framehouse::storage
