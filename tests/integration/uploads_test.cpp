// Uploads through the real storage_fs plugin on SQLite and PostgreSQL, and their erasure by
// the participants that hold them: the uploads index and the storage plugin; and the video
// records with their prompts.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "framehouse/sdk/storage.hpp"
#include "support/databases.hpp"
#include "support/plugins.hpp"
#include "support/streams.hpp"
#include "video/uploads.hpp"
#include "video/videos.hpp"

namespace framehouse::video {
namespace {

// The smallest valid PNG header: signature and an IHDR for 640x480, 8-bit RGB.
const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x02\x80\0\0\x01\xe0\x08\x02\0\0\0\0\0\0\0", 33);

class UploadsTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("storage_fs"), "fsync = false"));
    ASSERT_FALSE(testing::load_plugin(host_, testing::shipped_plugin("gen_procedural"), "preset = \"ultrafast\""));
    ASSERT_FALSE(host_.start_all());
    UploadsConfig config;
    config.max_bytes = 1000;
    config.max_width = 1000;
    config.max_height = 1000;
    keys_ = std::make_unique<storage::DataKeys>(*database_, storage::MasterKey{7});
    objects_ = std::make_unique<storage::ObjectStore>(host_, host_.find("storage_fs"), *keys_);
    uploads_ = std::make_unique<Uploads>(*database_, *objects_, config);
    soci::session sql(database_->pool());
    for (const char* id : {"usr_a", "usr_b"}) {
      const std::string user = id;
      const std::string email = user + "@example.org";
      sql << "INSERT INTO users (id, email, name, password_hash, role, age_check_passed_at, created_at, updated_at)"
             " VALUES (:id, :e, 'N', 'x', 'user', 0, 0, 0)",
          soci::use(user), soci::use(email);
    }
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<storage::DataKeys> keys_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<Uploads> uploads_;
};

TEST_P(UploadsTest, AddCheckReadRemove) {
  auto added = uploads_->add("usr_a", kPng);
  ASSERT_TRUE(added.ok()) << added.outcome().message();
  EXPECT_EQ(added->width, 640);
  EXPECT_EQ(uploads_->content("usr_a", added->id).value(), kPng);
  EXPECT_EQ(uploads_->content("usr_b", added->id).outcome().status(), sdk::Status::not_found);
  EXPECT_EQ(uploads_->add("usr_a", std::string(1001, 'x')).outcome().message(), "is larger than 1000 bytes");
  EXPECT_EQ(uploads_->add("usr_a", "not an image").outcome().message(), "is not a PNG, JPEG or WebP image");
  std::string wide = kPng;
  wide[18] = 0x10;  // 4224 pixels wide
  EXPECT_EQ(uploads_->add("usr_a", wide).outcome().message(), "is larger than 1000x1000 pixels");
  EXPECT_EQ(uploads_->list("usr_a").size(), 1u);
  EXPECT_EQ(uploads_->remove("usr_b", added->id).status(), sdk::Status::not_found);
  EXPECT_TRUE(uploads_->remove("usr_a", added->id));
  EXPECT_TRUE(uploads_->list("usr_a").empty());
}

