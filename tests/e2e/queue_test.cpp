// Two server processes on one PostgreSQL database share the job queue: fifty jobs, each run
// exactly once, by one process or the other; a job running when its node shuts down is given
// back at once, and one whose node was killed is taken over when its lease runs out.
#include <csignal>
#include <regex>
#include <thread>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

// The configuration of one node of a deployment: the database and the object root are shared,
// as is the master key (or one node could not open what another stored).
std::string node_config(const std::filesystem::path& dir, const std::string& database_url, const std::filesystem::path& objects,
                        const std::string& video_section) {
  std::string config = testing::server_config(dir, "", database_url);
  const std::string storage = "[plugins.storage_fs]\nfsync = false\n";
  config.replace(config.find(storage), storage.size(), storage + "root = \"" + objects.string() + "\"\n");
  return config + "[video]\n" + video_section + "[privacy]\nmaster_key = \"" + std::string(64, 'a') + "\"\n";
}

TEST(SharedQueue, TwoProcessesDrainFiftyJobsEachRunOnce) {
  testing::TestDatabase database(db::Backend::postgresql);
  if (database.skipped()) GTEST_SKIP() << "no PostgreSQL server (run tests/run-all.sh)";
  ASSERT_TRUE(database.available());
  testing::TempDir shared;
  const auto config_for = [&](const std::filesystem::path& dir) {
    return node_config(dir, database.options().url, shared.path() / "objects", "workers = 2\n");
  };
  testing::TempDir dir_a, dir_b;
  testing::RunningServer a(config_for(dir_a.path()));
  ASSERT_NE(a.port, 0) << a.process->stderr_text();
  testing::RunningServer b(config_for(dir_b.path()));
  ASSERT_NE(b.port, 0) << b.process->stderr_text();

  const auto created = testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config", a.config_file().string(),
                                             "--email", "q@example.org", "--name", "Q"},
                                            {}, "queue pass phrase\n");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto session = testing::http_request(a.port, "POST", "/v1/sessions",
                                             R"({"email":"q@example.org","password":"queue pass phrase"})", kJson);
  const std::string token(json_of(session).at("token").as_string());

  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    const auto port = i % 2 == 0 ? a.port : b.port;
    const auto response = testing::http_request(
        port, "POST", "/v1/videos", R"({"prompt":"job )" + std::to_string(i) + R"(","seconds":"1","size":"512x512"})",
        bearer(token));
    ASSERT_EQ(response.status, 200) << response.body;
    ids.insert(std::string(json_of(response).at("id").as_string()));
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::size_t completed = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    completed = 0;
    const auto page = json_of(testing::http_request(a.port, "GET", "/v1/videos?limit=100", "", bearer(token)));
    for (const auto& video : page.at("data").as_array()) completed += video.at("status") == "completed" ? 1 : 0;
    if (completed == ids.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(completed, ids.size());

  // Each job id was started exactly once across both processes' logs, and both worked.
  std::map<std::string, int> starts;
  int by_a = 0;
  int by_b = 0;
  const std::regex started("\"msg\":\"job started\",\"video\":\"(video_[0-9a-f]+)\"");
  for (auto* server : {&a, &b}) {
    const std::string logs = server->process->stderr_text();
    for (std::sregex_iterator it(logs.begin(), logs.end(), started), end; it != end; ++it) {
      ++starts[(*it)[1]];
      ++(server == &a ? by_a : by_b);
    }
  }
  EXPECT_EQ(starts.size(), ids.size());
  for (const auto& [id, count] : starts) EXPECT_EQ(count, 1) << id << " ran " << count << " times";
  EXPECT_GT(by_a, 0);
  EXPECT_GT(by_b, 0);
  db::Database check(database.options());
  soci::session sql(check.pool());
  int rerun = 0;
  sql << "SELECT COUNT(*) FROM videos WHERE attempts <> 1", soci::into(rerun);
  EXPECT_EQ(rerun, 0);
}

// One node stops gracefully in the middle of a video, another is killed in the middle of one:
// neither video is lost, the first is not even delayed by its lease.
TEST(SharedQueue, AJobIsGivenBackAtShutdownAndTakenOverFromAKilledNode) {
  testing::TestDatabase database(db::Backend::postgresql);
  if (database.skipped()) GTEST_SKIP() << "no PostgreSQL server (run tests/run-all.sh)";
  ASSERT_TRUE(database.available());
  testing::TempDir shared, dir_a, dir_b;
  const auto config_for = [&](const std::filesystem::path& dir) {
    return node_config(dir, database.options().url, shared.path() / "objects", "lease_seconds = 2\n");
  };
  auto a = std::make_unique<testing::RunningServer>(config_for(dir_a.path()));
  ASSERT_NE(a->port, 0) << a->process->stderr_text();
  const auto created = testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config", a->config_file().string(),
                                             "--email", "q@example.org", "--name", "Q"},
                                            {}, "queue pass phrase\n");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string token(json_of(testing::http_request(a->port, "POST", "/v1/sessions",
                                                         R"({"email":"q@example.org","password":"queue pass phrase"})", kJson))
                              .at("token")
                              .as_string());
  const auto submit = [&](std::uint16_t port) {
    const auto response = testing::http_request(port, "POST", "/v1/videos",
                                                R"({"prompt":"a long take","seconds":"12","size":"1280x720"})", bearer(token));
    EXPECT_EQ(response.status, 200) << response.body;
    return std::string(json_of(response).at("id").as_string());
  };
  const auto status_of = [&](std::uint16_t port, const std::string& id) {
    return std::string(json_of(testing::http_request(port, "GET", "/v1/videos/" + id, "", bearer(token))).at("status").as_string());
  };
  const auto wait_for = [&](std::uint16_t port, const std::string& id, const std::string& status) {
    for (int i = 0; i < 1200 && status_of(port, id) != status; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return status_of(port, id);
  };

  // A stops gracefully while it renders: the job goes back to the queue at once.
  const std::string first = submit(a->port);
  ASSERT_EQ(wait_for(a->port, first, "in_progress"), "in_progress");
  a->process->signal(SIGTERM);
  EXPECT_EQ(a->process->wait(std::chrono::seconds(20)), 0);
  EXPECT_NE(a->process->stderr_text().find("job given back at shutdown"), std::string::npos);
  auto b = std::make_unique<testing::RunningServer>(config_for(dir_b.path()));
  ASSERT_NE(b->port, 0) << b->process->stderr_text();
  EXPECT_EQ(wait_for(b->port, first, "completed"), "completed");
  EXPECT_EQ(b->process->stderr_text().find("job taken over"), std::string::npos);  // it was given, not taken

  // B is killed while it renders: a restarted A takes the job over once the lease ran out.
  const std::string second = submit(b->port);
  ASSERT_EQ(wait_for(b->port, second, "in_progress"), "in_progress");
  b->process->signal(SIGKILL);
  b->process->wait(std::chrono::seconds(10));
  a = std::make_unique<testing::RunningServer>(config_for(dir_a.path()));
  ASSERT_NE(a->port, 0) << a->process->stderr_text();
  EXPECT_EQ(wait_for(a->port, second, "completed"), "completed");
  const std::string log = a->process->stderr_text();
  EXPECT_NE(log.find("job taken over after its lease ran out"), std::string::npos) << log;
  EXPECT_NE(log.find(second), std::string::npos);
  EXPECT_NE(testing::http_request(a->port, "GET", "/metrics", "", {}).body.find("framehouse_jobs_taken_over_total{queue=\"video:gen_procedural\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace framehouse
