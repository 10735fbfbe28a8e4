// A hung plugin never blocks a request of another route: its callers hold at most twice its
// concurrency in handler threads (the calls in it, and as many waiting), further ones are
// refused at once, and every other route goes on.
#include <thread>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

class HungPluginEndToEnd : public EndToEnd {
 protected:
  // Storage whose stat() (what a download asks first) hangs for 4 s; one call at a time.
  std::string extra_config() const override {
    return "[storage]\nplugin = \"hangs_in_call\"\n"
           "[plugins.hangs_in_call]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/hangs_in_call.so\"\nhang_ms = 4000\n"
           "call_timeout_ms = 1500\nconcurrency = 1\n";
  }
};

TEST_P(HungPluginEndToEnd, OtherRoutesAnswerWhileEveryDownloadWaitsOnAHungStorage) {
  // Four handler threads (the fixture's default is one, to find nested pool use).
  server = std::make_unique<testing::RunningServer>(
      testing::server_config(dir.path(), "handler_threads = 4\n", database_->options().url) + extra_config());
  ASSERT_NE(server->port, 0) << server->process->stderr_text();
  const std::string token = member("Hana", "hana@example.org");
  const auto created = call("POST", "/v1/videos", R"({"prompt":"a still pond","seconds":"1","size":"512x512"})", bearer(token));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id(json_of(created).at("id").as_string());
  for (int i = 0; i < 400 && json_of(call("GET", "/v1/videos/" + id, "", bearer(token))).at("status") != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(json_of(call("GET", "/v1/videos/" + id, "", bearer(token))).at("status"), "completed");

  std::vector<std::thread> downloads;
  std::vector<int> statuses(6, 0);
  for (int i = 0; i < 6; ++i) {
    downloads.emplace_back([&, i] { statuses[i] = call("GET", "/v1/videos/" + id + "/content", "", bearer(token)).status; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // every download is in or refused
  for (int i = 0; i < 10; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto me = call("GET", "/v1/me", "", bearer(token));
    EXPECT_EQ(me.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500)) << "request " << i;
  }
  for (auto& download : downloads) download.join();
  for (const int status : statuses) EXPECT_GE(status, 500);  // answered: refused at once, or timed out
  EXPECT_NE(call("GET", "/metrics", "", {}).body.find("framehouse_plugin_calls_refused_total{plugin=\"hangs_in_call\"}"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, HungPluginEndToEnd, ::testing::Values(db::Backend::sqlite), testing::backend_name);

}  // namespace
}  // namespace framehouse
