// Several generation engines behind one API: the procedural engine and the fixture engine
// (other_kinds) side by side, published as models of the admin's naming with limits and plans
// of their own; /v1/models lists what the caller's plan may use; each video runs on its model's
// engine with that engine's own queue; an engine whose server is down makes its videos wait,
// with the reason, without holding up the other engine's.
#include <filesystem>
#include <thread>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

namespace json = boost::json;

std::string engines_config(std::string config) {
  const std::string single = "[generation]\nplugin = \"gen_procedural\"";
  config.replace(config.find(single), single.size(), "[generation]\nengines = [\"gen_procedural\", \"other_kinds\"]");
  return config;
}

class TwoEngines : public EndToEnd {
 public:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    server = std::make_unique<testing::RunningServer>(
        engines_config(testing::server_config(dir.path(), "", database_->options().url)) + extra_config());
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
  std::string extra_config() const override {
    return "[plugins.other_kinds]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/other_kinds.so\"\nwebhook_secret = \"s\"\n"
           "unavailable_while = \"" + down_flag().string() + "\"\n"
           "[engines.other_kinds]\nworkers = 1\n"
           "[models.studio]\nengine = \"gen_procedural\"\nengine_model = \"procedural-1\"\nplans = [\"premium\"]\n"
           "aliases = [\"sora-2-pro\"]\n"
           "[models.quick]\nengine = \"gen_procedural\"\nengine_model = \"procedural-1\"\nsizes = [\"512x512\", \"640x360\"]\n"
           "max_seconds = 4\naliases = [\"sora-2\"]\n"
           "[models.sketch]\nengine = \"other_kinds\"\nengine_model = \"fixture\"\n";
  }

