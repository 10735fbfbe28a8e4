// The export archive: ZIP entries streamed to disk, parts joined, sealed files opened on the
// way in — checked by an independent reader and by unzip.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "privacy/export_archive.hpp"
#include "storage/sealing.hpp"
#include "support/process.hpp"
#include "support/zip_reader.hpp"

namespace framehouse::privacy {
namespace {

TEST(ZipWriter, WritesEntriesThatAnotherReaderAndUnzipAccept) {
  testing::TempDir dir;
  const auto file = dir.path() / "a.zip";
  ZipWriter zip(file);
  ASSERT_TRUE(zip.add("hello.txt", std::string_view("hello, world\n")));
  std::string big(300'000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  sdk::BufferSource source(big);
  ASSERT_TRUE(zip.add("dir/big.bin", source));
  ASSERT_TRUE(zip.add("empty", std::string_view()));
  ASSERT_TRUE(zip.finish());
  const auto entries = testing::read_zip(testing::read_file(file));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries.at("hello.txt"), "hello, world\n");
  EXPECT_EQ(entries.at("dir/big.bin"), big);
  EXPECT_EQ(entries.at("empty"), "");
  const auto tested = testing::run_command({"/usr/bin/unzip", "-t", file.string()});
  EXPECT_EQ(tested.exit_code, 0) << tested.out << tested.err;
}

TEST(ZipWriter, Crc32MatchesTheStandardCheckValue) { EXPECT_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u); }

TEST(PartWriter, PartsJoinIntoOneArchiveWithReadmeAndOpenedFiles) {
  testing::TempDir dir;
  storage::DataKey key{};
  key[0] = 42;
  {
    PartWriter part(dir.path(), "storage_x", key);
    ASSERT_TRUE(part.record("objects", R"({"object_id":"img_1"})"));
    // A sealed object as the backend holds it is handed to the person opened.
    sdk::BufferSource plain(std::string("PNG bytes"));
    storage::SealingSource sealing(key, plain);
    sdk::BufferSink sealed;
    ASSERT_TRUE(sdk::drain(sealing, [&](std::span<const std::byte> chunk) { return sealed.write(chunk); }));
    sdk::BufferSource stored(sealed.bytes);
    ASSERT_TRUE(part.file("../../img_1", "image/png", stored));
    sdk::BufferSource raw(std::string("not sealed"));
    ASSERT_TRUE(part.file("notes/raw.txt", "text/plain", raw));
    ASSERT_TRUE(part.finish());
    EXPECT_EQ(part.count().records, 1u);
    EXPECT_EQ(part.count().files, 2u);
  }
  {
    PartWriter part(dir.path(), "core", std::nullopt);
    ASSERT_TRUE(part.record("account", R"({"email":"a@example.org"})"));
    ASSERT_TRUE(part.record("videos", R"({"prompt":"p1"})"));
    ASSERT_TRUE(part.record("account", R"({"second":true})"));
    EXPECT_FALSE(part.record("account", "not json"));
    ASSERT_TRUE(part.finish());
  }
  const std::vector<ParticipantInfo> participants = {{"storage_x", {"user_content"}, "", "storage"},
                                                     {"core", {"account"}, "", "the service"},
                                                     {"broken", {"x"}, "Acme Inc.", "testing"}};
  auto opened = open_archive(dir.path(), participants, {"broken"}, "pr_1", "privacy@example.org");
  ASSERT_TRUE(opened.ok()) << opened.outcome().message();
  sdk::BufferSink streamed;
  ASSERT_TRUE(sdk::drain(*opened->source, [&](std::span<const std::byte> chunk) { return streamed.write(chunk); }, 1000));
  EXPECT_EQ(streamed.bytes.size(), opened->size);
  const auto archive = dir.path() / "export.zip";
  testing::write_file(archive, streamed.bytes);
  const auto entries = testing::read_zip(streamed.bytes);
  EXPECT_EQ(entries.at("files/storage_x/img_1"), "PNG bytes");
  EXPECT_EQ(entries.at("files/storage_x/notes/raw.txt"), "not sealed");
  const auto core = boost::json::parse(entries.at("core.json")).as_object();
  EXPECT_EQ(core.at("account").as_array().size(), 2u);
  EXPECT_EQ(core.at("videos").as_array()[0].at("prompt"), "p1");
  EXPECT_NE(entries.at("README.md").find("broken"), std::string::npos);  // named as incomplete
  EXPECT_NE(entries.at("processors.json").find("Acme Inc."), std::string::npos);
  const auto tested = testing::run_command({"/usr/bin/unzip", "-t", archive.string()});
  EXPECT_EQ(tested.exit_code, 0) << tested.out << tested.err;
}

TEST(PartWriter, AnAbandonedPartRefusesLateWrites) {
  testing::TempDir dir;
  PartWriter part(dir.path(), "slow", std::nullopt);
  part.abandon();
  EXPECT_EQ(part.record("x", "{}").status(), sdk::Status::timeout);
}

TEST(SafeEntryName, KeepsNamesInsideTheArchive) {
  EXPECT_EQ(safe_entry_name("../../etc/passwd"), "etc/passwd");
  EXPECT_EQ(safe_entry_name("/abs/./x y"), "abs/x_y");
  EXPECT_EQ(safe_entry_name(".."), "unnamed");
}

}  // namespace
}  // namespace framehouse::privacy
