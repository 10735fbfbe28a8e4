// email_smtp, the shipped plugin, against a real SMTP server on loopback: Debian's aiosmtpd
// (tests/compat/smtp_server, support/smtp_server) with STARTTLS, implicit TLS or none, AUTH, and
// answers of 4xx and 5xx on demand; certificates from a throwaway CA made with openssl.
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "framehouse/sdk/email.hpp"
#include "support/certificates.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/smtp_server.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

namespace fs = std::filesystem;

std::string message(const std::string& to, const std::string& id, const std::string& extra_header = "") {
  return "From: Framehouse <noreply@example.org>\r\n"
         "To: " + to + "\r\n"
         "Subject: Your video is ready\r\n"
         "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
         "Message-ID: <" + id + "@example.org>\r\n"
         "List-Unsubscribe: <https://video.example.org/v1/unsubscribe/unsub_x>\r\n"
         "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" + extra_header +
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Hello.\r\n"
         ".a line that starts with a dot, which SMTP must stuff and unstuff\r\n"
         "..and two\r\n"
         ".\r\n"
         "The end.\r\n";
}

class EmailSmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command({"/usr/bin/python3", "-c", "import aiosmtpd"}).exit_code, 0)
        << "python3-aiosmtpd is missing (deploy/setup.sh test installs it)";
    relay = std::make_unique<testing::SmtpServer>(dir.path() / "relay");
  }

  std::uint16_t start_server(const std::string& mode, std::uint16_t port = 0) { return relay->start(mode, port); }
  // The plugin, loaded through the host as the server loads it.
  sdk::EmailProvider* plugin(const std::string& url, const std::string& ca_file = "", const std::string& password = "relay secret") {
    host = std::make_unique<plugins::PluginHost>(metrics, dir.path() / ("plugin-" + std::to_string(++hosts)));
    const auto error = testing::load_plugin(*host, testing::shipped_plugin("email_smtp"),
                                            "url = \"" + url + "\"\nusername = \"framehouse\"\npassword = \"" + password +
                                                "\"\nca_file = \"" + (ca_file.empty() ? relay->ca_file().string() : ca_file) +
                                                "\"\ntimeout_ms = 5000\nconnect_timeout_ms = 2000\n");
    EXPECT_FALSE(error) << *error;
    EXPECT_FALSE(host->start_all());
    return host->find("email_smtp")->find<sdk::EmailProvider>();
  }
  sdk::Result<std::string> send(sdk::EmailProvider* email, const std::string& to, const std::string& id,
                                const std::string& extra_header = "") {
    return email->send({"noreply@example.org", {to}, "product_updates", "usr_alice", message(to, id, extra_header), id});
  }
  std::vector<fs::path> messages() const { return relay->messages(); }
  static boost::json::object envelope_of(const fs::path& eml) { return testing::SmtpServer::envelope_of(eml); }

  testing::TempDir dir;
  observability::Metrics metrics;
  std::unique_ptr<plugins::PluginHost> host;
  std::unique_ptr<testing::SmtpServer> relay;
  int hosts = 0;
};

