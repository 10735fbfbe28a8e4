// The fixture of the end-to-end tests: the real binary on SQLite or PostgreSQL, members
// who signed up through the mailed link, and the calls a client makes.
#pragma once

#include <chrono>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "db/database.hpp"
#include "support/databases.hpp"
#include "support/http_client.hpp"
#include "support/outbox.hpp"
#include "support/running_server.hpp"

namespace framehouse {

using testing::http_request;
using testing::HttpResponse;

inline const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"}};
inline const std::string kPassword = "correct horse battery";

inline std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

inline boost::json::object json_of(const HttpResponse& response) { return boost::json::parse(response.body).as_object(); }

inline std::string sign_up_body(const std::string& name, const std::string& email, const std::string& birth = "1990-05-01") {
  return boost::json::serialize(boost::json::object{
      {"name", name}, {"email", email}, {"password", kPassword}, {"date_of_birth", birth}});
}

// A multipart/form-data upload of `bytes` as the part "file".
inline std::pair<std::string, std::map<std::string, std::string>> image_upload(const std::string& bytes, const std::string& token) {
  const std::string boundary = "fh-test-boundary-7f3a";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n" + bytes + "\r\n--" + boundary + "--\r\n";
  auto headers = bearer(token);
  headers["Content-Type"] = "multipart/form-data; boundary=" + boundary;
  return {body, headers};
}

inline std::string small_png() {
  testing::TempDir dir;
  const auto path = dir.path() / "small.png";
  const auto made = testing::run_command({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64",
                                          "-frames:v", "1", path.string()});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return testing::read_file(path);
}

class EndToEnd : public ::testing::TestWithParam<db::Backend> {
 public:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    server = std::make_unique<testing::RunningServer>(
        testing::server_config(dir.path(), "", database_->options().url, accounts_config()) + extra_config());
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
  // Creates the admin "root@example.org" with the command line and signs in. Returns the token.
  std::string administrator() {
    const auto created = testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config",
                                               server->config_file().string(), "--email", "root@example.org", "--name",
                                               "Root", "--admin"},
                                              {}, "an admin pass phrase\n");
    EXPECT_EQ(created.exit_code, 0) << created.err;
    const auto session = call("POST", "/v1/sessions", R"({"email":"root@example.org","password":"an admin pass phrase"})");
    EXPECT_EQ(session.status, 201) << session.body;
    return std::string(json_of(session).at("token").as_string());
  }
  // A failed test shows the end of the server's log (a crash shows up there).
  void TearDown() override {
    if (!HasFailure() || !server) return;
    const std::string log = server->process->stderr_text();
    std::cerr << "--- server log (last 4000 bytes) ---\n" << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
  }
  // Sections appended to the server's configuration.
  virtual std::string extra_config() const { return ""; }
  // Lines added to the [accounts] section.
  virtual std::string accounts_config() const { return ""; }
  // The folder the email plugin writes to, once the server's outbox handed it all that is due.
  std::filesystem::path outbox() {
    testing::wait_for_queues(server->port);
    return dir.path() / "var" / "plugins" / "email_outbox" / "outbox";
  }
  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::map<std::string, std::string>& headers = kJson) {
    return http_request(server->port, method, target, body, headers);
  }
  // Posts an announcement (queued work) and waits until it went through everyone; returns what
  // it reports (queued, skipped).
  boost::json::object announce(const std::string& admin_token, const std::string& body) {
    const auto posted = call("POST", "/v1/admin/announcements", body, bearer(admin_token));
    EXPECT_EQ(posted.status, 202) << posted.body;
    if (posted.status != 202) return {};
    const std::string location = posted.header("location");
    for (int i = 0; i < 400; ++i) {
      auto state = json_of(call("GET", location, "", bearer(admin_token)));
      if (state.at("status") == "done" || state.at("status") == "failed") return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "the announcement did not finish";
    return {};
  }
  int users_in_database() {
    db::Database database(db::DatabaseOptions{database_->options().url, 1});
    soci::session sql(database.pool());
    int n = 0;
    sql << "SELECT COUNT(*) FROM users", soci::into(n);
    return n;
  }
  // Signs up, follows the link in the mail, clicks the button, signs in. Returns the token.
  std::string member(const std::string& name, const std::string& email) {
    EXPECT_EQ(call("POST", "/v1/accounts", sign_up_body(name, email)).status, 202);
    const auto mails = testing::messages_to(outbox(), email);
    EXPECT_EQ(mails.size(), 1u);
    if (mails.empty()) return "";
    const auto confirmed = follow_mailed_link("/v1/accounts/verify-email", testing::token_in(mails.back().text));
    EXPECT_EQ(confirmed.status, 200);
    EXPECT_NE(confirmed.body.find("Email address confirmed"), std::string::npos);
    return session_token(email);
  }

  // A link mailed with a single-use token, as a browser follows it: the page with its button,
  // then the button's form post (whose answer is returned).
  testing::HttpResponse follow_mailed_link(const std::string& path, const std::string& token) {
    const auto page = call("GET", path + "?token=" + token, "", {});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos);
    return call("POST", path, "token=" + token, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  // Signs in with the test password; the new session's token.
  std::string session_token(const std::string& email) {
    const auto session = call("POST", "/v1/sessions",
                              boost::json::serialize(boost::json::object{{"email", email}, {"password", kPassword}}));
    EXPECT_EQ(session.status, 201) << session.body;
    return std::string(json_of(session).at("token").as_string());
  }

  std::unique_ptr<testing::TestDatabase> database_;
  testing::TempDir dir;
  std::unique_ptr<testing::RunningServer> server;
};


}  // namespace framehouse
