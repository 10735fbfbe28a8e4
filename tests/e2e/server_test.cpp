// The real framehouse binary, driven over HTTP and by signals, as an admin and clients would.
#include <signal.h>

#include <chrono>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"

namespace framehouse {
namespace {

using testing::ChildProcess;
using testing::HttpConnection;
using testing::http_request;
using testing::run_command;

using testing::RunningServer;
using testing::server_config;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<RunningServer>(server_config(config_dir.path()));
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
  testing::TempDir config_dir;
  std::unique_ptr<RunningServer> server;
};

TEST_F(ServerTest, HealthReadinessAndMetrics) {
  auto health = http_request(server->port, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "{\"status\":\"alive\"}");

  auto ready = http_request(server->port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  const auto body = boost::json::parse(ready.body).as_object();
  EXPECT_EQ(body.at("checks").at("database"), "ok");
  EXPECT_EQ(body.at("checks").at("plugins").at("storage_fs"), "started");
  EXPECT_EQ(body.at("checks").at("plugins").at("email_outbox"), "started");

  auto metrics = http_request(server->port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("framehouse_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("framehouse_plugin_calls_total{plugin=\"storage_fs\",method=\"start\"} 1"), std::string::npos);
}

TEST_F(ServerTest, ProblemsForUnknownPathsMethodsAndLimits) {
  auto missing = http_request(server->port, "GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/problem+json");
  EXPECT_EQ(boost::json::parse(missing.body).at("type"), "urn:framehouse:problem:not-found");

  auto wrong_method = http_request(server->port, "POST", "/healthz", "{}");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("allow"), "GET");

  auto too_big = http_request(server->port, "POST", "/healthz", std::string(5000, 'x'));
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(boost::json::parse(too_big.body).at("type"), "urn:framehouse:problem:payload-too-large");
  EXPECT_EQ(too_big.header("x-request-id").size(), 24u);  // refused before routing, still traceable
  EXPECT_EQ(boost::json::parse(too_big.body).at("request_id"), boost::json::value(too_big.header("x-request-id")));

  // The routes OpenAI's clients call answer in OpenAI's error shape, with the same statuses.
  auto no_video = http_request(server->port, "GET", "/v1/videos/video_missing", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(no_video.status, 401);
  EXPECT_EQ(no_video.header("content-type"), "application/json") << no_video.body;
  const auto error = boost::json::parse(no_video.body).at("error").as_object();
  EXPECT_EQ(error.at("type"), "authentication_error");
  EXPECT_EQ(error.at("code"), "unauthorized");
  EXPECT_TRUE(error.at("param").is_null());
  auto too_big_video = http_request(server->port, "POST", "/v1/videos", std::string(5000, 'x'), {{"X-Request-Id", "trace-me-17"}});
  EXPECT_EQ(too_big_video.status, 413) << too_big_video.body;
  EXPECT_EQ(boost::json::parse(too_big_video.body).at("error").at("code"), "payload_too_large");
  EXPECT_EQ(too_big_video.header("x-request-id"), "trace-me-17");
  auto unknown_under_videos = http_request(server->port, "GET", "/v1/videos/x/y/z");
  EXPECT_EQ(unknown_under_videos.status, 404) << unknown_under_videos.body;
  EXPECT_EQ(boost::json::parse(unknown_under_videos.body).at("error").at("type"), "not_found_error");

  auto huge_header = http_request(server->port, "GET", "/healthz", "", {{"X-Filler", std::string(4000, 'a')}});
  EXPECT_EQ(huge_header.status, 431);

  HttpConnection garbage("127.0.0.1", server->port);
  garbage.send_raw("NOT HTTP AT ALL\r\n\r\n");
  auto bad = garbage.read_response();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("content-type"), "application/problem+json");

  // None of it disturbed the server.
  EXPECT_EQ(http_request(server->port, "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, RequestIdsAndKeepAlive) {
  HttpConnection connection("127.0.0.1", server->port);
  auto first = connection.request("GET", "/healthz", "", {{"X-Request-Id", "trace-abc.1"}});
  EXPECT_EQ(first.header("x-request-id"), "trace-abc.1");
  auto second = connection.request("GET", "/healthz");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-request-id").size(), 24u);
  EXPECT_FALSE(second.closed);
}

TEST(ServerStartup, ConnectionsPastTheLimitAreAnswered503AndClosed) {
  testing::TempDir dir;
  RunningServer limited(server_config(dir.path(), "max_connections = 2\n"));
  ASSERT_NE(limited.port, 0) << limited.process->stderr_text();
  {
    // Two idle clients hold every connection the server allows.
    HttpConnection first("127.0.0.1", limited.port);
    HttpConnection second("127.0.0.1", limited.port);
    ASSERT_EQ(first.request("GET", "/healthz").status, 200);
    ASSERT_EQ(second.request("GET", "/healthz").status, 200);
    HttpConnection third("127.0.0.1", limited.port);
    const auto refused = third.read_response();
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.header("content-type"), "application/problem+json");
    EXPECT_EQ(refused.header("retry-after"), "1");
    EXPECT_TRUE(third.closed_by_peer(2000));
    // The held connections still work.
    EXPECT_EQ(first.request("GET", "/healthz").status, 200);
  }
  // Once they are gone, new clients are served again. (Each closed connection counts until
  // the server has read its end, so a request right after another may still find the limit.)
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    served = http_request(limited.port, "GET", "/healthz").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
  EXPECT_NE(limited.process->stderr_text().find("connection limit reached"), std::string::npos);
}

TEST_F(ServerTest, LogsAreJsonLinesWithoutSecrets) {
  http_request(server->port, "GET", "/healthz?token=supersecret", "", {{"Authorization", "Bearer supersecret"}});
  http_request(server->port, "GET", "/healthz");  // the first request's log line is written by now
  const std::string logs = server->process->stderr_text();
  EXPECT_EQ(logs.find("supersecret"), std::string::npos) << logs;
  std::istringstream lines(logs);
  int parsed = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NO_THROW(boost::json::parse(line)) << line;
    ++parsed;
  }
  EXPECT_GT(parsed, 3);
}

TEST_F(ServerTest, SigtermDrainsAndStopsPluginsInReverseOrder) {
  HttpConnection idle("127.0.0.1", server->port);
  ASSERT_EQ(idle.request("GET", "/healthz").status, 200);
  server->process->signal(SIGTERM);
  EXPECT_EQ(server->process->wait(std::chrono::seconds(10)), 0);
  EXPECT_TRUE(idle.closed_by_peer(1000));
  const std::string logs = server->process->stderr_text();
  const auto email_stopped = logs.find("\"msg\":\"plugin stopped\",\"plugin\":\"email_outbox\"");
  const auto storage_stopped = logs.find("\"msg\":\"plugin stopped\",\"plugin\":\"storage_fs\"");
  ASSERT_NE(email_stopped, std::string::npos) << logs;
  ASSERT_NE(storage_stopped, std::string::npos) << logs;
  EXPECT_LT(email_stopped, storage_stopped);  // started storage_fs first, so it stops last
}

TEST(ServerStartup, ServesOnPostgreSql) {
  if (std::getenv("FRAMEHOUSE_TEST_POSTGRES_URL") == nullptr) {
    if (const char* required = std::getenv("FRAMEHOUSE_REQUIRE_POSTGRES"); required && std::string(required) == "1") {
      FAIL() << "FRAMEHOUSE_TEST_POSTGRES_URL is not set but PostgreSQL is required";
    }
    GTEST_SKIP() << "no PostgreSQL server (run through tests/run-all.sh)";
  }
  testing::TempDir dir;
  // The URL comes from the environment, as a production secret would.
  std::string config = server_config(dir.path());
  const auto url_line = config.find("url = ");
  config.replace(url_line, config.find('\n', url_line) - url_line, "url = \"env:FRAMEHOUSE_TEST_POSTGRES_URL\"");
  RunningServer postgres(config);
  ASSERT_NE(postgres.port, 0) << postgres.process->stderr_text();
  auto ready = http_request(postgres.port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(postgres.process->stderr_text().find("\"backend\":\"postgresql\""), std::string::npos);
  postgres.process->signal(SIGTERM);
  EXPECT_EQ(postgres.process->wait(std::chrono::seconds(10)), 0);
}

TEST(ServerStartup, RefusesAnIncompatiblePluginWithThePreciseMessage) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "framehouse.toml",
                      server_config(dir.path()) + "[plugins.wrong_major]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/wrong_major.so\"\n");
  const auto result = run_command({FRAMEHOUSE_BINARY, "serve", "--config", (dir.path() / "framehouse.toml").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find(FRAMEHOUSE_FIXTURE_DIR "/wrong_major.so: incompatible with this server: storage interface: "
                            "expected 1.x with x <= 0, found 2.0"),
            std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("listening"), std::string::npos);
}

TEST(ServerStartup, CheckConfigReportsEveryErrorAndExitsNonZero) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "bad.toml", "[server]\nthreads = 0\nlisten = 5\n[log]\nlevel = \"loud\"\n");
  const auto result = run_command({FRAMEHOUSE_BINARY, "check-config", (dir.path() / "bad.toml").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("bad.toml:2:11: server.threads: 0 is out of range [1, 256]"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("bad.toml:3:10: server.listen: expected string, found integer"), std::string::npos);
  EXPECT_NE(result.err.find("bad.toml:5:9: log.level: 'loud' is not one of: debug, info, warn, error"), std::string::npos);
  EXPECT_NE(result.err.find("configuration errors"), std::string::npos);

  const auto good = run_command({FRAMEHOUSE_BINARY, "check-config", FRAMEHOUSE_SOURCE_DIR "/config/framehouse.toml"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("valid (4 plugins enabled)"), std::string::npos);
}

// An admin command run with a configuration whose database is not there says so, instead of
// creating an empty database and reporting that nothing was found.
TEST(ServerStartup, AdminCommandsRefuseADatabaseThatIsNotThere) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "framehouse.toml",
                      "[server]\ndata_dir = \"var\"\n[database]\nurl = \"sqlite:var/framehouse.db\"\n"
                      "[plugins]\ndirectory = \"" FRAMEHOUSE_PLUGIN_DIR "\"\n[plugins.storage_fs]\n[plugins.email_outbox]\n");
  const auto config = (dir.path() / "framehouse.toml").string();
  const auto set_role = run_command({FRAMEHOUSE_BINARY, "admin", "set-role", "--config", config, "--email", "a@example.org",
                                     "--role", "admin"});
  EXPECT_EQ(set_role.exit_code, 1);
  EXPECT_NE(set_role.err.find("no database at " + (dir.path() / "var" / "framehouse.db").string()), std::string::npos)
      << set_role.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var" / "framehouse.db"));
  EXPECT_EQ(run_command({FRAMEHOUSE_BINARY, "audit", "verify", "--config", config}).exit_code, 1);
  // The first administrator may be made before the server ever ran: where the server will look.
  const auto created = run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config", config, "--email", "a@example.org",
                                    "--name", "A", "--admin"},
                                   {}, "an admin pass phrase\n");
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "var" / "framehouse.db"));
  EXPECT_EQ(run_command({FRAMEHOUSE_BINARY, "audit", "verify", "--config", config}).exit_code, 0);
}

