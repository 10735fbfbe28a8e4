// Real mail end to end: the server's outbox delivering through email_smtp to Debian's aiosmtpd
// over STARTTLS with AUTH; a relay down for a while loses nothing.
#include "e2e/end_to_end.hpp"
#include "support/smtp_server.hpp"

namespace framehouse {
namespace {

class SmtpEndToEnd : public EndToEnd {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command({"/usr/bin/python3", "-c", "import aiosmtpd"}).exit_code, 0)
        << "python3-aiosmtpd is missing (deploy/setup.sh test installs it)";
    relay = std::make_unique<testing::SmtpServer>(dir.path() / "relay");
    port = relay->start("starttls");
    EndToEnd::SetUp();
  }
  // Retries after 100 ms, then at most a second apart: the outage below spans several.
  std::string extra_config() const override {
    return "[plugins.email_smtp]\nurl = \"smtp://127.0.0.1:" + std::to_string(port) + "\"\nusername = \"" +
           testing::SmtpServer::kUser + "\"\npassword = \"" + testing::SmtpServer::kPassword + "\"\nca_file = \"" +
           relay->ca_file().string() + "\"\n[email]\nplugin = \"email_smtp\"\nfirst_retry_ms = 100\nlongest_retry_seconds = 1\n";
  }
  std::unique_ptr<testing::SmtpServer> relay;
  std::uint16_t port = 0;
};

TEST_P(SmtpEndToEnd, SignUpMailArrivesAndARelayOutageLosesNothing) {
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Alice", "alice@example.org")).status, 202);
  const auto first = relay->messages_to("alice@example.org", 1, std::chrono::seconds(20));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].find("Subject: Confirm your email address\r\n"), std::string::npos) << first[0];
  EXPECT_NE(first[0].find("/verify-email?token=fhe_"), std::string::npos);
  EXPECT_EQ(testing::SmtpServer::envelope_of(relay->messages().front()).at("tls"), true);

  relay->stop();
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Bob", "bob@example.org")).status, 202);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // several tries fail meanwhile
  EXPECT_TRUE(relay->messages_to("bob@example.org", 1, std::chrono::seconds(0)).empty());
  relay->start("starttls", port);
  const auto later = relay->messages_to("bob@example.org", 1, std::chrono::seconds(20));
  ASSERT_EQ(later.size(), 1u);  // once, not once per try
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(relay->messages_to("bob@example.org", 2, std::chrono::seconds(0)).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SmtpEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
