// gen_openai against a real implementation of OpenAI's Videos API: a second Framehouse process
// on its procedural engine, as the upstream (a gateway in front of GPU nodes). Ours runs on
// SQLite and PostgreSQL; what reaches the upstream is counted from its access log.
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

namespace json = boost::json;

class GenOpenAiEndToEnd : public EndToEnd {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    // Input images reach it fitted to the video's size: more than the tests' usual 4 KiB body.
    std::string upstream_config = testing::server_config(upstream_dir.path());
    const std::string small_bodies = "max_body_bytes = 4096";
    upstream_config.replace(upstream_config.find(small_bodies), small_bodies.size(), "max_body_bytes = 1048576");
    upstream = std::make_unique<testing::RunningServer>(upstream_config);
    ASSERT_NE(upstream->port, 0) << upstream->process->stderr_text();
    const auto made = testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config",
                                            upstream->config_file().string(), "--email", "gateway@example.org", "--name",
                                            "Gateway"},
                                           {}, "gateway pass phrase\n");
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto session = http_request(upstream->port, "POST", "/v1/sessions",
                                      R"({"email":"gateway@example.org","password":"gateway pass phrase"})", kJson);
    upstream_session = std::string(json_of(session).at("token").as_string());
    const auto key = http_request(upstream->port, "POST", "/v1/api-keys", R"({"name":"gateway"})", bearer(upstream_session));
    ASSERT_EQ(key.status, 201) << key.body;
    upstream_key = std::string(json_of(key).at("key").as_string());
    server = start_gateway();
  }
  std::string extra_config() const override {
    // A first base URL where nothing listens: every create starts by failing over.
    return "[plugins.gen_openai]\nbase_url = [\"http://127.0.0.1:1/v1\", \"http://127.0.0.1:" + std::to_string(upstream->port) +
           "/v1\"]\napi_key = \"" +
           upstream_key + "\"\nmodels = [\"procedural-1\"]\nsizes = [\"512x512\", \"640x360\", \"1280x720\"]\nmax_seconds = 20\n"
           "timeout_ms = 5000\n";
  }
  // The engine is the bridge, not the procedural engine.
  static std::string bridged(std::string config) {
    const std::string single = "[generation]\nplugin = \"gen_procedural\"";
    config.replace(config.find(single), single.size(), "[generation]\nplugin = \"gen_openai\"");
    return config;
  }
  std::unique_ptr<testing::RunningServer> start_gateway() {
    auto gateway = std::make_unique<testing::RunningServer>(
        bridged(testing::server_config(dir.path(), "[video]\nlease_seconds = 2\n", database_->options().url)) + extra_config());
    EXPECT_NE(gateway->port, 0) << gateway->process->stderr_text();
    return gateway;
  }
  // The jobs the upstream rendered (a create repeated with the same Idempotency-Key is not one).
  int upstream_submissions() const {
    const std::string log = upstream->process->stderr_text();
    const std::regex started("\"msg\":\"job started\",\"video\":\"(video_[0-9a-f]+)\"");
    std::set<std::string> videos;
    for (std::sregex_iterator it(log.begin(), log.end(), started), end; it != end; ++it) videos.insert((*it)[1]);
    return static_cast<int>(videos.size());
  }
  json::object wait_for(const std::string& token, const std::string& id, const std::string& status,
                        std::chrono::seconds within = std::chrono::seconds(90)) {
    json::object video;
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      video = json_of(call("GET", "/v1/videos/" + id, "", bearer(token)));
      if (video.at("status").as_string() == status || video.at("status") == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return video;
  }
  std::string submit(const std::string& token, const std::string& body) {
    const auto response = call("POST", "/v1/videos", body, bearer(token));
    EXPECT_EQ(response.status, 200) << response.body;
    return response.status == 200 ? std::string(json_of(response).at("id").as_string()) : "";
  }
  // The upstream's copies of what it rendered for the gateway.
  json::array upstream_videos() {
    return json_of(http_request(upstream->port, "GET", "/v1/videos?limit=100", "", bearer(upstream_session))).at("data").as_array();
  }

  testing::TempDir upstream_dir;
  std::unique_ptr<testing::RunningServer> upstream;
  std::string upstream_session, upstream_key;
};