TEST_F(EmailSmtpTest, DeliversOverStartTlsWithAuthByteForByteOnOneConnection) {
  const auto port = start_server("starttls");
  auto* email = plugin("smtp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(send(email, "alice@example.org", "m1").ok());
  ASSERT_TRUE(send(email, "bob@example.org", "m2").ok());
  const auto files = messages();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(testing::read_file(files[0]), message("alice@example.org", "m1"));  // headers, CRLF, dots: the same bytes
  const auto first = envelope_of(files[0]);
  EXPECT_EQ(first.at("mail_from"), "noreply@example.org");
  EXPECT_EQ(first.at("rcpt_tos"), boost::json::parse(R"(["alice@example.org"])"));
  EXPECT_EQ(first.at("tls"), true);
  EXPECT_EQ(first.at("authenticated"), true);
  // The second message came over the same connection.
  EXPECT_EQ(envelope_of(files[1]).at("peer_port"), first.at("peer_port"));
  // The same message (the host's retry after a crash) is not sent twice.
  ASSERT_TRUE(send(email, "alice@example.org", "m1").ok());
  EXPECT_EQ(messages().size(), 2u);
}

TEST_F(EmailSmtpTest, ImplicitTlsWorksToo) {
  const auto port = start_server("implicit");
  const auto sent = send(plugin("smtps://127.0.0.1:" + std::to_string(port)), "alice@example.org", "m1");
  ASSERT_TRUE(sent.ok()) << sent.outcome().message();
  ASSERT_EQ(messages().size(), 1u);
  EXPECT_EQ(envelope_of(messages()[0]).at("tls"), true);
}

TEST_F(EmailSmtpTest, NeverSendsInTheClearOrToAnUntrustedCertificateOrWithAWrongPassword) {
  auto port = start_server("plain");
  const auto clear = send(plugin("smtp://127.0.0.1:" + std::to_string(port)), "alice@example.org", "m1");
  EXPECT_EQ(clear.outcome().status(), sdk::Status::unavailable);
  EXPECT_NE(clear.outcome().message().find("STARTTLS"), std::string::npos) << clear.outcome().message();
  relay->stop();
  port = start_server("starttls");
  testing::make_certificates(dir.path() / "other", "other-ca");  // a CA that did not sign the server's certificate
  const auto untrusted = send(plugin("smtp://127.0.0.1:" + std::to_string(port), (dir.path() / "other/other-ca.pem").string()),
                              "alice@example.org", "m2");
  EXPECT_EQ(untrusted.outcome().status(), sdk::Status::unavailable);
  EXPECT_NE(untrusted.outcome().message().find("certificate"), std::string::npos) << untrusted.outcome().message();
  const auto refused = send(plugin("smtp://127.0.0.1:" + std::to_string(port), "", "wrong"), "alice@example.org", "m3");
  EXPECT_EQ(refused.outcome().status(), sdk::Status::unavailable);
  EXPECT_TRUE(messages().empty());
}

TEST_F(EmailSmtpTest, TemporaryRefusalsAreRetriedPermanentOnesSuppressTheRecipient) {
  const auto port = start_server("starttls");
  auto* email = plugin("smtp://127.0.0.1:" + std::to_string(port));
  const auto later = send(email, "tempfail@example.org", "m1");
  EXPECT_EQ(later.outcome().status(), sdk::Status::unavailable);
  EXPECT_EQ(later.outcome().message().find("tempfail"), std::string::npos);  // no address in the reason
  EXPECT_FALSE(email->is_suppressed("tempfail@example.org").value());

  const auto gone = send(email, "reject@example.org", "m2");
  EXPECT_EQ(gone.outcome().status(), sdk::Status::not_found);
  EXPECT_NE(gone.outcome().message().find("550"), std::string::npos);
  EXPECT_EQ(gone.outcome().message().find("reject@"), std::string::npos);
  EXPECT_TRUE(email->is_suppressed("reject@example.org").value());
  EXPECT_EQ(send(email, "reject@example.org", "m3").outcome().status(), sdk::Status::conflict);

  // A message the relay refuses after DATA fails for good without blaming the recipient.
  const auto refused = send(email, "carol@example.org", "m4", "X-Test-Refuse: yes\r\n");
  EXPECT_EQ(refused.outcome().status(), sdk::Status::invalid_argument);
  EXPECT_FALSE(email->is_suppressed("carol@example.org").value());
  EXPECT_TRUE(messages().empty());
  // The connection the refusals left is still good for the next message.
  EXPECT_TRUE(send(email, "carol@example.org", "m5").ok());
}

TEST_F(EmailSmtpTest, ARelayDownIsATemporaryFailureAndBackUpTakesTheMessage) {
  const auto port = start_server("starttls");
  auto* email = plugin("smtp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(send(email, "alice@example.org", "m1").ok());
  relay->stop();  // down, with the plugin's connection open
  const auto down = send(email, "alice@example.org", "m2");
  EXPECT_EQ(down.outcome().status(), sdk::Status::unavailable);
  start_server("starttls", port);
  EXPECT_TRUE(send(email, "alice@example.org", "m2").ok());
  EXPECT_EQ(messages().size(), 2u);
}

TEST_F(EmailSmtpTest, DeliveryRecordsAreExportedAndErased) {
  const auto port = start_server("starttls");
  auto* email = plugin("smtp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(send(email, "alice@example.org", "m1").ok());
  auto* privacy = host->find("email_smtp")->find<sdk::PrivacyParticipant>();
  const sdk::Subject alice{"usr_alice", {"alice@example.org"}, {}};
  testing::RecordingExportSink exported;
  ASSERT_TRUE(privacy->export_subject(alice, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_EQ(exported.records[0].first, "deliveries");
  EXPECT_NE(exported.records[0].second.find("\"relay_reply\":250"), std::string::npos) << exported.records[0].second;
  ASSERT_TRUE(privacy->apply_opt_out(alice, "marketing"));
  const auto erased = privacy->erase_subject(alice);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->records_removed, 2u);  // the record and the opt-out
  testing::RecordingExportSink after;
  ASSERT_TRUE(privacy->export_subject(alice, after));
  EXPECT_TRUE(after.empty());
}

}  // namespace
}  // namespace framehouse
