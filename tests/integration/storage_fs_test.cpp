// storage_fs, the shipped plugin, loaded through the host as the server loads it.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "framehouse/sdk/storage.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

using sdk::ObjectKey;
using sdk::PrivacyParticipant;
using sdk::StorageBackend;
using sdk::BufferSink;
using sdk::BufferSource;

class StorageFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto error = testing::load_plugin(host, testing::shipped_plugin("storage_fs"),
                                            "root = \"" + root().string() + "\"");
    ASSERT_FALSE(error) << *error;
    ASSERT_FALSE(host.start_all());
    plugin = host.find("storage_fs");
    storage = plugin->find<StorageBackend>();
    privacy = plugin->find<PrivacyParticipant>();
  }
  std::filesystem::path root() const { return dir.path() / "objects"; }
  sdk::Outcome put(const ObjectKey& key, const std::string& data) {
    BufferSource source(data);
    return storage->put(key, source);
  }
  std::string get(const ObjectKey& key, sdk::ByteRange range = {}) {
    BufferSink sink;
    const auto outcome = storage->get(key, range, sink);
    return outcome ? sink.bytes : "<" + std::string(sdk::to_string(outcome.status())) + ">";
  }

  testing::TempDir dir;
  observability::Metrics metrics;
  plugins::PluginHost host{metrics, dir.path()};
  std::shared_ptr<plugins::LoadedPlugin> plugin;
  StorageBackend* storage = nullptr;
  PrivacyParticipant* privacy = nullptr;
};

TEST_F(StorageFsTest, PutGetStatRangesAndReplace) {
  ASSERT_TRUE(put({"alice", "video.mp4"}, "0123456789"));
  EXPECT_EQ(get({"alice", "video.mp4"}), "0123456789");
  EXPECT_EQ(get({"alice", "video.mp4"}, {2, 3}), "234");
  EXPECT_EQ(get({"alice", "video.mp4"}, {7, std::nullopt}), "789");
  EXPECT_EQ(get({"alice", "video.mp4"}, {10, 0}), "");
  EXPECT_EQ(get({"alice", "video.mp4"}, {8, 5}), "<invalid_argument>");
  auto info = storage->stat({"alice", "video.mp4"});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 10u);
  ASSERT_TRUE(put({"alice", "video.mp4"}, "new"));
  EXPECT_EQ(get({"alice", "video.mp4"}), "new");
  EXPECT_EQ(storage->stat({"alice", "missing"}).outcome().status(), sdk::Status::not_found);
  EXPECT_EQ(get({"nobody", "x"}), "<not_found>");
}

TEST_F(StorageFsTest, LargeObjectsStreamInChunks) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  ASSERT_TRUE(put({"alice", "big"}, big));
  EXPECT_EQ(get({"alice", "big"}) == big, true);
  EXPECT_EQ(get({"alice", "big"}, {1'000'000, 100'000}), big.substr(1'000'000, 100'000));
}

TEST_F(StorageFsTest, KeysCannotEscapeTheRoot) {
  for (const ObjectKey& key : {ObjectKey{"..", "x"}, ObjectKey{"alice", "../x"}, ObjectKey{"alice", "a/b"},
                               ObjectKey{"/etc", "passwd"}, ObjectKey{"alice", ".hidden"}, ObjectKey{"", "x"},
                               ObjectKey{"alice", std::string(200, 'a')}}) {
    EXPECT_EQ(put(key, "x").status(), sdk::Status::invalid_argument) << key.owner << "/" << key.id;
    EXPECT_EQ(get(key), "<invalid_argument>");
  }
}

