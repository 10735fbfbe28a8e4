// Two-factor sign-in against SQLite and PostgreSQL, with every code computed by an independent
// implementation: Debian's oathtool.
#include <set>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "accounts/privacy_participant.hpp"
#include "integration/accounts_fixture.hpp"
#include "storage/data_keys.hpp"
#include "support/oathtool.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

namespace framehouse::accounts {
namespace {

storage::MasterKey test_master_key() {
  storage::MasterKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

class TwoFactorTest : public AccountsTest {
 protected:
  void SetUp() override {
    AccountsTest::SetUp();
    if (IsSkipped()) return;
    data_keys_ = std::make_unique<storage::DataKeys>(*database_, test_master_key());
    accounts_->seal_secrets_with(*data_keys_);
  }

  struct Session {
    std::string token;
    AuthContext context;
  };
  Session session_of(const std::string& email) {
    const auto signed_in = accounts_->sign_in(email, kPassword, "test", "127.0.0.1");
    EXPECT_EQ(signed_in.status, SignInResult::Status::signed_in);
    return {signed_in.token, *accounts_->authenticate(signed_in.token)};
  }
  // Two-factor sign-in on for the account, confirmed with oathtool's code; returns the secret.
  std::string enrolled(const std::string& user_id, const AuthContext& session) {
    const auto enrolment = accounts_->begin_totp_enrolment(user_id);
    EXPECT_TRUE(enrolment);
    if (!enrolment) return "";
    recovery_codes_ = accounts_->confirm_totp(session, testing::oathtool_code(enrolment->secret, now_));
    EXPECT_EQ(recovery_codes_.size(), 10u);
    return enrolment->secret;
  }
  // Alice, signed up with two-factor sign-in on; the clock moved on to the next step.
  std::string alice_enrolled() {
    alice_ = registered("alice@example.org");
    const std::string secret = enrolled(alice_, session_of("alice@example.org").context);
    now_ += 30;
    return secret;
  }
  SignInResult challenge() {
    auto result = accounts_->sign_in("alice@example.org", kPassword, "phone", "127.0.0.1");
    EXPECT_EQ(result.status, SignInResult::Status::second_factor_required);
    return result;
  }

  // Whether Alice got a mail with this subject (mails queued within one millisecond have no
  // order among themselves).
  bool alice_was_mailed(const std::string& subject) {
    const auto mails = testing::messages_to(outbox(), "alice@example.org");
    return std::any_of(mails.begin(), mails.end(), [&subject](const auto& mail) { return mail.subject == subject; });
  }

  std::unique_ptr<storage::DataKeys> data_keys_;
  std::vector<std::string> recovery_codes_;
  std::string alice_;
};

TEST_P(TwoFactorTest, EnrolmentGivesAnAuthenticatorUriAndNeedsAFirstCode) {
  const std::string alice = registered("alice@example.org");
  const auto session = session_of("alice@example.org");
  const auto enrolment = accounts_->begin_totp_enrolment(alice);
  ASSERT_TRUE(enrolment);
  EXPECT_EQ(enrolment->secret.size(), 32u);  // 160 bits in base32
  EXPECT_EQ(enrolment->uri, "otpauth://totp/Framehouse:alice%40example.org?secret=" + enrolment->secret +
                                "&issuer=Framehouse&algorithm=SHA1&digits=6&period=30");
  EXPECT_FALSE(accounts_->two_factor(alice).enabled);
  EXPECT_TRUE(accounts_->two_factor(alice).enrolment_pending);
  // Sealed at rest, never in the clear.
  {
    soci::session sql(database_->pool());
    std::string sealed;
    sql << "SELECT sealed_secret FROM totp_factors WHERE user_id = :u", soci::use(alice), soci::into(sealed);
    EXPECT_EQ(sealed.find(enrolment->secret), std::string::npos);
    EXPECT_GT(sealed.size(), 40u);
  }
  // Until confirmed, sign-in needs only the password.
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "test", "127.0.0.1").status, SignInResult::Status::signed_in);
  // A wrong code does not turn it on; oathtool's does, and gives ten distinct recovery codes.
  EXPECT_TRUE(accounts_->confirm_totp(session.context, "000000").empty());
  const auto codes = accounts_->confirm_totp(session.context, testing::oathtool_code(enrolment->secret, now_));
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 10u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM recovery_codes WHERE code_hash = '" + codes[0] + "'"), 0);  // hashed
  const auto status = accounts_->two_factor(alice);
  EXPECT_TRUE(status.enabled);
  EXPECT_EQ(status.recovery_codes_left, 10);
  EXPECT_FALSE(accounts_->begin_totp_enrolment(alice));  // on already
  // The session that confirmed it counts as having proved a second factor.
  EXPECT_TRUE(accounts_->authenticate(session.token)->second_factor);
  EXPECT_TRUE(alice_was_mailed("Two-factor sign-in is on"));
}

TEST_P(TwoFactorTest, SignInTakesASecondStepAndNoCodeWorksTwice) {
  const std::string secret = alice_enrolled();
  const auto first = challenge();
  EXPECT_TRUE(first.token.empty());
  EXPECT_EQ(first.challenge.rfind("fhc_", 0), 0u);
  EXPECT_EQ(first.challenge_expires_at, now_ + 300);
  const std::string code = testing::oathtool_code(secret, now_);
  const auto signed_in = accounts_->complete_sign_in(first.challenge, code);
  ASSERT_EQ(signed_in.status, SignInResult::Status::signed_in);
  const auto context = accounts_->authenticate(signed_in.token);
  ASSERT_TRUE(context);
  EXPECT_TRUE(context->second_factor);
  // The challenge is spent, and the same code (or an older step's) refused on a new one.
  EXPECT_EQ(accounts_->complete_sign_in(first.challenge, code).status, SignInResult::Status::bad_credentials);
  const auto second = challenge();
  EXPECT_EQ(accounts_->complete_sign_in(second.challenge, code).status, SignInResult::Status::bad_credentials);
  EXPECT_EQ(accounts_->complete_sign_in(second.challenge, testing::oathtool_code(secret, now_ - 30)).status,
            SignInResult::Status::bad_credentials);
  // The next step's code (a phone clock a little ahead) works.
  EXPECT_EQ(accounts_->complete_sign_in(second.challenge, testing::oathtool_code(secret, now_ + 30)).status,
            SignInResult::Status::signed_in);
  // A code two steps away is out of the window.
  now_ += 90;
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, testing::oathtool_code(secret, now_ + 60)).status,
            SignInResult::Status::bad_credentials);
  // A challenge expires.
  const auto late = challenge();
  now_ += 301;
  EXPECT_EQ(accounts_->complete_sign_in(late.challenge, testing::oathtool_code(secret, now_)).status,
            SignInResult::Status::bad_credentials);
}

