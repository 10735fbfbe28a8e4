// Accounts against SQLite and PostgreSQL, mailing through the real email_outbox plugin, with
// a clock the test moves.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "accounts/privacy_participant.hpp"
#include "integration/accounts_fixture.hpp"
#include "support/streams.hpp"

namespace framehouse::accounts {
namespace {

TEST_P(AccountsTest, SignUpVerifySignIn) {
  FieldErrors errors;
  ASSERT_EQ(accounts_->sign_up({"Alice", " Alice@Example.org ", kPassword, "1990-05-01"}, errors), SignUpStatus::accepted);
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].subject, "Confirm your email address");
  const std::string token = testing::token_in(mails[0].text);
  EXPECT_GE(token.size(), 4u + 43u);  // fhe_ + 256 bits in base64url
  EXPECT_NE(mails[0].text.find("https://video.example.org/verify-email?token="), std::string::npos);

  // Unverified accounts can sign in.
  auto first = accounts_->sign_in("alice@example.org", kPassword, "curl", "10.0.0.1");
  ASSERT_EQ(first.status, SignInResult::Status::signed_in);
  auto context = accounts_->authenticate(first.token);
  ASSERT_TRUE(context);
  EXPECT_FALSE(context->email_verified);

  EXPECT_TRUE(accounts_->confirm_email(token));
  EXPECT_FALSE(accounts_->confirm_email(token));  // single use
  EXPECT_TRUE(accounts_->authenticate(first.token)->email_verified);

  // Tokens are stored only as hashes.
  EXPECT_EQ(count("SELECT COUNT(*) FROM credentials WHERE token_hash = '" + first.token + "'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM credentials WHERE token_hash = '" + crypto::token_hash(first.token) + "'"), 1);
  // The password only as argon2id.
  soci::session sql(database_->pool());
  std::string hash;
  sql << "SELECT password_hash FROM users", soci::into(hash);
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
}

// The first admin from the setup link: one admin at most per link, an hour, and no link once
// an admin exists.
TEST_P(AccountsTest, TheSetupLinkMakesOneFirstAdminWithinTheHour) {
  const auto token = accounts_->issue_first_admin_token();
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = '" + crypto::token_hash(*token) + "'"), 1)
      << "stored as its hash";
  FieldErrors errors;
  std::string id;
  EXPECT_EQ(accounts_->create_first_admin(*token, "Root", "root@example.org", "short", errors, id),
            Accounts::FirstAdmin::invalid);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "password");
  errors.clear();
  EXPECT_EQ(accounts_->create_first_admin("fha_guessed", "Root", "root@example.org", kPassword, errors, id),
            Accounts::FirstAdmin::token_unusable);

  const auto late = accounts_->issue_first_admin_token();
  now_ += Accounts::kFirstAdminTokenSeconds + 1;
  EXPECT_EQ(accounts_->create_first_admin(*late, "Root", "root@example.org", kPassword, errors, id),
            Accounts::FirstAdmin::token_unusable)
      << "expired";
  const auto fresh = accounts_->issue_first_admin_token();
  ASSERT_EQ(accounts_->create_first_admin(*fresh, "Root", "Root@Example.org", kPassword, errors, id), Accounts::FirstAdmin::created);
  const auto admin = accounts_->find(id);
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->role, "admin");
  EXPECT_EQ(admin->email, "root@example.org");
  EXPECT_TRUE(admin->email_verified);
  EXPECT_EQ(accounts_->create_first_admin(*fresh, "Two", "two@example.org", kPassword, errors, id),
            Accounts::FirstAdmin::token_unusable)
      << "used once";
  EXPECT_EQ(accounts_->create_first_admin(*token, "Two", "two@example.org", kPassword, errors, id),
            Accounts::FirstAdmin::token_unusable)
      << "every other link is void once there is an admin";
  EXPECT_FALSE(accounts_->issue_first_admin_token().has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM setup_tokens"), 0);
}

