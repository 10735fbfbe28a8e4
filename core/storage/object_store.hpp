// The core's way to the storage plugin: every object is sealed with its person's data key on
// the way in and opened on the way out, so whatever backend is configured only ever holds
// ciphertext, and erasing a person's key shreds all their copies.
#pragma once

#include <memory>

#include "framehouse/sdk/storage.hpp"
#include "plugins/host.hpp"
#include "storage/data_keys.hpp"

namespace framehouse::storage {

class ObjectStore {
 public:
  ObjectStore(plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> backend, DataKeys& keys)
      : host_(host), backend_(std::move(backend)), keys_(keys) {}

  // Seals `data` with the data key of `person` (by default the key's owner).
  sdk::Outcome put(const sdk::ObjectKey& key, std::unique_ptr<sdk::ByteSource> data, const std::string& person = {});
  // The plaintext size.
  sdk::Result<std::uint64_t> size(const sdk::ObjectKey& key);
  sdk::Outcome get(const sdk::ObjectKey& key, const sdk::ByteRange& range, std::shared_ptr<sdk::ByteSink> out,
                   const std::string& person = {});
  sdk::Outcome remove(const sdk::ObjectKey& key);

  DataKeys& keys() { return keys_; }

 private:
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> backend_;
  DataKeys& keys_;
};

}  // namespace framehouse::storage
