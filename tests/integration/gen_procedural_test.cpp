// gen_procedural, the shipped engine, loaded through the host; its output checked with the
// ffprobe command, as an independent reader of MP4.
#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "framehouse/sdk/generation.hpp"
#include "framehouse/testkit/sinks.hpp"
#include "support/media.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

using MemorySink = testkit::MemoryGenerationSink;

sdk::GenerationRequest request(std::string prompt, std::uint64_t seed = 7) {
  sdk::GenerationRequest r;
  r.job_id = "job_1";
  r.owner = "usr_alice";
  r.model = "procedural-1";
  r.prompt = std::move(prompt);
  r.width = 640;
  r.height = 360;
  r.seconds = 2;
  r.fps = 24;
  r.seed = seed;
  return r;
}

class GenProceduralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto error = testing::load_plugin(host, testing::shipped_plugin("gen_procedural"), "preset = \"ultrafast\"");
    ASSERT_FALSE(error) << *error;
    ASSERT_FALSE(host.start_all());
    engine = host.find("gen_procedural")->find<sdk::GenerationEngine>();
    privacy = host.find("gen_procedural")->find<sdk::PrivacyParticipant>();
  }
  std::map<std::string, std::string> probe(const std::string& video) { return testing::probe_video(dir.path(), video); }
  std::filesystem::path work_dir() const { return dir.path() / "plugins" / "gen_procedural" / "work"; }

  testing::TempDir dir;
  observability::Metrics metrics;
  plugins::PluginHost host{metrics, dir.path()};
  sdk::GenerationEngine* engine = nullptr;
  sdk::PrivacyParticipant* privacy = nullptr;
};

