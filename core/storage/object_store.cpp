#include "storage/object_store.hpp"

namespace framehouse::storage {
namespace {

sdk::Outcome no_backend() { return sdk::Outcome::failure(sdk::Status::unavailable, "no storage plugin is loaded"); }

}  // namespace

sdk::Outcome ObjectStore::put(const sdk::ObjectKey& key, std::unique_ptr<sdk::ByteSource> data, const std::string& person) {
  if (!backend_) return no_backend();
  const DataKey data_key = keys_.key_for(person.empty() ? key.owner : person);
  // Shared: with a call timeout the plugin's thread may outlive this call.
  std::shared_ptr<sdk::ByteSource> plain(std::move(data));
  auto sealed = std::make_shared<SealingSource>(data_key, *plain);
  return host_.call<sdk::StorageBackend>(backend_, "put", [key, plain, sealed](sdk::StorageBackend& backend) {
    return backend.put(key, *sealed);
  });
}

sdk::Result<std::uint64_t> ObjectStore::size(const sdk::ObjectKey& key) {
  if (!backend_) return no_backend();
  auto info = host_.call<sdk::StorageBackend>(backend_, "stat", [key](sdk::StorageBackend& backend) { return backend.stat(key); });
  if (!info) return info.outcome();
  return plaintext_size(info->size);
}

sdk::Outcome ObjectStore::get(const sdk::ObjectKey& key, const sdk::ByteRange& range, std::shared_ptr<sdk::ByteSink> out,
                              const std::string& person) {
  if (!backend_) return no_backend();
  const auto data_key = keys_.existing(person.empty() ? key.owner : person);
  if (!data_key) return sdk::Outcome::failure(sdk::Status::not_found, "the object's data key no longer exists");
  auto unsealing = std::make_shared<UnsealingSink>(*data_key, *out, range);
  const sdk::Outcome read = host_.call<sdk::StorageBackend>(backend_, "get", [key, out, unsealing](sdk::StorageBackend& backend) {
    return backend.get(key, {}, *unsealing);
  });
  if (!read) return read;
  return unsealing->finish();
}

sdk::Outcome ObjectStore::remove(const sdk::ObjectKey& key) {
  if (!backend_) return no_backend();
  return host_.call<sdk::StorageBackend>(backend_, "remove", [key](sdk::StorageBackend& backend) { return backend.remove(key); });
}

}  // namespace framehouse::storage
