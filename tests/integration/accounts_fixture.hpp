// The accounts test fixture: Accounts against SQLite and PostgreSQL, mailing through the real
// email_outbox plugin, with a clock the test moves.
#pragma once

#include <atomic>
#include <memory>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "support/databases.hpp"
#include "support/mail.hpp"
#include "support/outbox.hpp"
#include "support/plugins.hpp"

namespace framehouse::accounts {

inline constexpr std::int64_t kStart = 1'795'000'000;  // 2026-11-18
inline const std::string kPassword = "correct horse battery";

class AccountsTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    const auto error = testing::load_plugin(host_, testing::shipped_plugin("email_outbox"),
                                            "directory = \"" + outbox_folder().string() + "\"");
    ASSERT_FALSE(error) << *error;
    ASSERT_FALSE(host_.start_all());
    mail_ = std::make_unique<testing::TestMail>(*database_, metrics_, host_, host_.find("email_outbox"),
                                                "Framehouse <noreply@example.org>");
    AccountsConfig config;
    config.password_cost = {1, 8 * 1024};
    config.public_url = "https://video.example.org";
    accounts_ = std::make_unique<Accounts>(*database_, mail_->mailer, config, [this] { return now_.load(); });
  }

  std::filesystem::path outbox_folder() const { return dir_.path() / "outbox"; }
  // The folder the provider writes to, once every queued message reached it.
  std::filesystem::path outbox() {
    mail_->deliver_due();
    return outbox_folder();
  }
  int count(const std::string& query) {
    soci::session sql(database_->pool());
    int n = 0;
    sql << query, soci::into(n);
    return n;
  }
  // Signs up and confirms through the mailed link, as a user would; returns the user id.
  std::string registered(const std::string& email, const std::string& name = "Alice") {
    FieldErrors errors;
    EXPECT_EQ(accounts_->sign_up({name, email, kPassword, "1990-05-01"}, errors), SignUpStatus::accepted);
    const auto mails = testing::messages_to(outbox(), email);
    EXPECT_FALSE(mails.empty());
    EXPECT_TRUE(accounts_->confirm_email(testing::token_in(mails.back().text)));
    auto signed_in = accounts_->sign_in(email, kPassword, "test", "127.0.0.1");
    EXPECT_EQ(signed_in.status, SignInResult::Status::signed_in);
    return accounts_->authenticate(signed_in.token)->user_id;
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<testing::TestMail> mail_;
  std::unique_ptr<Accounts> accounts_;
  std::atomic<std::int64_t> now_{kStart};
};

}  // namespace framehouse::accounts
