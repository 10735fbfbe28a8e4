// The storage contract (sdk/storage.hpp).
#include <string>

#include "conformance.hpp"
#include "framehouse/sdk/storage.hpp"

namespace framehouse::testkit::detail {
namespace {

std::string text_of(sdk::StorageBackend& storage, const sdk::ObjectKey& key, sdk::ByteRange range = {}) {
  sdk::BufferSink sink;
  const sdk::Outcome read = storage.get(key, range, sink);
  if (!read) return "<" + std::string(sdk::to_string(read.status())) + ">";
  return std::string(reinterpret_cast<const char*>(sink.bytes.data()), sink.bytes.size());
}

sdk::Outcome put_text(sdk::StorageBackend& storage, const sdk::ObjectKey& key, const std::string& text) {
  sdk::BufferSource source(text);
  return storage.put(key, source);
}

// Gives some bytes, then fails: a put that must leave no trace.
class FailingSource final : public sdk::ByteSource {
 public:
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    if (given_) return sdk::Outcome::failure(sdk::Status::unavailable, "the upload broke off");
    given_ = true;
    const std::size_t n = std::min<std::size_t>(buffer.size(), 5);
    for (std::size_t i = 0; i < n; ++i) buffer[i] = std::byte{'x'};
    return n;
  }

 private:
  bool given_ = false;
};

class Collect final : public sdk::ObjectVisitor {
 public:
  bool visit(const sdk::ObjectInfo& object) override {
    ids.push_back(object.key.id);
    return true;
  }
  std::vector<std::string> ids;
};

}  // namespace

// Each check keeps to owners of its own: a backend in front of a shared service (a bucket) keeps
// what earlier checks stored.
void register_storage_checks(const ConformanceTarget& target) {
  add_check("storage_conformance", "WhatIsPutIsReadBackWithItsSize", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(storage, sdk::StorageBackend, target);
    const sdk::ObjectKey key{"usr_conformance", "object-1.bin"};
    ASSERT_TRUE(put_text(*storage, key, "hello, storage"));
    EXPECT_EQ(text_of(*storage, key), "hello, storage");
    const auto info = storage->stat(key);
    ASSERT_TRUE(info) << info.outcome().message();
    EXPECT_EQ(info->size, 14u);
    EXPECT_EQ(storage->stat({"usr_conformance", "missing"}).outcome().status(), sdk::Status::not_found);
    EXPECT_EQ(text_of(*storage, {"usr_conformance", "missing"}), "<not_found>");
  });
  add_check("storage_conformance", "APutReplacesTheWholeObjectAndAFailedPutLeavesTheOldOne", target,
            [](const ConformanceTarget& target) {
              FRAMEHOUSE_START_INTERFACE(storage, sdk::StorageBackend, target);
              const sdk::ObjectKey key{"usr_conformance_replace", "replaced"};
              ASSERT_TRUE(put_text(*storage, key, "a long first version"));
              ASSERT_TRUE(put_text(*storage, key, "short"));
              EXPECT_EQ(text_of(*storage, key), "short");
              FailingSource broken;
              EXPECT_FALSE(storage->put(key, broken));
              EXPECT_EQ(text_of(*storage, key), "short");
              FailingSource never_stored;
              EXPECT_FALSE(storage->put({"usr_conformance_replace", "never"}, never_stored));
              EXPECT_EQ(storage->stat({"usr_conformance_replace", "never"}).outcome().status(), sdk::Status::not_found);
              Collect listed;
              ASSERT_TRUE(storage->list("usr_conformance_replace", listed));
              EXPECT_EQ(listed.ids, std::vector<std::string>{"replaced"});  // no partial object left behind
            });
  add_check("storage_conformance", "RangesReadTheirBytesAndARangePastTheEndIsRefused", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(storage, sdk::StorageBackend, target);
    const sdk::ObjectKey key{"usr_conformance", "ranged"};
    ASSERT_TRUE(put_text(*storage, key, "0123456789"));
    EXPECT_EQ(text_of(*storage, key, {2, 3}), "234");
    EXPECT_EQ(text_of(*storage, key, {7, std::nullopt}), "789");
    EXPECT_EQ(text_of(*storage, key, {9, 1}), "9");
    EXPECT_EQ(text_of(*storage, key, {11, std::nullopt}), "<invalid_argument>");
  });
  add_check("storage_conformance", "NamesThatCouldEscapeAreRefused", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(storage, sdk::StorageBackend, target);
    for (const sdk::ObjectKey& key : {sdk::ObjectKey{"..", "x"}, sdk::ObjectKey{"usr_conformance", "../x"},
                                      sdk::ObjectKey{"usr_conformance", "a/b"}, sdk::ObjectKey{"usr_conformance", ".hidden"},
                                      sdk::ObjectKey{"", "x"}, sdk::ObjectKey{"usr_conformance", std::string(129, 'a')},
                                      sdk::ObjectKey{"usr/../..", "x"}}) {
      EXPECT_EQ(put_text(*storage, key, "nope").status(), sdk::Status::invalid_argument) << key.owner << " / " << key.id;
      EXPECT_FALSE(storage->stat(key)) << key.owner << " / " << key.id;
    }
  });
  add_check("storage_conformance", "RemovingIsIdempotentAndAnOwnerGoesWhole", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(storage, sdk::StorageBackend, target);
    EXPECT_TRUE(storage->remove({"usr_conformance", "never-there"}));
    ASSERT_TRUE(put_text(*storage, {"usr_conformance_a", "one"}, "1"));
    ASSERT_TRUE(put_text(*storage, {"usr_conformance_a", "two"}, "2"));
    ASSERT_TRUE(put_text(*storage, {"usr_conformance_b", "one"}, "b"));
    ASSERT_TRUE(storage->remove({"usr_conformance_a", "one"}));
    EXPECT_TRUE(storage->remove({"usr_conformance_a", "one"}));
    EXPECT_EQ(storage->stat({"usr_conformance_a", "one"}).outcome().status(), sdk::Status::not_found);
    Collect listed;
    ASSERT_TRUE(storage->list("usr_conformance_a", listed));
    EXPECT_EQ(listed.ids, std::vector<std::string>{"two"});
    const auto removed = storage->remove_owner("usr_conformance_a");
    ASSERT_TRUE(removed) << removed.outcome().message();
    EXPECT_EQ(removed.value(), 1u);
    EXPECT_EQ(storage->remove_owner("usr_conformance_a").value(), 0u);
    EXPECT_EQ(text_of(*storage, {"usr_conformance_b", "one"}), "b");  // another owner's objects stay
  });
}

}  // namespace framehouse::testkit::detail