TEST_F(StorageFsTest, SymlinksAreNeverFollowed) {
  testing::write_file(dir.path() / "outside" / "secret", "outside data");
  std::filesystem::create_directories(root());
  std::filesystem::create_directory_symlink(dir.path() / "outside", root() / "mallory");
  EXPECT_EQ(get({"mallory", "secret"}), "<permission_denied>");
  EXPECT_FALSE(put({"mallory", "planted"}, "x"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "outside" / "planted"));

  ASSERT_TRUE(put({"alice", "real"}, "data"));
  std::filesystem::create_symlink(dir.path() / "outside" / "secret", root() / "alice" / "link");
  EXPECT_EQ(get({"alice", "link"}), "<permission_denied>");
  EXPECT_EQ(storage->stat({"alice", "link"}).outcome().status(), sdk::Status::not_found);
}

TEST_F(StorageFsTest, FailedPutLeavesNoTrace) {
  ASSERT_TRUE(put({"alice", "doc"}, "old"));
  testing::FailingSource failing("partial new contents", sdk::Outcome::failure(sdk::Status::unavailable, "client went away"));
  const auto outcome = storage->put({"alice", "doc"}, failing);
  EXPECT_EQ(outcome.status(), sdk::Status::unavailable);
  EXPECT_EQ(get({"alice", "doc"}), "old");
  for (const auto& entry : std::filesystem::directory_iterator(root() / "alice")) {
    EXPECT_EQ(entry.path().filename(), "doc") << "left behind: " << entry.path();
  }
}

TEST_F(StorageFsTest, ListRemoveAndRemoveOwner) {
  ASSERT_TRUE(put({"alice", "a"}, "1"));
  ASSERT_TRUE(put({"alice", "b"}, "22"));
  ASSERT_TRUE(put({"bob", "c"}, "333"));
  struct Collect final : sdk::ObjectVisitor {
    bool visit(const sdk::ObjectInfo& object) override {
      names.insert(object.key.id);
      return true;
    }
    std::set<std::string> names;
  } listed;
  ASSERT_TRUE(storage->list("alice", listed));
  EXPECT_EQ(listed.names, (std::set<std::string>{"a", "b"}));
  ASSERT_TRUE(storage->remove({"alice", "a"}));
  ASSERT_TRUE(storage->remove({"alice", "a"}));  // idempotent
  ASSERT_TRUE(storage->remove({"nobody", "a"}));
  auto removed = storage->remove_owner("alice");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value(), 1u);
  EXPECT_FALSE(std::filesystem::exists(root() / "alice"));
  EXPECT_EQ(get({"bob", "c"}), "333");
}

TEST_F(StorageFsTest, PrivacyExportEraseAndVerify) {
  ASSERT_TRUE(put({"alice", "clip"}, "alice's video"));
  ASSERT_TRUE(put({"bob", "clip"}, "bob's video"));
  sdk::Subject alice{"alice", {"alice@example.org"}, {}};

  testing::RecordingExportSink exported;
  ASSERT_TRUE(privacy->export_subject(alice, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_EQ(exported.records[0].first, "objects");
  EXPECT_EQ(exported.files.at("objects/clip"), "alice's video");

  auto erased = privacy->erase_subject(alice);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->files_removed, 1u);
  auto again = privacy->erase_subject(alice);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files_removed, 0u);

  testing::RecordingExportSink after;
  ASSERT_TRUE(privacy->export_subject(alice, after));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(get({"bob", "clip"}), "bob's video");

  // Someone known only by an address (an email intake) holds nothing here, and erasing them
  // touches nobody's objects.
  const sdk::Subject stranger{"", {"stranger@example.org"}, {}};
  testing::RecordingExportSink none;
  ASSERT_TRUE(privacy->export_subject(stranger, none));
  EXPECT_TRUE(none.empty());
  ASSERT_TRUE(privacy->erase_subject(stranger).ok());
  EXPECT_EQ(get({"bob", "clip"}), "bob's video");
}

TEST_F(StorageFsTest, ObjectsArePrivateToTheServiceUser) {
  ASSERT_TRUE(put({"alice", "p"}, "x"));
  struct stat info {};
  ASSERT_EQ(::stat((root() / "alice" / "p").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root() / "alice").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace framehouse
