// email_outbox, the shipped plugin, loaded through the host as the server loads it.
#include <gtest/gtest.h>

#include "framehouse/sdk/email.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

std::string message_to(const std::string& to, const std::string& subject) {
  return "From: Framehouse <noreply@example.org>\r\n"
         "To: " + to + "\r\n"
         "Subject: " + subject + "\r\n"
         "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n"
         "Message-ID: <" + subject + "@example.org>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Hello.\r\n";
}

class EmailOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto error = testing::load_plugin(host, testing::shipped_plugin("email_outbox"),
                                            "directory = \"" + outbox().string() + "\"");
    ASSERT_FALSE(error) << *error;
    ASSERT_FALSE(host.start_all());
    email = host.find("email_outbox")->find<sdk::EmailProvider>();
    privacy = host.find("email_outbox")->find<sdk::PrivacyParticipant>();
  }
  std::filesystem::path outbox() const { return dir.path() / "outbox"; }
  sdk::Result<std::string> send(const std::string& to, const std::string& category, const std::string& user,
                                const std::string& subject = "hello") {
    return email->send({"noreply@example.org", {to}, category, user, message_to(to, subject)});
  }
  std::vector<std::filesystem::path> eml_files() const {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(outbox())) {
      if (entry.path().extension() == ".eml") files.push_back(entry.path());
    }
    return files;
  }

  testing::TempDir dir;
  observability::Metrics metrics;
  plugins::PluginHost host{metrics, dir.path()};
  sdk::EmailProvider* email = nullptr;
  sdk::PrivacyParticipant* privacy = nullptr;
};

TEST_F(EmailOutboxTest, WritesTheMessageAsAnEmlFileVerbatim) {
  auto sent = send("alice@example.org", "account", "u-alice");
  ASSERT_TRUE(sent.ok()) << sent.outcome().message();
  const auto files = eml_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].stem(), sent.value());
  EXPECT_EQ(testing::read_file(files[0]), message_to("alice@example.org", "hello"));
}

TEST_F(EmailOutboxTest, RejectsMessagesThatAreNotRfc5322) {
  auto bare_lf = email->send({"a@example.org", {"b@example.org"}, "account", "", "From: a\nDate: x\n\nbody\n"});
  EXPECT_EQ(bare_lf.outcome().status(), sdk::Status::invalid_argument);
  auto no_date = email->send({"a@example.org", {"b@example.org"}, "account", "", "From: a\r\n\r\nbody\r\n"});
  EXPECT_EQ(no_date.outcome().status(), sdk::Status::invalid_argument);
  auto bad_rcpt = email->send({"a@example.org", {"not an address"}, "account", "", message_to("x", "y")});
  EXPECT_EQ(bad_rcpt.outcome().status(), sdk::Status::invalid_argument);
  EXPECT_TRUE(eml_files().empty());
}

TEST_F(EmailOutboxTest, OptOutSuppressesThatCategoryButNotAccountMail) {
  sdk::Subject alice{"u-alice", {"Alice@Example.org"}, {}};
  ASSERT_TRUE(privacy->apply_opt_out(alice, "marketing"));
  EXPECT_EQ(send("alice@example.org", "marketing", "u-alice").outcome().status(), sdk::Status::conflict);
  EXPECT_TRUE(send("alice@example.org", "product_updates", "u-alice").ok());
  EXPECT_TRUE(send("alice@example.org", "account", "u-alice").ok());
  auto suppressed = email->is_suppressed("alice@example.org");
  ASSERT_TRUE(suppressed.ok());
  EXPECT_FALSE(suppressed.value());
  ASSERT_TRUE(email->suppress("alice@example.org", "hard bounce"));
  EXPECT_TRUE(email->is_suppressed("ALICE@example.org").value());
  EXPECT_EQ(send("alice@example.org", "account", "u-alice").outcome().status(), sdk::Status::conflict);
}

TEST_F(EmailOutboxTest, SuppressionFileHoldsNoAddresses) {
  ASSERT_TRUE(email->suppress("carol@example.org", "complaint"));
  const std::string state = testing::read_file(dir.path() / "plugins" / "email_outbox" / "suppressions.json");
  EXPECT_FALSE(state.empty());
  EXPECT_EQ(state.find("carol"), std::string::npos);
}

TEST_F(EmailOutboxTest, ExportAndEraseFindMessagesByUserIdOrAddress) {
  ASSERT_TRUE(send("alice@example.org", "account", "u-alice", "one").ok());
  ASSERT_TRUE(send("alice@example.org", "account", "", "two").ok());  // intake mail: no user id
  ASSERT_TRUE(send("bob@example.org", "account", "u-bob", "three").ok());
  sdk::Subject alice{"u-alice", {"alice@example.org"}, {}};

  testing::RecordingExportSink exported;
  ASSERT_TRUE(privacy->export_subject(alice, exported));
  EXPECT_EQ(exported.files.size(), 2u);
  EXPECT_EQ(exported.records.size(), 2u);

  auto erased = privacy->erase_subject(alice);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->files_removed, 2u);
  EXPECT_EQ(privacy->erase_subject(alice)->files_removed, 0u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(privacy->export_subject(alice, after));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(eml_files().size(), 1u);  // bob's message stays
}

TEST_F(EmailOutboxTest, FullSuppressionSurvivesErasure) {
  sdk::Subject alice{"u-alice", {"alice@example.org"}, {}};
  ASSERT_TRUE(email->suppress("alice@example.org", "asked never to be mailed"));
  ASSERT_TRUE(privacy->erase_subject(alice).ok());
  EXPECT_TRUE(email->is_suppressed("alice@example.org").value());
}

}  // namespace
}  // namespace framehouse
