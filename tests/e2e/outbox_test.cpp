// The mail outbox from outside, on the real binary: a provider that is down loses nothing,
// a kill -9 in the middle neither loses nor doubles a message, and a message whose delivery
// was cut short by a crash is taken over, logged, and still arrives once.
#include <csignal>
#include <filesystem>
#include <regex>
#include <set>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

namespace fs = std::filesystem;

class OutboxEndToEnd : public EndToEnd {
 protected:
  // Retries after 100 ms, then at most a second apart: the outage below spans several.
  std::string extra_config() const override { return "[email]\nfirst_retry_ms = 100\nlongest_retry_seconds = 1\n"; }
  std::string config() const { return testing::server_config(dir.path(), "", database_->options().url) + extra_config(); }
  fs::path folder() const { return dir.path() / "var" / "plugins" / "email_outbox" / "outbox"; }
  void kill() {
    server->process->signal(SIGKILL);
    server->process->wait(std::chrono::seconds(10));
  }
  void start() {
    server = std::make_unique<testing::RunningServer>(config());
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
  std::string message_id(const std::string& text) {
    std::smatch match;
    return std::regex_search(text, match, std::regex("\r\nMessage-ID: <([^>]+)>\r\n")) ? std::string(match[1]) : "";
  }
  boost::json::array outbox_in(const std::string& admin, const std::string& state) {
    const auto listed = call("GET", "/v1/admin/outbox?state=" + state, "", bearer(admin));
    EXPECT_EQ(listed.status, 200) << listed.body;
    return json_of(listed).at("data").as_array();
  }
};

TEST_P(OutboxEndToEnd, AProviderThatIsDownAndAKillInTheMiddleLoseNothingAndDoubleNothing) {
  const std::string admin = administrator();
  // The provider is down: its folder is not a folder (root ignores permissions, so not chmod).
  fs::rename(folder(), dir.path() / "outbox.away");
  testing::write_file(folder(), "not a folder");
  std::vector<std::string> people;
  for (int i = 0; i < 5; ++i) {
    people.push_back("person" + std::to_string(i) + "@example.org");
    const auto signed_up = call("POST", "/v1/accounts", sign_up_body("Person", people.back()));
    EXPECT_EQ(signed_up.status, 202);  // at once: the mail waits in the outbox, not in the request
  }
  // Tried, and tried again with backoff; every try's reason is recorded without the address.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const auto waiting = outbox_in(admin, "ready");
  ASSERT_EQ(waiting.size(), 5u);
  for (const auto& message : waiting) {
    EXPECT_GE(message.at("attempts").as_int64(), 1);
    EXPECT_EQ(message.at("about"), "account: Confirm your email address");
    const std::string reason(message.at("last_error").as_string());
    EXPECT_FALSE(reason.empty());
    EXPECT_EQ(reason.find("@example.org"), std::string::npos) << reason;
  }
  EXPECT_NE(call("GET", "/metrics", "", {}).body.find("framehouse_jobs_retried_total{queue=\"mail\"}"), std::string::npos);

  // kill -9 while they wait; the provider comes back; the server starts again.
  kill();
  fs::remove(folder());
  fs::rename(dir.path() / "outbox.away", folder());
  ASSERT_NO_FATAL_FAILURE(start());
  std::set<std::string> ids;
  for (const auto& person : people) {
    std::vector<testing::OutboxMessage> mails;
    for (int i = 0; i < 300 && mails.empty(); ++i) {
      mails = testing::messages_to(outbox(), person);
      if (mails.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(mails.size(), 1u) << person;
    const std::string id = message_id(mails[0].text);
    EXPECT_EQ(id.rfind("job_", 0), 0u) << id;  // the outbox id: recognisable if it ever came twice
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), people.size());
  EXPECT_TRUE(outbox_in(admin, "ready").empty());
  EXPECT_EQ(outbox_in(admin, "done").size(), 5u);
}

TEST_P(OutboxEndToEnd, AMessageWhoseSendWasCutShortByACrashIsTakenOverLoggedAndArrivesOnce) {
  const std::string admin = administrator();
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Olga", "olga@example.org")).status, 202);
  const auto sent = testing::messages_to(outbox(), "olga@example.org");
  ASSERT_EQ(sent.size(), 1u);
  const std::string id = message_id(sent[0].text);
  ASSERT_FALSE(id.empty());
  const std::string job = id.substr(0, id.find('@'));
  kill();
  {
    // As the database is when the process died after the provider took the message and before
    // it recorded that: the job still running under a worker that is gone, its payload there.
    db::Database database(db::DatabaseOptions{database_->options().url, 1});
    soci::session sql(database.pool());
    const std::string payload = boost::json::serialize(boost::json::object{
        {"envelope_from", "noreply@localhost"}, {"recipients", boost::json::array{"olga@example.org"}},
        {"category", "account"}, {"rfc5322", testing::read_file(sent[0].file)}});
    sql << "UPDATE jobs SET state = 'running', lease_owner = 'mail_dead_0', lease_expires_at_ms = 0, payload = :p,"
           " finished_at_ms = NULL WHERE id = :id",
        soci::use(payload), soci::use(job);
  }
  ASSERT_NO_FATAL_FAILURE(start());
  std::string log;
  for (int i = 0; i < 300 && log.find("job taken over") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server->process->stderr_text();
  }
  EXPECT_NE(log.find("job taken over after its lease ran out"), std::string::npos) << log;
  EXPECT_NE(log.find(job), std::string::npos);
  EXPECT_NE(log.find("mail_dead_0"), std::string::npos);
  EXPECT_EQ(log.find("olga@example.org"), std::string::npos);  // never the address
  const auto after = testing::messages_to(outbox(), "olga@example.org");
  EXPECT_EQ(after.size(), 1u);  // sent again with its Message-ID, which the provider knew
  EXPECT_NE(call("GET", "/metrics", "", {}).body.find("framehouse_jobs_taken_over_total{queue=\"mail\"} 1"), std::string::npos);
  EXPECT_EQ(outbox_in(admin, "done").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