TEST(ServerStartup, PluginInspectPrintsManifestAndVerdict) {
  const auto good = run_command({FRAMEHOUSE_BINARY, "plugin", "inspect", FRAMEHOUSE_PLUGIN_DIR "/storage_fs.so"});
  EXPECT_EQ(good.exit_code, 0);
  EXPECT_NE(good.out.find("name:          storage_fs"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("interfaces:    storage 1.0 privacy 1.2"), std::string::npos);
  EXPECT_NE(good.out.find("verdict:       compatible"), std::string::npos);

  const auto bad = run_command({FRAMEHOUSE_BINARY, "plugin", "inspect", FRAMEHOUSE_FIXTURE_DIR "/wrong_major.so"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("storage interface: expected 1.x with x <= 0, found 2.0"), std::string::npos) << bad.out;

  // What serve would refuse, inspect and check-config refuse too.
  const auto no_privacy = run_command({FRAMEHOUSE_BINARY, "plugin", "inspect", FRAMEHOUSE_FIXTURE_DIR "/no_privacy.so"});
  EXPECT_EQ(no_privacy.exit_code, 1);
  EXPECT_NE(no_privacy.out.find("verdict:       refused: declares personal data (user_content) but does not implement the privacy"),
            std::string::npos)
      << no_privacy.out;
  testing::TempDir dir;
  testing::write_file(dir.path() / "framehouse.toml",
                      "[plugins]\ndirectory = \"" FRAMEHOUSE_PLUGIN_DIR "\"\n[plugins.storage_fs]\n[plugins.email_outbox]\n"
                      "[plugins.no_privacy]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/no_privacy.so\"\n"
                      "[storage]\nplugin = \"no_privacy\"\n");
  const auto checked = run_command({FRAMEHOUSE_BINARY, "check-config", (dir.path() / "framehouse.toml").string()});
  EXPECT_EQ(checked.exit_code, 2);
  EXPECT_NE(checked.err.find("framehouse.toml:6:8: plugins.no_privacy.path: plugin no_privacy"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("does not implement the privacy participant interface"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find(": 1 configuration error"), std::string::npos) << checked.err;  // not "no enabled plugin"
}

TEST(ServerStartup, UnreadableSecretFileIsAConfigError) {
  testing::TempDir dir;
  RunningServer server(server_config(dir.path()) + "[email]\nplugin = \"file:" + (dir.path() / "absent").string() + "\"\n");
  EXPECT_EQ(server.port, 0);
  EXPECT_EQ(server.process->wait(std::chrono::seconds(10)), 2);
  EXPECT_NE(server.process->stderr_text().find("email.plugin: cannot read secret file"), std::string::npos)
      << server.process->stderr_text();
}

TEST(ServerStartup, HelpAndUsageErrors) {
  const auto help = run_command({FRAMEHOUSE_BINARY, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"serve", "check-config", "plugin inspect"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
  }
  EXPECT_EQ(run_command({FRAMEHOUSE_BINARY, "frobnicate"}).exit_code, 2);
}

TEST(ServerStartup, ServesHttpsWhenTlsIsConfigured) {
  testing::TempDir dir;
  const auto key = dir.path() / "key.pem";
  const auto cert = dir.path() / "cert.pem";
  const auto made = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                 "-subj", "/CN=localhost", "-keyout", key.string(), "-out", cert.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  RunningServer tls(server_config(dir.path(), "[server.tls]\nenabled = true\ncertificate = \"" + cert.string() +
                                                "\"\nprivate_key = \"" + key.string() + "\"\n"));
  ASSERT_NE(tls.port, 0) << tls.process->stderr_text();
  const auto fetched = run_command({"/usr/bin/curl", "-sS", "-D", (dir.path() / "headers").string(), "--cacert",
                                    cert.string(), "--resolve", "localhost:" + std::to_string(tls.port) + ":127.0.0.1",
                                    "https://localhost:" + std::to_string(tls.port) + "/healthz"});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(fetched.out, "{\"status\":\"alive\"}");
  // Browsers are told to keep to HTTPS.
  EXPECT_NE(testing::read_file(dir.path() / "headers").find("Strict-Transport-Security: max-age=31536000"),
            std::string::npos);
}

}  // namespace
}  // namespace framehouse