TEST_P(AccountsTest, UnderThirteenStoresNothingAndSendsNothing) {
  now_ = 1'795'000'000;  // 2026-11-18
  FieldErrors errors;
  EXPECT_EQ(accounts_->sign_up({"Kid", "kid@example.org", kPassword, "2013-11-19"}, errors), SignUpStatus::underage);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM email_tokens"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM preferences"), 0);
  EXPECT_TRUE(testing::outbox_messages(outbox()).empty());
  // Thirteen on the day is enough.
  EXPECT_EQ(accounts_->sign_up({"Teen", "teen@example.org", kPassword, "2013-11-18"}, errors), SignUpStatus::accepted);
}

TEST_P(AccountsTest, MinimumAgeIsConfigurableUpward) {
  AccountsConfig config;
  config.password_cost = {1, 8 * 1024};
  config.minimum_age = 16;
  Accounts strict(*database_, mail_->mailer, config, [this] { return now_.load(); });
  FieldErrors errors;
  EXPECT_EQ(strict.sign_up({"Teen", "teen@example.org", kPassword, "2011-01-01"}, errors), SignUpStatus::underage);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 0);
}

TEST_P(AccountsTest, DuplicateSignUpLooksTheSameAndWarnsTheOwner) {
  registered("alice@example.org");
  FieldErrors errors;
  EXPECT_EQ(accounts_->sign_up({"Mallory", "ALICE@example.org", "another long phrase", "1980-01-01"}, errors),
            SignUpStatus::accepted);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  EXPECT_EQ(mails.back().subject, "Someone tried to sign up with your address");
  // The original password still works; the intruder's does not.
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "", "").status, SignInResult::Status::signed_in);
  EXPECT_EQ(accounts_->sign_in("alice@example.org", "another long phrase", "", "").status,
            SignInResult::Status::bad_credentials);
}

TEST_P(AccountsTest, MailOthersCauseIsCappedPerAddressPerHour) {
  registered("alice@example.org");
  const auto mails_to_alice = [&] { return testing::messages_to(outbox(), "alice@example.org").size(); };
  const std::size_t before = mails_to_alice();
  FieldErrors errors;
  // Sign-ups with her address and reset requests share one hourly allowance of 5.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(accounts_->sign_up({"Mallory", "alice@example.org", "another long phrase", "1980-01-01"}, errors),
              SignUpStatus::accepted);
  }
  for (int i = 0; i < 3; ++i) accounts_->request_password_reset("alice@example.org");
  EXPECT_EQ(mails_to_alice(), before + 5);
  // The answers do not change; nothing more is sent.
  EXPECT_EQ(accounts_->sign_up({"Mallory", "alice@example.org", "another long phrase", "1980-01-01"}, errors),
            SignUpStatus::accepted);
  EXPECT_EQ(mails_to_alice(), before + 5);
  // A signed-in user moving an account onto her address is held back too, and told why.
  registered("mallory@example.org", "Mallory");
  const auto context = *accounts_->authenticate(accounts_->sign_in("mallory@example.org", kPassword, "", "").token);
  const auto refused = accounts_->update_profile(context, std::nullopt, "alice@example.org");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].field, "email");
  EXPECT_EQ(mails_to_alice(), before + 5);
  // An hour later the allowance is back.
  now_ += 3600;
  accounts_->request_password_reset("alice@example.org");
  EXPECT_EQ(mails_to_alice(), before + 6);
  // Only a keyed hash of the address is kept, and it goes with an erasure.
  EXPECT_EQ(count("SELECT COUNT(*) FROM rate_limits WHERE throttle_key LIKE '%alice%'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM rate_limits WHERE throttle_key LIKE 'mail:%'"), 1);
  AccountsParticipant participant(*database_, *accounts_);
  const std::string alice = accounts_->find_by_email("alice@example.org")->id;
  ASSERT_TRUE(participant.erase_subject({alice, {"alice@example.org"}, {}}).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM rate_limits WHERE throttle_key LIKE 'mail:%'"), 0);
}

TEST_P(AccountsTest, VerificationLinkExpires) {
  FieldErrors errors;
  accounts_->sign_up({"Alice", "alice@example.org", kPassword, "1990-05-01"}, errors);
  const std::string token = testing::token_in(testing::messages_to(outbox(), "alice@example.org")[0].text);
  now_ += 49 * 3600;
  EXPECT_FALSE(accounts_->confirm_email(token));
}

