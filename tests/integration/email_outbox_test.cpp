// email_outbox, the shipped plugin, loaded through the host as the server loads it.
#include <gtest/gtest.h>
#include <sodium.h>

#include "framehouse/sdk/email.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

// Each message has a Message-ID of its own unless `message_id` names one.
std::string message_to(const std::string& to, const std::string& subject, std::string message_id = "") {
  static int sent = 0;
  if (message_id.empty()) message_id = subject + "." + std::to_string(++sent);
  return "From: Framehouse <noreply@example.org>\r\n"
         "To: " + to + "\r\n"
         "Subject: " + subject + "\r\n"
         "Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n"
         "Message-ID: <" + message_id + "@example.org>\r\n"
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
  const std::string message = message_to("alice@example.org", "hello");
  auto sent = email->send({"noreply@example.org", {"alice@example.org"}, "account", "u-alice", message});
  ASSERT_TRUE(sent.ok()) << sent.outcome().message();
  const auto files = eml_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].stem(), sent.value());
  EXPECT_EQ(testing::read_file(files[0]), message);
}

TEST_F(EmailOutboxTest, AMessageSentAgainWithItsMessageIdIsWrittenOnce) {
  // What the host does after a crash between the provider's answer and its record of it.
  const std::string message = message_to("alice@example.org", "hello", "job_1234");
  const auto first = email->send({"noreply@example.org", {"alice@example.org"}, "account", "u-alice", message});
  const auto again = email->send({"noreply@example.org", {"alice@example.org"}, "account", "u-alice", message});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first.value(), again.value());
  EXPECT_EQ(eml_files().size(), 1u);
  ASSERT_TRUE(send("alice@example.org", "account", "u-alice"));  // another Message-ID: another message
  EXPECT_EQ(eml_files().size(), 2u);
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
  ASSERT_TRUE(privacy->apply_opt_out(alice, "marketing"));
  ASSERT_TRUE(privacy->erase_subject(alice).ok());
  EXPECT_TRUE(email->is_suppressed("alice@example.org").value());
  EXPECT_EQ(send("alice@example.org", "account", "").outcome().status(), sdk::Status::conflict);
}

TEST_F(EmailOutboxTest, ErasureDropsCategoryChoicesAndKeepsNothingElse) {
  sdk::Subject alice{"u-alice", {"alice@example.org", "old-alice@example.org"}, {}};
  ASSERT_TRUE(privacy->apply_opt_out(alice, "marketing"));
  ASSERT_TRUE(privacy->apply_opt_out(alice, "training_use"));  // not about mail: nothing kept
  const auto suppressions = dir.path() / "plugins" / "email_outbox" / "suppressions.json";
  EXPECT_NE(testing::read_file(suppressions).find("marketing"), std::string::npos);
  EXPECT_EQ(testing::read_file(suppressions).find("training_use"), std::string::npos);
  auto erased = privacy->erase_subject(alice);
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->records_removed, 2u);  // one entry per address
  EXPECT_EQ(testing::read_file(suppressions), "{\"format\":2,\"entries\":{}}");
  // A new account under the address may be mailed what it asks for.
  EXPECT_TRUE(send("alice@example.org", "marketing", "u-new").ok());
}

TEST_F(EmailOutboxTest, LiftingAnOptOutLetsThatCategoryThroughAgain) {
  sdk::Subject alice{"u-alice", {"alice@example.org"}, {}};
  ASSERT_TRUE(privacy->apply_opt_out(alice, "marketing"));
  ASSERT_TRUE(privacy->apply_opt_out(alice, "product_updates"));
  ASSERT_TRUE(privacy->lift_opt_out(alice, "marketing"));
  ASSERT_TRUE(privacy->lift_opt_out(alice, "marketing"));  // idempotent
  EXPECT_TRUE(send("alice@example.org", "marketing", "u-alice").ok());
  EXPECT_EQ(send("alice@example.org", "product_updates", "u-alice").outcome().status(), sdk::Status::conflict);
  // A lift never undoes "never mail this address".
  ASSERT_TRUE(email->suppress("alice@example.org", "hard bounce"));
  ASSERT_TRUE(privacy->lift_opt_out(alice, "product_updates"));
  EXPECT_EQ(send("alice@example.org", "marketing", "u-alice").outcome().status(), sdk::Status::conflict);
}

// The list cannot be checked with what sits in the plugin's directory alone: the outer key is
// the host's. Started again with the same host secret the list holds; with another (someone
// who copied the directory), no address can be confirmed.
TEST(EmailOutboxSuppressionKey, IsTheHostsNotTheDirectorys) {
  testing::TempDir dir;
  observability::Metrics metrics;
  const std::string settings = "directory = \"" + (dir.path() / "outbox").string() + "\"";
  const auto suppressed_with = [&](const std::string& root) {
    plugins::PluginHost host{metrics, dir.path()};
    host.set_secret_root(root);
    EXPECT_FALSE(testing::load_plugin(host, testing::shipped_plugin("email_outbox"), settings));
    EXPECT_FALSE(host.start_all());
    auto* email = host.find("email_outbox")->find<sdk::EmailProvider>();
    if (root == "the server's root") (void)email->suppress("dana@example.org", "complaint");
    const bool suppressed = email->is_suppressed("dana@example.org").value();
    host.stop_all();
    return suppressed;
  };
  EXPECT_TRUE(suppressed_with("the server's root"));
  EXPECT_FALSE(suppressed_with("someone else's root"));
  EXPECT_TRUE(suppressed_with("the server's root"));
}

// Lists written before the host's key existed (format 1: install-key hashes) keep every entry.
TEST(EmailOutboxSuppressionKey, ListsOfTheFirstFormatAreRekeyedAndKept) {
  testing::TempDir dir;
  observability::Metrics metrics;
  const auto plugin_dir = dir.path() / "plugins" / "email_outbox";
  std::filesystem::create_directories(plugin_dir);
  std::string key(crypto_generichash_KEYBYTES, 'k');
  testing::write_file(plugin_dir / "suppression.key", key);
  unsigned char hash[crypto_generichash_BYTES];
  const std::string address = "erin@example.org";
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(address.data()), address.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size());
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  testing::write_file(plugin_dir / "suppressions.json", std::string("{\"") + hex + "\":[\"*\"]}");
  plugins::PluginHost host{metrics, dir.path()};
  ASSERT_FALSE(testing::load_plugin(host, testing::shipped_plugin("email_outbox")));
  ASSERT_FALSE(host.start_all());
  EXPECT_TRUE(host.find("email_outbox")->find<sdk::EmailProvider>()->is_suppressed("Erin@example.org").value());
  EXPECT_EQ(testing::read_file(plugin_dir / "suppressions.json").find(hex), std::string::npos);
  host.stop_all();
}

}  // namespace
}  // namespace framehouse