 protected:
  std::filesystem::path down_flag() const { return dir.path() / "fixture-server-down"; }
  json::object video(const std::string& token, const std::string& id) {
    return json_of(call("GET", "/v1/videos/" + id, "", bearer(token)));
  }
  json::object wait_for(const std::string& token, const std::string& id, const std::function<bool(const json::object&)>& done) {
    json::object now;
    for (int i = 0; i < 600; ++i) {
      now = video(token, id);
      if (done(now)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return now;
  }
};

TEST_P(TwoEngines, ModelsNameTheirEngineLimitsAndPlans) {
  const std::string token = member("Alice", "alice@example.org");
  const auto listed = json_of(call("GET", "/v1/models", "", bearer(token)));
  EXPECT_EQ(listed.at("object"), "list");
  std::map<std::string, json::object> models;
  for (const auto& model : listed.at("data").as_array()) models[std::string(model.at("id").as_string())] = model.as_object();
  ASSERT_EQ(models.size(), 2u) << json::serialize(listed);  // studio is for premium only
  EXPECT_EQ(models.at("quick").at("object"), "model");
  EXPECT_EQ(models.at("quick").at("owned_by"), "gen_procedural");
  EXPECT_EQ(models.at("quick").at("max_seconds"), 4);
  EXPECT_EQ(models.at("quick").at("aliases"), json::parse(R"(["sora-2"])"));
  EXPECT_EQ(models.at("sketch").at("owned_by"), "other_kinds");
  EXPECT_EQ(models.at("sketch").at("image_input"), false);
  EXPECT_TRUE(models.at("quick").at("created").is_int64());

  const auto alias = call("GET", "/v1/models/sora-2", "", bearer(token));
  ASSERT_EQ(alias.status, 200);
  EXPECT_EQ(json_of(alias).at("id"), "sora-2");
  EXPECT_EQ(json_of(alias).at("engine"), "gen_procedural");
  EXPECT_EQ(call("GET", "/v1/models/studio", "", bearer(token)).status, 404);  // not on the free plan
  EXPECT_EQ(call("GET", "/v1/models/sora-2-pro", "", bearer(token)).status, 404);
  EXPECT_EQ(call("GET", "/v1/models/nothing", "", bearer(token)).status, 404);

  const auto premium_only = call("POST", "/v1/videos", R"({"prompt":"x","model":"studio","seconds":"1","size":"512x512"})", bearer(token));
  EXPECT_EQ(premium_only.status, 422);
  EXPECT_EQ(json_of(premium_only).at("error").at("param"), "model");
  EXPECT_NE(premium_only.body.find("not available on your plan (free)"), std::string::npos) << premium_only.body;
  const auto too_big = call("POST", "/v1/videos", R"({"prompt":"x","model":"quick","seconds":"1","size":"1280x720"})", bearer(token));
  EXPECT_NE(too_big.body.find("size must be one of 512x512, 640x360"), std::string::npos) << too_big.body;
  const auto too_long = call("POST", "/v1/videos", R"({"prompt":"x","model":"quick","seconds":"5","size":"512x512"})", bearer(token));
  EXPECT_EQ(json_of(too_long).at("error").at("param"), "seconds");
  // Naming no model: the first one the plan may use (studio, the first table, is premium's).
  const auto unnamed = call("POST", "/v1/videos", R"({"prompt":"x","seconds":"1","size":"512x512"})", bearer(token));
  ASSERT_EQ(unnamed.status, 200) << unnamed.body;
  EXPECT_EQ(json_of(unnamed).at("model"), "quick");
}

TEST_P(TwoEngines, EachVideoRunsOnItsModelsEngineAndADownEngineHoldsUpOnlyItsOwn) {
  const std::string token = member("Alice", "alice@example.org");
  testing::write_file(down_flag(), "down");
  const auto submit = [&](const std::string& body) {
    const auto response = call("POST", "/v1/videos", body, bearer(token));
    EXPECT_EQ(response.status, 200) << response.body;
    return std::string(json_of(response).at("id").as_string());
  };
  const std::string first_sketch = submit(R"({"prompt":"a sketch","model":"sketch","seconds":"1","size":"64x64"})");
  const std::string second_sketch = submit(R"({"prompt":"another sketch","model":"sketch","seconds":"1","size":"64x64"})");

  // The fixture's server is down: its videos wait, saying why, each with its place in its
  // engine's own queue.
  const auto waiting = wait_for(token, first_sketch, [](const json::object& video) { return !video.at("status_reason").is_null(); });
  EXPECT_EQ(waiting.at("status"), "queued") << json::serialize(waiting);
  EXPECT_EQ(waiting.at("engine"), "other_kinds");
  EXPECT_EQ(waiting.at("model"), "sketch");
  EXPECT_NE(std::string(waiting.at("status_reason").as_string()).find("the engine other_kinds is unavailable"), std::string::npos);
  const auto behind = wait_for(token, second_sketch, [](const json::object& video) {
    return !video.at("status_reason").is_null() && video.at("status") == "queued";
  });
  // Second in its engine's queue — or first, in the moment the other is being tried again.
  const auto place = behind.at("queue_position");
  EXPECT_TRUE(place == 2 || place == 1) << json::serialize(behind);

  // Meanwhile the procedural engine's video goes through, first in its own queue.
  const std::string quick = submit(R"({"prompt":"quick one","model":"sora-2","seconds":"1","size":"512x512"})");
  const auto queued_quick = video(token, quick);
  EXPECT_EQ(queued_quick.at("model"), "quick");  // the alias resolved
  EXPECT_EQ(queued_quick.at("engine"), "gen_procedural");
  // Its own engine's queue: not behind the two waiting for the other engine.
  EXPECT_TRUE(queued_quick.at("queue_position").is_null() || queued_quick.at("queue_position") == 1) << json::serialize(queued_quick);
  const auto done_quick = wait_for(token, quick, [](const json::object& video) { return video.at("status") == "completed"; });
  EXPECT_EQ(done_quick.at("status"), "completed") << json::serialize(done_quick);
  EXPECT_NE(video(token, first_sketch).at("status"), "completed");  // still waiting (or being tried again)

  // The server is back: the waiting videos run, on their engine, nothing lost.
  std::filesystem::remove(down_flag());
  for (const auto& id : {first_sketch, second_sketch}) {
    const auto done = wait_for(token, id, [](const json::object& video) { return video.at("status") == "completed"; });
    EXPECT_EQ(done.at("status"), "completed") << json::serialize(done);
    EXPECT_TRUE(done.at("status_reason").is_null());
    const auto content = call("GET", "/v1/videos/" + id + "/content", "", bearer(token));
    EXPECT_EQ(content.body.rfind("video-of:", 0), 0u) << content.body.substr(0, 40);  // the fixture engine made it
  }
  const std::string log = server->process->stderr_text();
  EXPECT_NE(log.find("\"msg\":\"engine unavailable; the video waits\",\"video\":\"" + first_sketch), std::string::npos);
  EXPECT_NE(call("GET", "/metrics", "", {}).body.find("queue=\"video:other_kinds\""), std::string::npos);
}

TEST_P(TwoEngines, AModelThatDoesNotFitItsEngineStopsTheStartNamingTheTable) {
  const std::string config = engines_config(testing::server_config(dir.path() / "misfit", "", database_->options().url)) +
                             "[plugins.other_kinds]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/other_kinds.so\"\nwebhook_secret = \"s\"\n"
                             "[models.huge]\nengine = \"other_kinds\"\nengine_model = \"fixture\"\nsizes = [\"1920x1080\"]\n";
  testing::RunningServer misfit(config);
  EXPECT_EQ(misfit.port, 0);
  EXPECT_EQ(misfit.process->wait(std::chrono::seconds(10)), 1);
  EXPECT_NE(misfit.process->stderr_text().find("models.huge.sizes: other_kinds cannot make 1920x1080 (it makes 64x64)"),
            std::string::npos)
      << misfit.process->stderr_text();
}

INSTANTIATE_TEST_SUITE_P(Backends, TwoEngines, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