TEST_P(TwoFactorTest, AChallengeDiesAfterFiveWrongCodes) {
  const std::string secret = alice_enrolled();
  const auto pending = challenge();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(accounts_->complete_sign_in(pending.challenge, "12345" + std::to_string(i)).status,
              SignInResult::Status::bad_credentials);
  }
  EXPECT_EQ(accounts_->complete_sign_in(pending.challenge, testing::oathtool_code(secret, now_)).status,
            SignInResult::Status::bad_credentials);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sign_in_challenges"), 0);
}

TEST_P(TwoFactorTest, RecoveryCodesWorkOnceInAnyCase) {
  alice_enrolled();
  std::string typed = recovery_codes_[3];
  typed.erase(typed.find('-'), 1);
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, typed).status, SignInResult::Status::signed_in);
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, recovery_codes_[3]).status,
            SignInResult::Status::bad_credentials);
  EXPECT_EQ(accounts_->two_factor(alice_).recovery_codes_left, 9);
  // New codes replace every old one.
  const auto fresh = accounts_->new_recovery_codes(alice_);
  ASSERT_EQ(fresh.size(), 10u);
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, recovery_codes_[4]).status,
            SignInResult::Status::bad_credentials);
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, fresh[0]).status, SignInResult::Status::signed_in);
}

TEST_P(TwoFactorTest, TheOwnerWithPasswordAndCodeGetsPastAnyWait) {
  const std::string secret = alice_enrolled();
  // Someone guessing from the owner's own network: the account is held back there.
  for (int i = 0; i < 8; ++i) accounts_->sign_in("alice@example.org", "wrong password", "guesser", "127.0.0.1");
  const auto held = accounts_->sign_in("alice@example.org", kPassword, "phone", "127.0.0.1");
  ASSERT_EQ(held.status, SignInResult::Status::throttled);
  // The password with a wrong code learns nothing more than the wait…
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "phone", "127.0.0.1", std::string("000000")).status,
            SignInResult::Status::throttled);
  EXPECT_EQ(accounts_->sign_in("alice@example.org", "wrong password", "phone", "127.0.0.1", testing::oathtool_code(secret, now_)).status,
            SignInResult::Status::throttled);
  // …and both right get through at once.
  const auto owner = accounts_->sign_in("alice@example.org", kPassword, "phone", "127.0.0.1", testing::oathtool_code(secret, now_));
  EXPECT_EQ(owner.status, SignInResult::Status::signed_in);
  EXPECT_TRUE(accounts_->authenticate(owner.token)->second_factor);
}