TEST_P(GenOpenAiEndToEnd, RendersUpstreamDownloadsAndDeletesTheUpstreamCopy) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string id = submit(token, R"({"prompt":"a red kite","seconds":"2","size":"640x360","seed":"42"})");
  const auto done = wait_for(token, id, "completed");
  ASSERT_EQ(done.at("status"), "completed") << json::serialize(done);
  EXPECT_EQ(done.at("engine"), "gen_openai");
  EXPECT_EQ(done.at("progress"), 100);
  const auto content = call("GET", "/v1/videos/" + id + "/content", "", bearer(token));
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body.substr(4, 4), "ftyp");
  EXPECT_EQ(call("GET", "/v1/videos/" + id + "/content?variant=thumbnail", "", bearer(token)).status, 200);
  EXPECT_EQ(upstream_submissions(), 1);
  EXPECT_TRUE(upstream_videos().empty());  // downloaded, then deleted upstream
  // The dead base URL was passed over: found by the health check, or by a failed create.
  const std::string log = server->process->stderr_text();
  EXPECT_TRUE(log.find("an upstream failed its health check; passed over while it does: http://127.0.0.1:1/v1") != std::string::npos ||
              log.find("an upstream did not take a job; trying the next") != std::string::npos);

  // With an input image, which goes up as a file part.
  auto [upload, upload_headers] = image_upload(small_png(), token);
  const std::string image(json_of(call("POST", "/v1/images", upload, upload_headers)).at("id").as_string());
  const std::string animated = submit(token, R"({"prompt":"my garden","seconds":"1","size":"512x512","input_image_id":")" + image + "\"}");
  EXPECT_EQ(wait_for(token, animated, "completed").at("status"), "completed");
  EXPECT_EQ(upstream_submissions(), 2);
}

TEST_P(GenOpenAiEndToEnd, ACancelStopsOurSideAtOnceAndDeletesTheUpstreamJob) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string id = submit(token, R"({"prompt":"a long take","seconds":"20","size":"1280x720"})");
  ASSERT_EQ(wait_for(token, id, "in_progress").at("status"), "in_progress");
  for (int i = 0; i < 100 && upstream_videos().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(upstream_videos().size(), 1u);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(call("POST", "/v1/videos/" + id + "/cancel", "", bearer(token)).status, 200);
  const auto canceled = wait_for(token, id, "failed", std::chrono::seconds(10));
  EXPECT_EQ(canceled.at("error").at("code"), "canceled") << json::serialize(canceled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  for (int i = 0; i < 100 && !upstream_videos().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(upstream_videos().empty());
}

TEST_P(GenOpenAiEndToEnd, OurRestartReattachesAndAnUpstreamThatForgetsGetsTheJobOnceMore) {
  const std::string token = member("Alice", "alice@example.org");
  // kill -9 of our side in the middle: the process that takes over finds the upstream job.
  const std::string id = submit(token, R"({"prompt":"interrupted","seconds":"12","size":"1280x720"})");
  ASSERT_EQ(wait_for(token, id, "in_progress").at("status"), "in_progress");
  for (int i = 0; i < 100 && upstream_videos().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->process->signal(SIGKILL);
  server->process->wait(std::chrono::seconds(10));
  server = start_gateway();
  ASSERT_NE(server->port, 0);
  EXPECT_EQ(wait_for(token, id, "completed").at("status"), "completed");
  EXPECT_EQ(upstream_submissions(), 1);  // reattached, not submitted again

  // The upstream forgets a job (a vLLM-Omni restart): it gets it once more, with its seed.
  const std::string forgotten = submit(token, R"({"prompt":"forgotten","seconds":"12","size":"1280x720","seed":"7"})");
  ASSERT_EQ(wait_for(token, forgotten, "in_progress").at("status"), "in_progress");
  json::array upstream_jobs;
  for (int i = 0; i < 100 && (upstream_jobs = upstream_videos()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(upstream_jobs.size(), 1u);
  const std::string upstream_id(upstream_jobs.front().at("id").as_string());
  ASSERT_EQ(http_request(upstream->port, "DELETE", "/v1/videos/" + upstream_id, "", bearer(upstream_session)).status, 200);
  EXPECT_EQ(wait_for(token, forgotten, "completed").at("status"), "completed");
  EXPECT_EQ(upstream_submissions(), 3);
  EXPECT_NE(server->process->stderr_text().find("the upstream lost a job; submitted again with the same seed"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, GenOpenAiEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