TEST_P(UploadsTest, ErasureReachesTheIndexAndTheStoredBytes) {
  ASSERT_TRUE(uploads_->add("usr_a", kPng).ok());
  ASSERT_TRUE(uploads_->add("usr_b", kPng).ok());
  UploadsParticipant index(*database_);
  auto* storage = host_.find("storage_fs")->find<sdk::PrivacyParticipant>();
  const sdk::Subject alice{"usr_a", {}, {}};

  testing::RecordingExportSink before;
  ASSERT_TRUE(index.export_subject(alice, before));
  ASSERT_TRUE(storage->export_subject(alice, before));
  EXPECT_EQ(before.records.size(), 2u);  // the index row and the stored object
  EXPECT_EQ(before.files.size(), 1u);
  // The backend holds only the sealed bytes.
  EXPECT_EQ(before.files.begin()->second.find("IHDR"), std::string::npos);
  EXPECT_TRUE(storage::is_sealed(std::as_bytes(std::span(before.files.begin()->second))));

  EXPECT_EQ(index.erase_subject(alice)->records_removed, 1u);
  EXPECT_EQ(storage->erase_subject(alice)->files_removed, 1u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(index.export_subject(alice, after));
  ASSERT_TRUE(storage->export_subject(alice, after));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(uploads_->list("usr_b").size(), 1u);
}

TEST_P(UploadsTest, DestroyingTheDataKeyMakesEveryCopyUnreadable) {
  auto added = uploads_->add("usr_a", kPng);
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(uploads_->add("usr_b", kPng).ok());
  EXPECT_TRUE(keys_->destroy("usr_a"));
  EXPECT_FALSE(keys_->destroy("usr_a"));
  EXPECT_EQ(uploads_->content("usr_a", added->id).outcome().status(), sdk::Status::unavailable);
  EXPECT_EQ(uploads_->content("usr_b", uploads_->list("usr_b").front().id).value(), kPng);
}

TEST_P(UploadsTest, RotatingTheMasterKeyRewrapsEveryDataKey) {
  auto added = uploads_->add("usr_a", kPng);
  ASSERT_TRUE(added.ok());
  storage::DataKeys rotated(*database_, storage::MasterKey{8}, {storage::MasterKey{7}});
  EXPECT_EQ(rotated.rewrap_retired(), 1u);
  EXPECT_EQ(rotated.rewrap_retired(), 0u);
  storage::ObjectStore objects(host_, host_.find("storage_fs"), rotated);
  EXPECT_EQ(Uploads(*database_, objects, {}).content("usr_a", added->id).value(), kPng);
  // The retired key alone no longer opens anything.
  storage::DataKeys old_only(*database_, storage::MasterKey{7});
  EXPECT_THROW(old_only.existing("usr_a"), std::runtime_error);
}

TEST_P(UploadsTest, VideoRecordsAndPromptsAreExportedAndErased) {
  Videos videos(*database_, host_, *objects_, metrics_, {.data_dir = dir_.path().string(), .engines = {{"gen_procedural"}}});
  VideoRequest request{"procedural-1", "my private prompt", 512, 512, 1, 9, std::nullopt, std::nullopt};
  videos.create("usr_a", request);
  videos.create("usr_b", request);
  VideosParticipant participant(*database_, videos);
  const sdk::Subject alice{"usr_a", {}, {}};
  testing::RecordingExportSink exported;
  ASSERT_TRUE(participant.export_subject(alice, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_NE(exported.records[0].second.find("my private prompt"), std::string::npos);
  EXPECT_EQ(participant.erase_subject(alice)->records_removed, 1u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(participant.export_subject(alice, after));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(videos.list("usr_b", "", 10, true).videos.size(), 1u);
}

TEST_P(UploadsTest, FinishedAndFailedVideosExpireWithTheirStoredFiles) {
  std::int64_t now = 1'000'000;
  Videos videos(*database_, host_, *objects_, metrics_, {.data_dir = dir_.path().string(), .engines = {{"gen_procedural"}}},
                [&now] { return now; });
  VideoRequest request{"procedural-1", "kept a while", 64, 64, 1, 9, std::nullopt, std::nullopt};
  request.retention_seconds = 3600;
  const Video finished = videos.create("usr_a", request);
  ASSERT_TRUE(videos.run_one("worker"));
  request.seconds = 1000;  // more than the engine renders: the job fails
  const Video failed = videos.create("usr_a", request);
  ASSERT_TRUE(videos.run_one("worker"));
  ASSERT_EQ(videos.find("usr_a", finished.id)->status, "completed");
  ASSERT_EQ(videos.find("usr_a", failed.id)->status, "failed");
  for (const auto& id : {finished.id, failed.id}) EXPECT_EQ(videos.find("usr_a", id)->expires_at, now + 3600);
  const sdk::ObjectKey stored{"usr_a", Videos::object_id(finished.id, "video")};
  ASSERT_TRUE(objects_->size(stored));

  now += 3599;
  EXPECT_EQ(videos.purge_expired(), 0);
  now += 1;
  EXPECT_EQ(videos.purge_expired(), 2);
  EXPECT_FALSE(videos.find("usr_a", finished.id));
  EXPECT_FALSE(videos.find("usr_a", failed.id));
  EXPECT_EQ(objects_->size(stored).outcome().status(), sdk::Status::not_found);
}

// A video whose engine is unavailable waits, saying why; one that has waited longer than its
// engine's longest wait fails with that reason instead.
TEST_P(UploadsTest, AVideoWaitsForAnUnavailableEngineAndFailsOnlyAfterItsLongestWait) {
  const auto down = dir_.path() / "fixture-down";
  testing::write_file(down, "down");
  plugins::PluginHost engines{metrics_, dir_.path() / "engines"};
  ASSERT_FALSE(testing::load_plugin(engines, testing::fixture_plugin("other_kinds"),
                                    "webhook_secret = \"s\"\nunavailable_while = \"" + down.string() + "\""));
  ASSERT_FALSE(engines.start_all());
  std::int64_t now = 1'000'000;
  Videos videos(*database_, engines, *objects_, metrics_,
                {.data_dir = dir_.path().string(), .engines = {{"other_kinds", 1, 600}}}, [&now] { return now; });
  const VideoRequest request{"fixture", "waits", 64, 64, 1, 9, std::nullopt, std::nullopt};
  const Video patient = videos.create("usr_a", request);
  ASSERT_TRUE(videos.run_one("worker"));
  const auto waiting = videos.find("usr_a", patient.id);
  EXPECT_EQ(waiting->status, "queued");
  ASSERT_TRUE(waiting->status_reason);
  EXPECT_EQ(*waiting->status_reason,
            "the engine other_kinds is unavailable (the fixture's server is down); the video waits for it for up to 10 minutes");

  // Ten minutes and a second later, a video created with the first is tried (the first waits
  // a few seconds between tries): it has waited too long, and fails saying so.
  const Video late = videos.create("usr_a", request);
  now += 601;
  ASSERT_TRUE(videos.run_one("worker"));
  const auto failed = videos.find("usr_a", late.id);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->error_code, "engine_unavailable");
  EXPECT_EQ(failed->error_message, "The engine other_kinds was unavailable for 10 minutes: the fixture's server is down");
  EXPECT_FALSE(failed->status_reason);
}

// What event streams wait on instead of reading the database on every tick: every change this
// process makes to a video moves the counter, and reading changes nothing.
TEST_P(UploadsTest, EveryChangeToAVideoMovesTheChangeCounter) {
  Videos videos(*database_, host_, *objects_, metrics_, {.data_dir = dir_.path().string(), .engines = {{"gen_procedural"}}});
  VideoRequest request{"procedural-1", "counted", 64, 64, 1, 9, std::nullopt, std::nullopt};
  const auto before = videos.changes();
  const Video queued = videos.create("usr_a", request);
  const auto after_create = videos.changes();
  EXPECT_GT(after_create, before);
  (void)videos.find("usr_a", queued.id);
  (void)videos.list("usr_a", "", 10, true);
  EXPECT_EQ(videos.changes(), after_create);
  ASSERT_TRUE(videos.run_one("worker"));  // claimed, progress reported, finished
  EXPECT_GE(videos.changes(), after_create + 3);
  const auto after_run = videos.changes();
  ASSERT_TRUE(videos.remove("usr_a", queued.id));
  EXPECT_GT(videos.changes(), after_run);
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadsTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::video