TEST_P(TwoFactorTest, WrongCodesBackOffPerAccountButARecoveryCodeStillWorks) {
  const std::string secret = alice_enrolled();
  // Someone who has the password guesses codes from many places.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "bot", "10.0.0." + std::to_string(i), std::string("99999") +
                                 std::to_string(i % 10)).status,
              SignInResult::Status::bad_credentials);
  }
  const auto held = accounts_->complete_sign_in(challenge().challenge, testing::oathtool_code(secret, now_));
  EXPECT_EQ(held.status, SignInResult::Status::throttled);
  EXPECT_GT(held.retry_after_seconds, 0);
  // The owner's recovery code is not held back: fifty random bits are beyond guessing.
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, recovery_codes_[0]).status, SignInResult::Status::signed_in);
  // After the wait, codes work again.
  now_ += 15 * 60 + 30;
  EXPECT_EQ(accounts_->complete_sign_in(challenge().challenge, testing::oathtool_code(secret, now_)).status,
            SignInResult::Status::signed_in);
}

TEST_P(TwoFactorTest, ACodeReauthenticatesASession) {
  const std::string secret = alice_enrolled();
  const auto signed_in = accounts_->complete_sign_in(challenge().challenge, testing::oathtool_code(secret, now_));
  now_ += 3600;
  auto context = *accounts_->authenticate(signed_in.token);
  EXPECT_FALSE(accounts_->recently_authenticated(context));
  EXPECT_EQ(accounts_->reauthenticate_with_code(context, "123456"), Accounts::Reauthentication::wrong_password);
  EXPECT_EQ(accounts_->reauthenticate_with_code(context, testing::oathtool_code(secret, now_)), Accounts::Reauthentication::confirmed);
  EXPECT_TRUE(accounts_->recently_authenticated(*accounts_->authenticate(signed_in.token)));
}

TEST_P(TwoFactorTest, TurningItOffTellsTheOwnerAndEndsTheSecondStep) {
  alice_enrolled();
  const auto pending = challenge();
  EXPECT_TRUE(accounts_->disable_two_factor(alice_, false));
  EXPECT_FALSE(accounts_->disable_two_factor(alice_, false));
  EXPECT_EQ(accounts_->complete_sign_in(pending.challenge, recovery_codes_[0]).status, SignInResult::Status::bad_credentials);
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "phone", "127.0.0.1").status, SignInResult::Status::signed_in);
  EXPECT_EQ(count("SELECT COUNT(*) FROM totp_factors") + count("SELECT COUNT(*) FROM recovery_codes"), 0);
  EXPECT_TRUE(alice_was_mailed("Two-factor sign-in is off"));
}

TEST_P(TwoFactorTest, StaffRolesMayRequireASecondFactor) {
  AccountsConfig config;
  config.password_cost = {1, 8 * 1024};
  config.two_factor_required_for = {"admin"};
  Accounts strict(*database_, mail_->mailer, config, [this] { return now_.load(); });
  strict.seal_secrets_with(*data_keys_);
  const std::string admin = strict.create_user("Ada", "ada@example.org", kPassword, "admin");
  const auto password_only = strict.sign_in("ada@example.org", kPassword, "laptop", "127.0.0.1");
  auto context = *strict.authenticate(password_only.token);
  EXPECT_TRUE(strict.lacks_required_second_factor(context));
  context.role = "support";
  EXPECT_FALSE(strict.lacks_required_second_factor(context));  // not a role the deployment named
  // Enrolling in the session proves it there.
  const auto enrolment = strict.begin_totp_enrolment(admin);
  ASSERT_FALSE(strict.confirm_totp(*strict.authenticate(password_only.token), testing::oathtool_code(enrolment->secret, now_)).empty());
  EXPECT_FALSE(strict.lacks_required_second_factor(*strict.authenticate(password_only.token)));
}

TEST_P(TwoFactorTest, ExportSaysItIsOnNeverTheSecretAndErasureRemovesIt) {
  const std::string secret = alice_enrolled();
  challenge();  // one sign-in waits for its code
  AccountsParticipant participant(*database_, *accounts_);
  const sdk::Subject subject{alice_, {"alice@example.org"}, {}};
  testing::RecordingExportSink exported;
  ASSERT_TRUE(participant.export_subject(subject, exported));
  std::set<std::string> datasets;
  for (const auto& [dataset, json] : exported.records) {
    datasets.insert(dataset);
    EXPECT_EQ(json.find(secret), std::string::npos);
    EXPECT_EQ(json.find("sealed"), std::string::npos);
    for (const auto& code : recovery_codes_) EXPECT_EQ(json.find(code), std::string::npos);
  }
  EXPECT_TRUE(datasets.count("two_factor"));
  EXPECT_TRUE(datasets.count("sign_ins_awaiting_second_factor"));
  ASSERT_TRUE(participant.erase_subject(subject).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM totp_factors") + count("SELECT COUNT(*) FROM recovery_codes") +
                count("SELECT COUNT(*) FROM sign_in_challenges"),
            0);
}

INSTANTIATE_TEST_SUITE_P(Backends, TwoFactorTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::accounts
