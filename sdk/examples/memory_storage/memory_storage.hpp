// Example Framehouse plugin: a storage backend that keeps objects in memory. It shows the
// whole contract: lifecycle, config from the manifest's schema, two interfaces (storage and,
// because it holds users' content, the privacy participant), outcomes instead of exceptions.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <framehouse/sdk/storage.hpp>

namespace memory_storage_example {

using namespace framehouse::sdk;

class MemoryStorage : public Plugin, public StorageBackend, public PrivacyParticipant {
 public:
  Outcome start(HostServices& host) override {
    max_objects_ = static_cast<std::size_t>(host.config().integer("max_objects").value_or(1000));
    host.logger().info("memory storage ready");
    return {};
  }

  void* find_interface(std::string_view name) override {
    return provide_interfaces<StorageBackend, PrivacyParticipant>(this, name);
  }

  Outcome put(const ObjectKey& key, ByteSource& data) override {
    if (!is_valid_object_name(key.owner) || !is_valid_object_name(key.id)) {
      return Outcome::failure(Status::invalid_argument, "invalid object key");
    }
    std::string bytes;
    auto read = drain(data, [&](std::span<const std::byte> chunk) {
      bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return Outcome{};
    });
    if (!read) return read;
    std::lock_guard lock(mutex_);
    if (objects_.size() >= max_objects_ && !objects_.count({key.owner, key.id})) {
      return Outcome::failure(Status::unavailable, "max_objects reached");
    }
    objects_[{key.owner, key.id}] = std::move(bytes);
    return {};
  }

  Result<ObjectInfo> stat(const ObjectKey& key) override {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find({key.owner, key.id});
    if (it == objects_.end()) return Outcome::failure(Status::not_found, "no such object");
    return ObjectInfo{key, it->second.size(), {}};
  }

  Outcome get(const ObjectKey& key, const ByteRange& range, ByteSink& out) override {
    std::string part;
    {
      std::lock_guard lock(mutex_);
      const auto it = objects_.find({key.owner, key.id});
      if (it == objects_.end()) return Outcome::failure(Status::not_found, "no such object");
      const auto size = it->second.size();
      if (range.offset > size || (range.length && range.offset + *range.length > size)) {
        return Outcome::failure(Status::invalid_argument, "range outside the object");
      }
      part = it->second.substr(range.offset, range.length.value_or(size - range.offset));
    }
    return out.write(std::as_bytes(std::span(part.data(), part.size())));
  }

  Outcome remove(const ObjectKey& key) override {
    std::lock_guard lock(mutex_);
    objects_.erase({key.owner, key.id});
    return {};
  }

  Outcome list(std::string_view owner, ObjectVisitor& visitor) override {
    std::lock_guard lock(mutex_);
    for (auto it = objects_.lower_bound({std::string(owner), ""}); it != objects_.end() && it->first.first == owner; ++it) {
      if (!visitor.visit(ObjectInfo{{it->first.first, it->first.second}, it->second.size(), {}})) break;
    }
    return {};
  }

  Result<std::uint64_t> remove_owner(std::string_view owner) override {
    std::lock_guard lock(mutex_);
    std::uint64_t removed = 0;
    auto it = objects_.lower_bound({std::string(owner), ""});
    while (it != objects_.end() && it->first.first == owner) {
      it = objects_.erase(it);
      ++removed;
    }
    return removed;
  }

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    std::lock_guard lock(mutex_);
    for (auto it = objects_.lower_bound({subject.user_id, ""});
         it != objects_.end() && it->first.first == subject.user_id; ++it) {
      const std::string record = "{\"object_id\":\"" + it->first.second + "\",\"size\":" +
                                 std::to_string(it->second.size()) + "}";
      if (auto written = sink.record("objects", record); !written) return written;
    }
    return {};
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    auto removed = remove_owner(subject.user_id);
    if (!removed) return removed.outcome();
    return ErasureReport{0, removed.value(), std::to_string(removed.value()) + " objects deleted"};
  }

  Outcome rectify(const Subject&, const Rectification&) override { return {}; }
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  std::size_t max_objects_ = 1000;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::string> objects_;
};

}  // namespace memory_storage_example