TEST_F(GenProceduralTest, RendersARealH264Mp4AndAThumbnail) {
  MemorySink sink;
  const auto outcome = engine->run(request("a lighthouse in a storm, waves crashing"), sink);
  ASSERT_TRUE(outcome) << outcome.message();
  const auto fields = probe(sink.outputs.at("video"));
  EXPECT_EQ(fields.at("codec_name"), "h264");
  EXPECT_EQ(fields.at("width"), "640");
  EXPECT_EQ(fields.at("height"), "360");
  EXPECT_EQ(fields.at("pix_fmt"), "yuv420p");
  EXPECT_EQ(fields.at("nb_read_frames"), "48");
  EXPECT_NEAR(std::stod(fields.at("duration")), 2.0, 0.05);
  // faststart: the index (moov) comes before the media data (mdat).
  const std::string& video = sink.outputs.at("video");
  EXPECT_LT(video.find("moov"), video.find("mdat"));
  const std::string& thumbnail = sink.outputs.at("thumbnail");
  ASSERT_GT(thumbnail.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(thumbnail[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(thumbnail[1]), 0xD8);
  // Progress is per frame, whole-job, ending at 100.
  EXPECT_TRUE(std::is_sorted(sink.percents.begin(), sink.percents.end()));
  EXPECT_EQ(sink.percents.back(), 100);
  EXPECT_GT(sink.percents.size(), 20u);
  // No copy is kept.
  EXPECT_TRUE(std::filesystem::is_empty(work_dir()));
}

TEST_F(GenProceduralTest, SameInputsGiveByteIdenticalOutput) {
  MemorySink first, second, other_seed, other_prompt;
  ASSERT_TRUE(engine->run(request("a red fox in snow", 42), first));
  ASSERT_TRUE(engine->run(request("a red fox in snow", 42), second));
  ASSERT_TRUE(engine->run(request("a red fox in snow", 43), other_seed));
  ASSERT_TRUE(engine->run(request("a blue fox in snow", 42), other_prompt));
  EXPECT_TRUE(first.outputs.at("video") == second.outputs.at("video"));
  EXPECT_TRUE(first.outputs.at("thumbnail") == second.outputs.at("thumbnail"));
  EXPECT_FALSE(first.outputs.at("video") == other_seed.outputs.at("video"));
  EXPECT_FALSE(first.outputs.at("video") == other_prompt.outputs.at("video"));
}

TEST_F(GenProceduralTest, DrawsTheWatermarkWhenThePlanAsks) {
  MemorySink plain, marked;
  auto request_marked = request("a red fox in snow", 42);
  request_marked.watermark = true;
  ASSERT_TRUE(engine->run(request("a red fox in snow", 42), plain));
  ASSERT_TRUE(engine->run(request_marked, marked));
  EXPECT_FALSE(plain.outputs.at("thumbnail") == marked.outputs.at("thumbnail"));
}

TEST_F(GenProceduralTest, AnimatesAnInputImage) {
  const auto png = dir.path() / "input.png";
  const auto made = testing::run_command({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=800x600",
                                          "-frames:v", "1", png.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  MemorySink sink;
  sink.input_image = testing::read_file(png);
  auto with_image = request("my garden, slowly");
  with_image.has_input_image = true;
  const auto outcome = engine->run(with_image, sink);
  ASSERT_TRUE(outcome) << outcome.message();
  const auto fields = probe(sink.outputs.at("video"));
  EXPECT_EQ(fields.at("nb_read_frames"), "48");
  EXPECT_EQ(fields.at("width"), "640");
  // The image is animated: first and last frames differ.
  MemorySink text_only;
  ASSERT_TRUE(engine->run(request("my garden, slowly"), text_only));
  EXPECT_FALSE(sink.outputs.at("video") == text_only.outputs.at("video"));
}

TEST_F(GenProceduralTest, ForgedImageIsRefusedAndNothingIsLeft) {
  MemorySink sink;
  sink.input_image = "\x89PNG\r\n\x1a\n this is not really a PNG";
  auto forged = request("x");
  forged.has_input_image = true;
  const auto outcome = engine->run(forged, sink);
  EXPECT_EQ(outcome.status(), sdk::Status::invalid_argument) << outcome.message();
  EXPECT_TRUE(sink.outputs.empty());
  EXPECT_TRUE(std::filesystem::is_empty(work_dir()));
}

TEST_F(GenProceduralTest, CancelStopsBetweenFrames) {
  MemorySink sink;
  sink.cancel_at = 20;
  auto long_job = request("a long one");
  long_job.seconds = 10;
  const auto outcome = engine->run(long_job, sink);
  EXPECT_EQ(outcome.status(), sdk::Status::canceled);
  EXPECT_LT(sink.percents.back(), 30);
  EXPECT_TRUE(sink.outputs.empty());
  EXPECT_TRUE(std::filesystem::is_empty(work_dir()));

  // And through the engine's own cancel(), from another thread.
  MemorySink other;
  std::thread canceler([&] {
    while (other.percents.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(engine->cancel("job_1"));
  });
  EXPECT_EQ(engine->run(long_job, other).status(), sdk::Status::canceled);
  canceler.join();
}

TEST_F(GenProceduralTest, RefusesWhatItCannotRender) {
  MemorySink sink;
  auto odd = request("x");
  odd.width = 641;
  EXPECT_EQ(engine->run(odd, sink).status(), sdk::Status::invalid_argument);
  auto too_long = request("x");
  too_long.seconds = 21;
  EXPECT_EQ(engine->run(too_long, sink).status(), sdk::Status::invalid_argument);
  auto traversal = request("x");
  traversal.owner = "../etc";
  EXPECT_EQ(engine->run(traversal, sink).status(), sdk::Status::invalid_argument);
  const auto capabilities = engine->describe();
  EXPECT_TRUE(capabilities.image_input);
  EXPECT_EQ(capabilities.max_seconds, 20);
}

TEST_F(GenProceduralTest, PrivacyFindsAndErasesLeftoverWorkFiles) {
  testing::write_file(work_dir() / "usr_alice+job_9.mp4", "partial");
  testing::write_file(work_dir() / "usr_bob+job_8.mp4", "partial");
  testing::RecordingExportSink exported;
  ASSERT_TRUE(privacy->export_subject({"usr_alice", {}, {}}, exported));
  EXPECT_EQ(exported.records.size(), 1u);
  auto erased = privacy->erase_subject({"usr_alice", {}, {}});
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->files_removed, 1u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(privacy->export_subject({"usr_alice", {}, {}}, after));
  EXPECT_TRUE(after.empty());
  ASSERT_TRUE(engine->purge("job_8"));
  EXPECT_TRUE(std::filesystem::is_empty(work_dir()));
}

}  // namespace
}  // namespace framehouse