TEST_P(AccountsTest, SignInThrottlesPerAccountAndClientAndPerClient) {
  registered("alice@example.org");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(accounts_->sign_in("alice@example.org", "wrong password!", "", "10.0.0.1").status,
              SignInResult::Status::bad_credentials);
  }
  // Now that client waits, even with the right password; the owner's own client does not.
  auto blocked = accounts_->sign_in("alice@example.org", kPassword, "", "10.0.0.1");
  EXPECT_EQ(blocked.status, SignInResult::Status::throttled);
  EXPECT_GT(blocked.retry_after_seconds, 0);
  EXPECT_LE(blocked.retry_after_seconds, 15 * 60);
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "", "10.0.0.2").status, SignInResult::Status::signed_in);
  // Not a fixed wall: 30 s after the fifth failure, doubling with each further one.
  EXPECT_EQ(blocked.retry_after_seconds, 30);
  now_ += 31;
  EXPECT_EQ(accounts_->sign_in("alice@example.org", "wrong password!", "", "10.0.0.1").status, SignInResult::Status::bad_credentials);
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "", "10.0.0.1").retry_after_seconds, 60);
  now_ += 61;
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "", "10.0.0.1").status, SignInResult::Status::signed_in);

  // One address guessing across many accounts is stopped after 20 failures.
  for (int i = 0; i < 20; ++i) accounts_->sign_in("nobody" + std::to_string(i) + "@example.org", "x", "", "10.9.9.9");
  EXPECT_EQ(accounts_->sign_in("alice@example.org", kPassword, "", "10.9.9.9").status, SignInResult::Status::throttled);
  // The address itself is not stored.
  EXPECT_EQ(count("SELECT COUNT(*) FROM rate_limits WHERE throttle_key LIKE '%10.9.9.9%'"), 0);
}

TEST_P(AccountsTest, SessionsExpireListAndRevoke) {
  const std::string user = registered("alice@example.org");
  auto second = accounts_->sign_in("alice@example.org", kPassword, "laptop", "");
  auto sessions = accounts_->credentials(user, "session");
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(std::count_if(sessions.begin(), sessions.end(), [](const auto& s) { return s.label == "laptop"; }), 1);
  EXPECT_TRUE(accounts_->revoke(user, second.session.id, "session"));
  EXPECT_FALSE(accounts_->authenticate(second.token));
  EXPECT_FALSE(accounts_->revoke(user, second.session.id, "session"));
  const std::string other = registered("bob@example.org", "Bob");
  const auto remaining = accounts_->credentials(user, "session");
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_FALSE(accounts_->revoke(other, remaining[0].id, "session"));  // not Bob's

  auto third = accounts_->sign_in("alice@example.org", kPassword, "", "");
  now_ += 30LL * 24 * 3600 + 1;
  EXPECT_FALSE(accounts_->authenticate(third.token));
  EXPECT_TRUE(accounts_->credentials(user, "session").empty());
}

TEST_P(AccountsTest, AnIdleSessionEndsAndAUsedOneDoesNot) {
  const std::string user = registered("alice@example.org");
  const auto idle = accounts_->sign_in("alice@example.org", kPassword, "old laptop", "");
  const auto busy = accounts_->sign_in("alice@example.org", kPassword, "phone", "");
  const auto key = accounts_->create_api_key(user, "ci", {Scope::videos_read});
  for (int day = 0; day < 4; ++day) {  // the phone is used every day; the laptop never again
    now_ += 24 * 3600;
    EXPECT_TRUE(accounts_->authenticate(busy.token)) << day;
  }
  EXPECT_FALSE(accounts_->authenticate(idle.token));  // 72 hours without use
  EXPECT_TRUE(accounts_->authenticate(key.key));      // a key does not idle out
  const auto left = accounts_->credentials(user, "session");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].label, "phone");
}

