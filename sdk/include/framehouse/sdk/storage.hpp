// Framehouse SDK — storage backend interface ("storage", version in version.hpp).
//
// Objects are opaque byte strings identified by (owner, id). The owner is the internal id of
// the person the object belongs to, so that export and erasure can find every object of a
// person without a scan of anything else. Both parts match [A-Za-z0-9_-][A-Za-z0-9._-]{0,127};
// see is_valid_object_name(). A backend never interprets them as paths.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "framehouse/sdk/outcome.hpp"
#include "framehouse/sdk/stream.hpp"

namespace framehouse::sdk {

struct ObjectKey {
  std::string owner;
  std::string id;
};

struct ObjectInfo {
  ObjectKey key;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

// A byte range of an object: `length` absent means "to the end".
struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
};

class ObjectVisitor {
 public:
  // Return false to stop the listing early.
  virtual bool visit(const ObjectInfo& object) = 0;

 protected:
  ~ObjectVisitor() = default;
};

class StorageBackend {
 public:
  static constexpr std::string_view kInterfaceName = "storage";

  // Stores the whole stream under key, replacing any previous object atomically: a reader
  // sees the old object or the new one, never a part. A failed put leaves no trace.
  virtual Outcome put(const ObjectKey& key, ByteSource& data) = 0;
  // Status::not_found when the object does not exist.
  virtual Result<ObjectInfo> stat(const ObjectKey& key) = 0;
  // Streams the range into out. A range past the end is Status::invalid_argument.
  virtual Outcome get(const ObjectKey& key, const ByteRange& range, ByteSink& out) = 0;
  // Idempotent: removing a missing object succeeds.
  virtual Outcome remove(const ObjectKey& key) = 0;
  virtual Outcome list(std::string_view owner, ObjectVisitor& visitor) = 0;
  // Removes every object of the owner (erasure); returns how many were removed.
  virtual Result<std::uint64_t> remove_owner(std::string_view owner) = 0;

 protected:
  ~StorageBackend() = default;
};

inline bool is_valid_object_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A backend's first check of a key: Status::invalid_argument unless both parts are valid names.
inline Outcome check_object_key(const ObjectKey& key) {
  if (!is_valid_object_name(key.owner) || !is_valid_object_name(key.id)) {
    return Outcome::failure(Status::invalid_argument, "object owner and id must match [A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
  }
  return {};
}

}  // namespace framehouse::sdk
