// One deployment on two `framehouse` processes sharing what a real one shares: one PostgreSQL
// database, one S3-compatible bucket (s3rver behind the SigV4-checking front), one SMTP relay
// (aiosmtpd with STARTTLS and AUTH) and the master key — nothing else, no layer of our own
// between the nodes. A person signs up on one node and confirms and signs in on the other;
// videos submitted to either are rendered once each by whichever node claims them; a stream on
// one node follows a video the other rendered; `kill -9` of a node in the middle of a video and
// of an erasure leaves both to the other node, with nothing of the erased person left in the
// database or the bucket.
#include <csignal>
#include <regex>
#include <thread>

#include "e2e/end_to_end.hpp"
#include "support/s3_server.hpp"
#include "support/smtp_server.hpp"

namespace framehouse {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::RunningServer;

class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    database = std::make_unique<testing::TestDatabase>(db::Backend::postgresql);
    if (database->skipped()) GTEST_SKIP() << "no PostgreSQL server (run tests/run-all.sh)";
    ASSERT_TRUE(database->available());
    store = std::make_unique<testing::S3Server>(shared.path() / "s3");
    store->start();
    relay = std::make_unique<testing::SmtpServer>(shared.path() / "relay");
    relay_port = relay->start("starttls");
    ASSERT_NE(relay_port, 0);
  }
  void TearDown() override {
    if (!HasFailure()) return;
    for (auto* node : {a.get(), b.get()}) {
      if (node == nullptr) continue;
      const std::string log = node->process->stderr_text();
      std::cerr << "--- node log (last 3000 bytes) ---\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0) << "\n";
    }
  }

  // A node: its own data directory and port; the database, the bucket, the relay and the
  // master key shared.
  std::unique_ptr<RunningServer> start_node(const fs::path& dir, int video_workers) {
    const std::string config =
        testing::server_config(dir, "", database->options().url) + "[plugins.storage_s3]\n" + store->plugin_settings() +
        "[storage]\nplugin = \"storage_s3\"\n"
        "[plugins.email_smtp]\nurl = \"smtp://127.0.0.1:" + std::to_string(relay_port) + "\"\nusername = \"" +
        testing::SmtpServer::kUser + "\"\npassword = \"" + testing::SmtpServer::kPassword + "\"\nca_file = \"" +
        relay->ca_file().string() + "\"\n[email]\nplugin = \"email_smtp\"\nfirst_retry_ms = 100\nlongest_retry_seconds = 1\n"
        "[video]\nworkers = " + std::to_string(video_workers) + "\nlease_seconds = 2\n"
        "[privacy]\nmaster_key = \"" + std::string(64, 'c') + "\"\nlease_seconds = 3\nretry_base_seconds = 1\n";
    auto node = std::make_unique<RunningServer>(config);
    EXPECT_NE(node->port, 0) << node->process->stderr_text();
    return node;
  }

  // Signs up on `sign_up_on`, follows the mailed link and signs in on `confirm_on`.
  std::string member(const RunningServer& sign_up_on, const RunningServer& confirm_on, const std::string& email) {
    EXPECT_EQ(http_request(sign_up_on.port, "POST", "/v1/accounts", sign_up_body("Member", email), kJson).status, 202);
    const auto mails = relay->messages_to(email, 1, std::chrono::seconds(20));
    EXPECT_EQ(mails.size(), 1u);
    if (mails.empty()) return "";
    const std::string token = testing::token_in(mails.front());
    const auto confirmed = http_request(confirm_on.port, "POST", "/v1/accounts/verify-email", "token=" + token,
                                        {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(confirmed.status, 200) << confirmed.body;
    const auto session = http_request(confirm_on.port, "POST", "/v1/sessions",
                                      json::serialize(json::object{{"email", email}, {"password", kPassword}}), kJson);
    EXPECT_EQ(session.status, 201) << session.body;
    return session.status == 201 ? std::string(json_of(session).at("token").as_string()) : "";
  }
  static std::string user_id(const RunningServer& node, const std::string& token) {
    return std::string(json_of(http_request(node.port, "GET", "/v1/me", "", bearer(token))).at("id").as_string());
  }
  static std::string submit(const RunningServer& node, const std::string& token, const std::string& body) {
    const auto response = http_request(node.port, "POST", "/v1/videos", body, bearer(token));
    EXPECT_EQ(response.status, 200) << response.body;
    return response.status == 200 ? std::string(json_of(response).at("id").as_string()) : "";
  }
  static std::string status_of(const RunningServer& node, const std::string& token, const std::string& id) {
    const auto response = http_request(node.port, "GET", "/v1/videos/" + id, "", bearer(token));
    return response.status == 200 ? std::string(json_of(response).at("status").as_string()) : "http " + std::to_string(response.status);
  }
  static std::string wait_for(const RunningServer& node, const std::string& token, const std::string& id,
                              const std::string& status, std::chrono::seconds within = std::chrono::seconds(90)) {
    const auto until = std::chrono::steady_clock::now() + within;
    std::string now;
    while ((now = status_of(node, token, id)) != status && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return now;
  }
  // How many times each video was started (an engine run), over every node's log.
  static std::map<std::string, int> engine_runs(const std::vector<const RunningServer*>& nodes) {
    std::map<std::string, int> runs;
    const std::regex started("\"msg\":\"job started\",\"video\":\"(video_[0-9a-f]+)\"");
    for (const auto* node : nodes) {
      const std::string logs = node->process->stderr_text();
      for (std::sregex_iterator it(logs.begin(), logs.end(), started), end; it != end; ++it) ++runs[(*it)[1]];
    }
    return runs;
  }
  int rows(const std::string& query, const std::string& value) {
    db::Database check(database->options());
    soci::session sql(check.pool());
    int n = 0;
    sql << query, soci::use(value), soci::into(n);
    return n;
  }

  testing::TempDir shared, dir_a, dir_b;
  std::unique_ptr<testing::TestDatabase> database;
  std::unique_ptr<testing::S3Server> store;
  std::unique_ptr<testing::SmtpServer> relay;
  std::uint16_t relay_port = 0;
  std::unique_ptr<RunningServer> a, b;
};

TEST_F(TwoNodes, EitherNodeServesEveryoneRendersEachVideoOnceAndStreamsWhatTheOtherRendered) {
  a = start_node(dir_a.path(), 1);
  b = start_node(dir_b.path(), 1);
  ASSERT_TRUE(a->port != 0 && b->port != 0);
  const std::string token = member(*a, *b, "ada@example.org");  // signed up on A, confirmed and signed in on B
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(http_request(a->port, "GET", "/v1/me", "", bearer(token)).status, 200);  // B's session works on A

  // Both nodes watch each video; whichever node rendered it, the other's stream ends with it.
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(submit(i % 2 == 0 ? *a : *b, token, R"({"prompt":"shared )" + std::to_string(i) + R"(","seconds":"1","size":"512x512"})"));
  }
  for (const auto& id : ids) ASSERT_FALSE(id.empty());
  std::map<std::string, std::array<std::string, 2>> streams;
  std::vector<std::thread> watchers;
  std::mutex mutex;
  for (const auto& id : ids) {
    for (int n = 0; n < 2; ++n) {
      watchers.emplace_back([&, id, n] {
        testing::HttpConnection connection("127.0.0.1", n == 0 ? a->port : b->port);
        connection.send_raw("GET /v1/videos/" + id + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n");
        std::string stream = connection.read_until_closed();
        std::lock_guard lock(mutex);
        streams[id][n] = std::move(stream);
      });
    }
  }
  for (auto& watcher : watchers) watcher.join();
  for (const auto& id : ids) EXPECT_EQ(wait_for(*a, token, id, "completed"), "completed") << id;

  const auto runs = engine_runs({a.get(), b.get()});
  EXPECT_EQ(runs.size(), ids.size());
  for (const auto& [id, count] : runs) EXPECT_EQ(count, 1) << id << " ran " << count << " times";
  const std::string log_a = a->process->stderr_text();
  for (const auto& id : ids) {
    const bool rendered_by_a = log_a.find("\"msg\":\"job started\",\"video\":\"" + id + "\"") != std::string::npos;
    const std::string& other = streams[id][rendered_by_a ? 1 : 0];
    EXPECT_NE(other.find("event: video.completed"), std::string::npos) << id << ": " << other;
  }

  // The video is in the bucket, sealed: AWS's own client reads ciphertext only, and either node
  // serves the same plaintext.
  const std::string owner = user_id(*a, token);
  const auto keys = store->list("framehouse/" + owner + "/");
  EXPECT_EQ(keys.size(), 2 * ids.size()) << "an MP4 and a thumbnail each";
  const std::string sealed = store->read_object("framehouse/" + owner + "/" + ids[0] + ".mp4");
  EXPECT_EQ(sealed.substr(0, 4), "FHS1");
  EXPECT_EQ(sealed.find("ftyp"), std::string::npos);
  const auto from_a = http_request(a->port, "GET", "/v1/videos/" + ids[0] + "/content", "", bearer(token));
  const auto from_b = http_request(b->port, "GET", "/v1/videos/" + ids[0] + "/content", "", bearer(token));
  ASSERT_EQ(from_a.status, 200);
  EXPECT_EQ(from_a.body.substr(4, 4), "ftyp");
  EXPECT_TRUE(from_a.body == from_b.body);
}

TEST_F(TwoNodes, AKilledNodeLeavesItsVideoAndItsErasureToTheOtherWithNothingLeftOfThePerson) {
  a = start_node(dir_a.path(), 1);
  ASSERT_NE(a->port, 0);
  const auto admin_made = testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config", a->config_file().string(),
                                                "--email", "root@example.org", "--name", "Root", "--admin"},
                                               {}, "an admin pass phrase\n");
  ASSERT_EQ(admin_made.exit_code, 0) << admin_made.err;
  const std::string keeper = member(*a, *a, "keeper@example.org");
  const std::string leaver = member(*a, *a, "leaver@example.org");
  ASSERT_FALSE(keeper.empty() || leaver.empty());
  const std::string leaver_id = user_id(*a, leaver);
  const std::string made = submit(*a, leaver, R"({"prompt":"to be erased","seconds":"1","size":"512x512"})");
  ASSERT_EQ(wait_for(*a, leaver, made, "completed"), "completed");
  ASSERT_FALSE(store->list("framehouse/" + leaver_id + "/").empty());

  // A renders a long video, and starts an erasure that the bucket keeps failing for now.
  const std::string long_take = submit(*a, keeper, R"({"prompt":"a long take","seconds":"20","size":"1280x720"})");
  ASSERT_EQ(wait_for(*a, keeper, long_take, "in_progress"), "in_progress");
  store->inject(R"([{"method":"POST","query":"delete","status":503,"code":"SlowDown","times":100000}])");
  const auto deletion = http_request(a->port, "DELETE", "/v1/me", "", bearer(leaver));
  ASSERT_EQ(deletion.status, 202) << deletion.body;
  const std::string erasure(json_of(deletion).at("id").as_string());
  const auto refused_deletes = [&] {
    int n = 0;
    for (const auto& entry : store->requests()) {
      const auto& object = entry.as_object();
      n += object.at("method") == "POST" && object.contains("status") && object.at("status") == 503 ? 1 : 0;
    }
    return n;
  };
  for (int i = 0; i < 200 && refused_deletes() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GT(refused_deletes(), 0) << "the erasure did not reach the bucket";
  ASSERT_EQ(status_of(*a, keeper, long_take), "in_progress");

  a->process->signal(SIGKILL);
  a->process->wait(std::chrono::seconds(10));
  store->clear_faults();
  b = start_node(dir_b.path(), 1);
  ASSERT_NE(b->port, 0);

  // B takes both over once their leases ran out.
  EXPECT_EQ(wait_for(*b, keeper, long_take, "completed"), "completed");
  EXPECT_NE(b->process->stderr_text().find("job taken over after its lease ran out"), std::string::npos);
  const auto admin_session = http_request(b->port, "POST", "/v1/sessions", R"({"email":"root@example.org","password":"an admin pass phrase"})", kJson);
  ASSERT_EQ(admin_session.status, 201);
  const std::string admin(json_of(admin_session).at("token").as_string());
  json::object request;
  for (int i = 0; i < 1200; ++i) {
    request = json_of(http_request(b->port, "GET", "/v1/admin/privacy/requests/" + erasure, "", bearer(admin)));
    if (request.at("status") == "completed" || request.at("status") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(request.at("status"), "completed") << json::serialize(request);
  for (const auto& task : request.at("tasks").as_array()) EXPECT_EQ(task.at("status"), "done") << json::serialize(task);

  // Nothing of the person is left: not in the database, not in the bucket (objects or parts).
  EXPECT_TRUE(store->list("framehouse/" + leaver_id + "/").empty());
  EXPECT_TRUE(store->multipart_uploads("framehouse/" + leaver_id + "/").empty());
  EXPECT_EQ(rows("SELECT COUNT(*) FROM users WHERE id = :id", leaver_id), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM videos WHERE owner_id = :id", leaver_id), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM credentials WHERE user_id = :id", leaver_id), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM data_keys WHERE person_id = :id", leaver_id), 0);
  // The keeper's video is whole, served from the bucket by the node that finished it.
  const auto content = http_request(b->port, "GET", "/v1/videos/" + long_take + "/content", "", bearer(keeper));
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body.substr(4, 4), "ftyp");
}

}  // namespace
}  // namespace framehouse