TEST_P(AccountsTest, ARotatedSessionTokenReplacesTheOld) {
  registered("alice@example.org");
  const auto session = accounts_->sign_in("alice@example.org", kPassword, "browser", "");
  const auto context = *accounts_->authenticate(session.token);
  const auto rotated = accounts_->rotate_session_token(context);
  ASSERT_TRUE(rotated);
  EXPECT_FALSE(accounts_->authenticate(session.token));
  const auto after = accounts_->authenticate(*rotated);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->credential_id, context.credential_id);  // the same session, listed once
  EXPECT_EQ(accounts_->csrf_token(context.credential_id), accounts_->csrf_token(after->credential_id));
  EXPECT_TRUE(accounts_->csrf_token_matches(*after, accounts_->csrf_token(context.credential_id)));
  EXPECT_FALSE(accounts_->csrf_token_matches(*after, ""));
}

TEST_P(AccountsTest, EnterpriseIdentitiesLinkOnlyByAVerifiedAddress) {
  const std::string alice = registered("alice@example.org");
  // An unverified address at the provider links nothing; a verified one links, and says so.
  EXPECT_FALSE(accounts_->identity_account({"corp", "sub-1", "alice@example.org", false, "Alice"}, true));
  EXPECT_FALSE(accounts_->identity_account({"corp", "sub-1", "alice@example.org", true, "Alice"}, false));
  EXPECT_EQ(accounts_->identity_account({"corp", "sub-1", "alice@example.org", true, "Alice"}, true), alice);
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  EXPECT_TRUE(std::any_of(mails.begin(), mails.end(), [](const auto& mail) {
    return mail.subject == "Your account is linked to your organisation's sign-in";
  }));
  // From then on the subject is the link, whatever address the provider gives.
  EXPECT_EQ(accounts_->identity_account({"corp", "sub-1", "renamed@corp.example", false, "Alice"}, false), alice);
  // A new person: an account without a password, verified, linked.
  const std::string bob = accounts_->create_identity_account({"corp", "sub-2", "Bob@Corp.example", true, "Bob"});
  EXPECT_EQ(accounts_->find(bob)->email, "bob@corp.example");
  EXPECT_TRUE(accounts_->find(bob)->email_verified);
  EXPECT_EQ(accounts_->sign_in("bob@corp.example", "", "test", "").status, SignInResult::Status::bad_credentials);
  EXPECT_THROW(accounts_->create_identity_account({"corp", "sub-3", "alice@example.org", true, "Eve"}), std::invalid_argument);
  const auto session = accounts_->sign_in_with_identity(bob, {"corp", "sub-2", "bob@corp.example", true, "Bob"}, "sso", true);
  ASSERT_EQ(session.status, SignInResult::Status::signed_in);
  EXPECT_TRUE(accounts_->authenticate(session.token)->second_factor);  // the provider reported mfa

  AccountsParticipant participant(*database_, *accounts_);
  testing::RecordingExportSink exported;
  ASSERT_TRUE(participant.export_subject({alice, {"alice@example.org"}, {}}, exported));
  bool link_exported = false;
  for (const auto& [dataset, json] : exported.records) {
    link_exported = link_exported || (dataset == "identity_providers" && json.find("sub-1") != std::string::npos);
  }
  EXPECT_TRUE(link_exported);
  ASSERT_TRUE(participant.erase_subject({alice, {"alice@example.org"}, {}}).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sso_identities WHERE subject = 'sub-1'"), 0);
}

TEST_P(AccountsTest, AProviderMayTakeOverSignInForItsAccounts) {
  AccountsConfig config;
  config.password_cost = {1, 8 * 1024};
  config.providers_without_password_sign_in = {"corp"};
  Accounts strict(*database_, mail_->mailer, config, [this] { return now_.load(); });
  const std::string alice = registered("alice@example.org");
  EXPECT_EQ(strict.sign_in("alice@example.org", kPassword, "test", "").status, SignInResult::Status::signed_in);
  strict.identity_account({"corp", "sub-1", "alice@example.org", true, "Alice"}, true);
  EXPECT_EQ(strict.sign_in("alice@example.org", kPassword, "test", "").status, SignInResult::Status::identity_provider_only);
  // Told only to whoever knows the password.
  EXPECT_EQ(strict.sign_in("alice@example.org", "a wrong password", "test", "").status, SignInResult::Status::bad_credentials);
}

TEST_P(AccountsTest, ApiKeysCarryTheirScopesAndSurviveSignOutEverywhere) {
  const std::string user = registered("alice@example.org");
  const auto key = accounts_->create_api_key(user, "ci", {Scope::videos_read, Scope::videos_write});
  EXPECT_EQ(key.key.rfind("fhk_", 0), 0u);
  auto context = accounts_->authenticate(key.key);
  ASSERT_TRUE(context);
  EXPECT_EQ(context->kind, "api_key");
  EXPECT_FALSE(context->is_session());
  EXPECT_TRUE(context->allows(Scope::videos_write));
  EXPECT_FALSE(context->allows(Scope::images_read));
  EXPECT_FALSE(context->allows(Scope::account_read));
  EXPECT_EQ(accounts_->credentials(user, "api_key").at(0).scopes, (std::vector<Scope>{Scope::videos_read, Scope::videos_write}));
  EXPECT_EQ(accounts_->revoke_sessions(user, ""), 1);
  EXPECT_TRUE(accounts_->authenticate(key.key));
  EXPECT_TRUE(accounts_->revoke(user, key.credential.id, "api_key"));
  EXPECT_FALSE(accounts_->authenticate(key.key));
  EXPECT_FALSE(accounts_->authenticate("fhs_not-a-token"));
  EXPECT_FALSE(accounts_->authenticate("garbage"));
}

TEST_P(AccountsTest, PasswordResetIsSingleUseAndSignsOutEverywhere) {
  const std::string user = registered("alice@example.org");
  auto session = accounts_->sign_in("alice@example.org", kPassword, "", "");
  const auto key = accounts_->create_api_key(user, "nightly renders", {Scope::videos_write});
  accounts_->request_password_reset("nobody@example.org");  // no mail, no error
  accounts_->request_password_reset("Alice@example.org");
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  ASSERT_EQ(mails.back().subject, "Reset your password");
  const std::string token = testing::token_in(mails.back().text);
  EXPECT_EQ(accounts_->reset_password(token, "password123")[0].field, "password");
  EXPECT_TRUE(accounts_->reset_password(token, "a brand new phrase").empty());
  EXPECT_EQ(accounts_->reset_password(token, "a brand new phrase")[0].field, "token");
  EXPECT_FALSE(accounts_->authenticate(session.token));
  EXPECT_FALSE(accounts_->authenticate(key.key));  // a key made with the old password goes too
  EXPECT_EQ(accounts_->sign_in("alice@example.org", "a brand new phrase", "", "").status, SignInResult::Status::signed_in);
  const auto changed = testing::messages_to(outbox(), "alice@example.org").back();
  EXPECT_EQ(changed.subject, "Your password was changed");
  EXPECT_NE(changed.text.find("These API keys were revoked"), std::string::npos) << changed.text;
  EXPECT_NE(changed.text.find("- nightly renders"), std::string::npos) << changed.text;
  EXPECT_EQ(testing::outbox_messages(outbox()).size(), 3u);  // verify, reset, changed; nothing to nobody@
}

TEST_P(AccountsTest, FailuresElsewhereNeverLockTheOwnerOutAndAResetClearsThem) {
  registered("alice@example.org");
  const auto sign_in = [&](const std::string& password, const std::string& client) {
    return accounts_->sign_in("alice@example.org", password, "test", client).status;
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sign_in("not the password", "198.51.100.7"), SignInResult::Status::bad_credentials);
  EXPECT_EQ(sign_in(kPassword, "198.51.100.7"), SignInResult::Status::throttled);  // the guesser's client waits
  EXPECT_EQ(sign_in(kPassword, "192.0.2.1"), SignInResult::Status::signed_in);      // the owner elsewhere does not
  accounts_->request_password_reset("alice@example.org");
  const std::string token = testing::token_in(testing::messages_to(outbox(), "alice@example.org").back().text);
  ASSERT_TRUE(accounts_->reset_password(token, "a brand new phrase").empty());
  EXPECT_EQ(sign_in("a brand new phrase", "198.51.100.7"), SignInResult::Status::signed_in);  // the reset cleared it
}

TEST_P(AccountsTest, TheLastAdminKeepsTheRole) {
  const std::string first = accounts_->create_user("First", "first@example.org", "a long pass phrase", "admin");
  EXPECT_EQ(accounts_->set_role(first, "user"), Accounts::RoleChange::last_admin);
  const std::string second = accounts_->create_user("Second", "second@example.org", "a long pass phrase", "admin");
  EXPECT_EQ(accounts_->set_role(first, "support"), Accounts::RoleChange::changed);
  EXPECT_EQ(accounts_->set_role(second, "user"), Accounts::RoleChange::last_admin);
  EXPECT_EQ(accounts_->set_role("usr_none", "user"), Accounts::RoleChange::no_such_account);
  EXPECT_EQ(accounts_->find(second)->role, "admin");
  // Nor can it be suspended; a suspended admin is no longer the last one, and may be demoted.
  EXPECT_EQ(accounts_->suspend(second, "test"), Accounts::RoleChange::last_admin);
  ASSERT_EQ(accounts_->set_role(first, "admin"), Accounts::RoleChange::changed);
  ASSERT_EQ(accounts_->suspend(first, "left the company"), Accounts::RoleChange::changed);
  EXPECT_EQ(accounts_->suspend(second, "test"), Accounts::RoleChange::last_admin);
  EXPECT_EQ(accounts_->set_role(first, "user"), Accounts::RoleChange::changed);
  EXPECT_EQ(accounts_->sign_in("first@example.org", "a long pass phrase", "", "").status, SignInResult::Status::suspended);
  EXPECT_TRUE(accounts_->unsuspend(first));
  EXPECT_FALSE(accounts_->unsuspend(first));
  EXPECT_EQ(accounts_->sign_in("first@example.org", "a long pass phrase", "", "").status, SignInResult::Status::signed_in);
}

TEST_P(AccountsTest, PasswordChangeKeepsThisSessionOnly) {
  registered("alice@example.org");
  auto here = accounts_->sign_in("alice@example.org", kPassword, "", "");
  auto elsewhere = accounts_->sign_in("alice@example.org", kPassword, "", "");
  const auto who = *accounts_->authenticate(here.token);
  EXPECT_EQ(accounts_->change_password(who, "wrong", "a brand new phrase")[0].field, "current_password");
  EXPECT_TRUE(accounts_->change_password(who, kPassword, "a brand new phrase").empty());
  EXPECT_TRUE(accounts_->authenticate(here.token));
  EXPECT_FALSE(accounts_->authenticate(elsewhere.token));
}

TEST_P(AccountsTest, TheOldAddressCanUndoAConfirmedChangeAndEveryoneIsSignedOut) {
  const std::string user = registered("alice@example.org");
  auto session = accounts_->sign_in("alice@example.org", kPassword, "", "");
  const auto who = *accounts_->authenticate(session.token);
  const auto key = accounts_->create_api_key(user, "renders", {Scope::videos_read});
  ASSERT_TRUE(accounts_->update_profile(who, std::nullopt, std::string("taker@example.org")).empty());
  const auto told = testing::messages_to(outbox(), "alice@example.org").back();
  ASSERT_EQ(told.subject, "Your email address is being changed");
  EXPECT_EQ(told.text.find("taker@example.org"), std::string::npos);  // the old address learns no new one
  const std::string revert = testing::token_in(told.text);
  // The taker confirms, and changes it once more: the first link still works.
  ASSERT_TRUE(accounts_->confirm_email(testing::token_in(testing::messages_to(outbox(), "taker@example.org").back().text)));
  EXPECT_EQ(accounts_->find(user)->email, "taker@example.org");
  ASSERT_TRUE(accounts_->update_profile(who, std::nullopt, std::string("third@example.org")).empty());

  ASSERT_TRUE(accounts_->revert_email_change(revert));
  EXPECT_EQ(accounts_->find(user)->email, "alice@example.org");
  EXPECT_FALSE(accounts_->find(user)->pending_email);
  EXPECT_FALSE(accounts_->authenticate(session.token));
  EXPECT_FALSE(accounts_->authenticate(key.key));
  EXPECT_FALSE(accounts_->confirm_email(testing::token_in(testing::messages_to(outbox(), "third@example.org").back().text)));
  EXPECT_FALSE(accounts_->revert_email_change(revert));  // once
  const auto undone = testing::messages_to(outbox(), "alice@example.org").back();
  EXPECT_EQ(undone.subject, "The change of your email address was undone");
  EXPECT_TRUE(accounts_->reset_password(testing::token_in(undone.text), "the owner's new phrase").empty());
  EXPECT_EQ(accounts_->sign_in("alice@example.org", "the owner's new phrase", "", "").status, SignInResult::Status::signed_in);
}

TEST_P(AccountsTest, ASensitiveChangeNeedsThePasswordOrARecentSignIn) {
  registered("alice@example.org");
  auto session = accounts_->sign_in("alice@example.org", kPassword, "", "");
  EXPECT_TRUE(accounts_->recently_authenticated(*accounts_->authenticate(session.token)));
  now_ += 5 * 60 + 1;
  const auto who = *accounts_->authenticate(session.token);
  EXPECT_FALSE(accounts_->recently_authenticated(who));
  EXPECT_EQ(accounts_->reauthenticate(who, "not the password"), Accounts::Reauthentication::wrong_password);
  EXPECT_EQ(accounts_->reauthenticate(who, kPassword), Accounts::Reauthentication::confirmed);
  EXPECT_TRUE(accounts_->recently_authenticated(*accounts_->authenticate(session.token)));
  // Guessing through a stolen session stops like guessing at sign-in.
  for (int i = 0; i < 5; ++i) accounts_->reauthenticate(who, "a guess");
  EXPECT_EQ(accounts_->reauthenticate(who, kPassword), Accounts::Reauthentication::throttled);
  // An API key never counts as recent.
  const auto key = accounts_->create_api_key(who.user_id, "k", {Scope::videos_read});
  EXPECT_FALSE(accounts_->recently_authenticated(*accounts_->authenticate(key.key)));
}

TEST_P(AccountsTest, EmailChangeTakesEffectOnlyWhenConfirmed) {
  const std::string user = registered("alice@example.org");
  auto session = accounts_->sign_in("alice@example.org", kPassword, "", "");
  const auto who = *accounts_->authenticate(session.token);
  EXPECT_TRUE(accounts_->update_profile(who, std::string("Alice Liddell"), std::string("New@Example.org")).empty());
  auto user_now = *accounts_->find(user);
  EXPECT_EQ(user_now.name, "Alice Liddell");
  EXPECT_EQ(user_now.email, "alice@example.org");
  EXPECT_EQ(user_now.pending_email, "new@example.org");
  EXPECT_EQ(testing::messages_to(outbox(), "alice@example.org").back().subject, "Your email address is being changed");
  const auto confirm = testing::messages_to(outbox(), "new@example.org");
  ASSERT_EQ(confirm.size(), 1u);
  EXPECT_TRUE(accounts_->confirm_email(testing::token_in(confirm[0].text)));
  EXPECT_EQ(accounts_->find(user)->email, "new@example.org");
  EXPECT_EQ(accounts_->sign_in("new@example.org", kPassword, "", "").status, SignInResult::Status::signed_in);

  // Another account's address is not taken over, and the caller learns nothing.
  registered("bob@example.org", "Bob");
  EXPECT_TRUE(accounts_->update_profile(who, std::nullopt, std::string("bob@example.org")).empty());
  EXPECT_FALSE(accounts_->find(user)->pending_email);
  EXPECT_EQ(testing::messages_to(outbox(), "bob@example.org").back().subject, "Someone tried to use your address");
  EXPECT_EQ(accounts_->update_profile(who, std::string(""), std::nullopt)[0].field, "name");
}

TEST_P(AccountsTest, PreferencesKeepTheirHistory) {
  const std::string user = registered("alice@example.org");
  auto preferences = accounts_->preferences(user);
  EXPECT_TRUE(preferences.at("account"));
  EXPECT_FALSE(preferences.at("marketing"));
  EXPECT_FALSE(preferences.at("training_use"));
  EXPECT_TRUE(accounts_->set_preferences(user, {{"marketing", true}, {"training_use", true}}, "user").empty());
  EXPECT_TRUE(accounts_->set_preferences(user, {{"marketing", false}}, "user").empty());
  EXPECT_FALSE(accounts_->preferences(user).at("marketing"));
  EXPECT_EQ(accounts_->set_preferences(user, {{"account", false}}, "user")[0].field, "account");
  EXPECT_EQ(accounts_->set_preferences(user, {{"telepathy", true}}, "user")[0].field, "telepathy");
  // 5 at sign-up, then marketing on, training on, marketing off.
  EXPECT_EQ(count("SELECT COUNT(*) FROM preference_history WHERE user_id = '" + user + "'"), 8);
}

TEST_P(AccountsTest, OptOutsAreRecordedAndToldAndGpcOnlyOnce) {
  const std::string user = registered("alice@example.org");
  std::vector<std::string> told;
  accounts_->on_opt_out([&](const std::string&, const std::string& category) { told.push_back(category); });
  EXPECT_TRUE(accounts_->opt_out(user, "marketing", "unsubscribe_link"));  // off already: still recorded and told
  EXPECT_FALSE(accounts_->opt_out(user, "account", "user"));
  EXPECT_FALSE(accounts_->opt_out("usr_nobody", "marketing", "user"));
  EXPECT_TRUE(accounts_->record_global_privacy_control(user));
  EXPECT_FALSE(accounts_->record_global_privacy_control(user));  // the same signal again
  EXPECT_TRUE(accounts_->set_preferences(user, {{"sale_sharing", true}}, "user").empty());
  EXPECT_TRUE(accounts_->record_global_privacy_control(user));  // allowed since: the signal counts again
  EXPECT_EQ(told, (std::vector<std::string>{"marketing", "sale_sharing", "sale_sharing"}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM preference_history WHERE user_id = '" + user + "' AND source = 'gpc'"), 2);
}

TEST_P(AccountsTest, RetentionPurgesOldUsageEvents) {
  const std::string user = registered("alice@example.org");
  const int events = count("SELECT COUNT(*) FROM usage_events");
  EXPECT_GE(events, 2);  // email_verified, signed_in
  now_ += 397LL * 24 * 3600;
  accounts_->record_event(user, "signed_in");
  EXPECT_GT(accounts_->purge_expired(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM usage_events"), 1);
}

TEST_P(AccountsTest, PrivacyParticipantExportsEverythingAndErasesIt) {
  const std::string alice = registered("alice@example.org");
  const std::string bob = registered("bob@example.org", "Bob");
  accounts_->create_api_key(alice, "ci", {Scope::videos_read});
  accounts_->set_preferences(alice, {{"marketing", true}}, "user");
  AccountsParticipant participant(*database_, *accounts_);
  const sdk::Subject subject{alice, {"alice@example.org"}, {}};

  testing::RecordingExportSink exported;
  ASSERT_TRUE(participant.export_subject(subject, exported));
  std::set<std::string> datasets;
  for (const auto& [dataset, json] : exported.records) {
    datasets.insert(dataset);
    EXPECT_EQ(json.find("token_hash"), std::string::npos);
    EXPECT_EQ(json.find("$argon2id$"), std::string::npos);
  }
  EXPECT_EQ(datasets, (std::set<std::string>{"account", "credentials", "preferences", "preference_history", "usage_events"}));

  auto erased = participant.erase_subject(subject);
  ASSERT_TRUE(erased.ok());
  EXPECT_GT(erased->records_removed, 10u);
  testing::RecordingExportSink after;
  ASSERT_TRUE(participant.export_subject(subject, after));
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(participant.erase_subject(subject)->records_removed, 0u);
  // Bob is untouched.
  EXPECT_TRUE(accounts_->find(bob));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::accounts
