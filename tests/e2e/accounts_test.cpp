// Accounts end to end: the real binary over HTTP, mail read from the outbox folder as a user
// reads their inbox, the database inspected only to prove that nothing was written.
#include <regex>
#include <thread>
#include <tuple>

#include "e2e/end_to_end.hpp"
#include "support/oathtool.hpp"

namespace framehouse {
namespace {

using testing::http_request;
using testing::HttpResponse;
class AccountsEndToEnd : public EndToEnd {
  // "Delete my account" waits an hour, so the matrix can call it as every identity and go on.
  std::string extra_config() const override {
    return "[privacy]\ndeletion_grace_hours = 1\npolicy_file = \"" FRAMEHOUSE_SOURCE_DIR "/config/privacy-policy.md\"\n";
  }
  // AStaffRoleMayRequireTwoFactorSignIn: one staff role needs a second factor.
  std::string accounts_config() const override { return "two_factor_required_for = [\"billing\"]\n"; }
};

TEST_P(AccountsEndToEnd, SignUpVerifySignInUseSignOut) {
  const std::string token = member("Alice", "alice@example.org");
  auto me = call("GET", "/v1/me", "", bearer(token));
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(json_of(me).at("email"), "alice@example.org");
  EXPECT_EQ(json_of(me).at("email_verified"), true);

  auto renamed = call("PATCH", "/v1/me", R"({"name":"Alice Liddell"})", bearer(token));
  EXPECT_EQ(json_of(renamed).at("name"), "Alice Liddell");

  auto preferences = call("PUT", "/v1/me/preferences", R"({"marketing":true})", bearer(token));
  EXPECT_EQ(json_of(preferences).at("marketing"), true);
  EXPECT_EQ(json_of(preferences).at("account"), true);

  auto key = call("POST", "/v1/api-keys", R"({"name":"script","scopes":["account:read"]})", bearer(token));
  ASSERT_EQ(key.status, 201);
  EXPECT_EQ(json_of(key).at("scopes"), boost::json::parse(R"(["account:read"])"));
  const std::string api_key(json_of(key).at("key").as_string());
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(api_key)).status, 200);
  EXPECT_EQ(call("GET", "/v1/api-keys", "", bearer(token)).body.find(api_key), std::string::npos);  // shown once

  auto sessions = call("GET", "/v1/sessions", "", bearer(token));
  EXPECT_EQ(json_of(sessions).at("data").as_array().size(), 1u);
  EXPECT_EQ(json_of(sessions).at("data").as_array()[0].at("current"), true);

  EXPECT_EQ(call("DELETE", "/v1/sessions/current", "", bearer(token)).status, 204);
  auto after = call("GET", "/v1/me", "", bearer(token));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.header("www-authenticate"), "Bearer");
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(api_key)).status, 200);  // a key outlives the sessions
}

// The first step of the takeover chain: a leaked key can do its job (videos and images) and
// nothing that manages the account, however the owner uses it.
TEST_P(AccountsEndToEnd, ALeakedApiKeyCanMakeVideosButNeverManageTheAccount) {
  const std::string token = member("Alice", "alice@example.org");
  const auto made = call("POST", "/v1/api-keys", R"({"name":"leaked"})", bearer(token));
  ASSERT_EQ(made.status, 201);
  EXPECT_EQ(json_of(made).at("scopes"), boost::json::parse(R"(["videos:read","videos:write","images:read","images:write"])"));
  const std::string key(json_of(made).at("key").as_string());

  EXPECT_EQ(call("POST", "/v1/videos", R"({"prompt":"a red ball","seconds":"1","size":"640x360"})", bearer(key)).status, 200);
  EXPECT_EQ(call("GET", "/v1/videos", "", bearer(key)).status, 200);
  EXPECT_EQ(call("GET", "/v1/images", "", bearer(key)).status, 200);

  const auto profile = call("GET", "/v1/me", "", bearer(key));
  EXPECT_EQ(profile.status, 403);
  EXPECT_EQ(profile.header("content-type"), "application/problem+json");
  EXPECT_EQ(json_of(profile).at("missing_scope"), "account:read");
  EXPECT_NE(json_of(profile).at("detail").as_string().find("account:read"), std::string::npos);

  const std::vector<std::tuple<std::string, std::string, std::string>> never = {
      {"POST", "/v1/api-keys", R"({"name":"another","scopes":["videos:read"]})"},
      {"GET", "/v1/api-keys", ""},
      {"GET", "/v1/sessions", ""},
      {"DELETE", "/v1/sessions", ""},
      {"PATCH", "/v1/me", R"({"email":"attacker@example.org"})"},
      {"POST", "/v1/me/password", R"({"current_password":"x","new_password":"an attacker's phrase"})"},
      {"PUT", "/v1/me/preferences", R"({"marketing":true})"},
      {"DELETE", "/v1/me", ""},
      {"PATCH", "/v1/subscription", R"({"auto_renew":false})"},
      {"POST", "/v1/billing/checkout", R"({"plan":"premium"})"},
      {"POST", "/v1/billing/portal", ""},
      {"POST", "/v1/privacy/requests", R"({"type":"access"})"},
      {"GET", "/v1/admin/users", ""},
  };
  for (const auto& [method, path, body] : never) {
    const auto refused = call(method, path, body, bearer(key));
    EXPECT_EQ(refused.status, 403) << method << " " << path;
    EXPECT_EQ(refused.header("content-type"), "application/problem+json") << method << " " << path;
  }
  // The owner's session still does all of it.
  EXPECT_EQ(call("GET", "/v1/api-keys", "", bearer(token)).status, 200);
}

// Later steps of the takeover chain, each failing on its own: a wrong password stops an
// address change, and the old address undoes one that went through and signs everyone out.
TEST_P(AccountsEndToEnd, AnAddressChangeNeedsThePasswordAndTheOldAddressCanUndoIt) {
  const std::string token = member("Alice", "alice@example.org");
  const auto wrong = call("PATCH", "/v1/me", R"({"email":"taker@example.org","current_password":"a guess"})", bearer(token));
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("current_password"), std::string::npos);
  EXPECT_TRUE(testing::messages_to(outbox(), "taker@example.org").empty());

  const auto changed = call("PATCH", "/v1/me",
                            boost::json::serialize(boost::json::object{{"email", "taker@example.org"}, {"current_password", kPassword}}),
                            bearer(token));
  ASSERT_EQ(changed.status, 200) << changed.body;
  const std::string revert = testing::token_in(testing::messages_to(outbox(), "alice@example.org").back().text);
  const auto undone = follow_mailed_link("/v1/accounts/revert-email", revert);
  EXPECT_EQ(undone.status, 200);
  EXPECT_NE(undone.body.find("The change was undone"), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(token)).status, 401);  // every session ended
  EXPECT_EQ(testing::messages_to(outbox(), "alice@example.org").back().subject, "The change of your email address was undone");

  // A session proves the password again to do the next sensitive thing.
  const std::string fresh = session_token("alice@example.org");
  EXPECT_EQ(call("POST", "/v1/sessions/current/reauthenticate", R"({"password":"a guess"})", bearer(fresh)).status, 422);
  EXPECT_EQ(call("POST", "/v1/sessions/current/reauthenticate",
                 boost::json::serialize(boost::json::object{{"password", kPassword}}), bearer(fresh))
                .status,
            204);
}

TEST_P(AccountsEndToEnd, SupportFindsAnAccountSeesItsCredentialsAndHelpsItsOwner) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string admin = administrator();
  ASSERT_EQ(call("POST", "/v1/api-keys", R"({"name":"renders"})", bearer(alice)).status, 201);
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Alfred", "alfred@example.org")).status, 202);  // not verified
  const auto found = json_of(call("GET", "/v1/admin/users?q=AL", "", bearer(admin))).at("data").as_array();
  ASSERT_EQ(found.size(), 2u);  // both by the prefix, ignoring case
  const auto exact = json_of(call("GET", "/v1/admin/users?q=alfred@example.org", "", bearer(admin))).at("data").as_array();
  ASSERT_EQ(exact.size(), 1u);
  const std::string alfred(exact[0].at("id").as_string());
  EXPECT_TRUE(json_of(call("GET", "/v1/admin/users?q=a_l", "", bearer(admin))).at("data").as_array().empty());  // no wildcards

  const std::string alice_id(json_of(call("GET", "/v1/me", "", bearer(alice))).at("id").as_string());
  const auto credentials = json_of(call("GET", "/v1/admin/users/" + alice_id + "/credentials", "", bearer(admin)));
  ASSERT_EQ(credentials.at("sessions").as_array().size(), 1u);
  ASSERT_EQ(credentials.at("api_keys").as_array().size(), 1u);
  EXPECT_EQ(boost::json::serialize(credentials).find("fhs_"), std::string::npos);  // never a token
  const std::string session(credentials.at("sessions").as_array()[0].at("id").as_string());
  EXPECT_EQ(call("DELETE", "/v1/admin/users/" + alice_id + "/credentials/" + session, "", bearer(admin)).status, 204);
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(alice)).status, 401);

  EXPECT_EQ(json_of(call("POST", "/v1/admin/users/" + alfred + "/verification-email", "", bearer(admin))).at("status"), "sent");
  EXPECT_EQ(testing::messages_to(outbox(), "alfred@example.org").size(), 2u);
  EXPECT_EQ(json_of(call("POST", "/v1/admin/users/" + alfred + "/verify-email", "", bearer(admin))).at("email_verified"), true);
  EXPECT_EQ(json_of(call("POST", "/v1/admin/users/" + alfred + "/verification-email", "", bearer(admin))).at("status"),
            "already_verified");
  EXPECT_EQ(call("POST", "/v1/admin/users/usr_none/verify-email", "", bearer(admin)).status, 404);
}

TEST_P(AccountsEndToEnd, ASuspendedAccountIsSignedOutAndToldWhyItCannotSignIn) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string admin = administrator();
  const std::string key(json_of(call("POST", "/v1/api-keys", R"({"name":"k"})", bearer(alice))).at("key").as_string());
  const std::string alice_id(json_of(call("GET", "/v1/admin/users?q=alice@example.org", "", bearer(admin)))
                                 .at("data").as_array()[0].at("id").as_string());
  EXPECT_EQ(call("POST", "/v1/admin/users/" + alice_id + "/suspend", "{}", bearer(admin)).status, 422);  // a reason is needed
  const auto suspended = call("POST", "/v1/admin/users/" + alice_id + "/suspend", R"({"reason":"abuse report 42"})", bearer(admin));
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(json_of(suspended).at("suspended"), true);
  EXPECT_EQ(call("GET", "/v1/videos", "", bearer(alice)).status, 401);
  EXPECT_EQ(call("GET", "/v1/videos", "", bearer(key)).status, 401);
  const auto refused = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(json_of(refused).at("type"), "urn:framehouse:problem:account-suspended");
  // A wrong password learns nothing about it.
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"not the password"})").status, 401);
  EXPECT_NE(call("GET", "/v1/admin/audit?limit=20", "", bearer(admin)).body.find("abuse report 42"), std::string::npos);

  ASSERT_EQ(call("POST", "/v1/admin/users/" + alice_id + "/unsuspend", "", bearer(admin)).status, 200);
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})").status, 201);
  // The last active admin cannot be suspended.
  const std::string root_id(json_of(call("GET", "/v1/me", "", bearer(admin))).at("id").as_string());
  EXPECT_EQ(call("POST", "/v1/admin/users/" + root_id + "/suspend", R"({"reason":"x"})", bearer(admin)).status, 409);
}

TEST_P(AccountsEndToEnd, AKeyIsMadeWithKnownScopesOnly) {
  const std::string token = member("Alice", "alice@example.org");
  const auto unknown = call("POST", "/v1/api-keys", R"({"name":"k","scopes":["keys:write"]})", bearer(token));
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.body.find("keys:write is not a scope; the scopes are videos:read, videos:write, images:read, images:write, "
                              "account:read"),
            std::string::npos)
      << unknown.body;
  EXPECT_EQ(call("POST", "/v1/api-keys", R"({"name":"k","scopes":[]})", bearer(token)).status, 422);
}

TEST_P(AccountsEndToEnd, ImagesAreStoredListedReadAndDeletedByTheirOwnerOnly) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string bob = member("Bob", "bob@example.org");
  const std::string png = small_png();
  auto [body, headers] = image_upload(png, alice);
  const auto uploaded = call("POST", "/v1/images", body, headers);
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  const auto image = json_of(uploaded);
  const std::string id(image.at("id").as_string());
  EXPECT_EQ(image.at("content_type"), "image/png");
  EXPECT_EQ(image.at("width"), 96);
  EXPECT_EQ(image.at("height"), 64);

  EXPECT_EQ(json_of(call("GET", "/v1/images", "", bearer(alice))).at("data").as_array().size(), 1u);
  EXPECT_TRUE(json_of(call("GET", "/v1/images", "", bearer(bob))).at("data").as_array().empty());
  const auto content = call("GET", "/v1/images/" + id + "/content", "", bearer(alice));
  EXPECT_EQ(content.status, 200);
  EXPECT_EQ(content.header("content-type"), "image/png");
  EXPECT_TRUE(content.body == png);
  EXPECT_EQ(call("GET", "/v1/images/" + id + "/content", "", bearer(bob)).status, 404);
  EXPECT_EQ(call("DELETE", "/v1/images/" + id, "", bearer(bob)).status, 404);

  // Stored through storage_fs under the owner's id; deleting removes the bytes too.
  const std::string alice_id(json_of(call("GET", "/v1/me", "", bearer(alice))).at("id").as_string());
  const auto object = dir.path() / "var" / "plugins" / "storage_fs" / "objects" / alice_id / id;
  EXPECT_TRUE(std::filesystem::exists(object));
  EXPECT_EQ(call("DELETE", "/v1/images/" + id, "", bearer(alice)).status, 204);
  EXPECT_FALSE(std::filesystem::exists(object));
  EXPECT_EQ(call("GET", "/v1/images/" + id, "", bearer(alice)).status, 404);

  // A forgery is named as such; an oversized body is refused before it is read whole.
  auto [forged, forged_headers] = image_upload("\x89PNG\r\n\x1a\n<script>", alice);
  const auto refused = call("POST", "/v1/images", forged, forged_headers);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(json_of(refused).at("error").at("param"), "file") << refused.body;  // OpenAI's error shape on /v1/images
  auto [huge, huge_headers] = image_upload(std::string(5000, 'x'), alice);
  EXPECT_EQ(call("POST", "/v1/images", huge, huge_headers).status, 413);
  EXPECT_EQ(call("POST", "/v1/images", R"({"file":"x"})", bearer(alice)).status, 415);
  EXPECT_TRUE(json_of(call("GET", "/v1/images", "", bearer(alice))).at("data").as_array().empty());
}

TEST_P(AccountsEndToEnd, PasswordResetThroughTheMailedLink) {
  const std::string token = member("Alice", "alice@example.org");
  EXPECT_EQ(call("POST", "/v1/password-reset", R"({"email":"alice@example.org"})").status, 202);
  EXPECT_EQ(call("POST", "/v1/password-reset", R"({"email":"nobody@example.org"})").status, 202);
  const std::string reset = testing::token_in(testing::messages_to(outbox(), "alice@example.org").back().text);
  const auto form = call("GET", "/v1/password-reset/confirm?token=" + reset, "", {});
  EXPECT_EQ(form.status, 200);
  // No other site may frame the form, and the token in the address goes nowhere else.
  EXPECT_NE(form.header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(form.header("x-frame-options"), "DENY");
  EXPECT_EQ(form.header("referrer-policy"), "no-referrer");
  const auto changed = call("POST", "/v1/password-reset/confirm", "token=" + reset + "&password=a+brand+new+phrase",
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(token)).status, 401);  // signed out everywhere
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"a brand new phrase"})").status, 201);
}

// What someone can do from the mail alone, in a browser: the notice about a sign-up with their
// address leads to a page (not a 405), a lost confirmation mail can be sent again, and a
// completed reset proves the address as a confirmation would.
TEST_P(AccountsEndToEnd, MailedLinksLeadSomewhereAndLostConfirmationsCanBeResent) {
  member("Alice", "alice@example.org");
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Someone", "alice@example.org")).status, 202);
  const auto notices = testing::messages_to(outbox(), "alice@example.org");
  const auto found = std::find_if(notices.begin(), notices.end(), [](const auto& mail) {
    return mail.subject == "Someone tried to sign up with your address";
  });
  ASSERT_NE(found, notices.end());
  const auto& notice = *found;
  std::smatch link;
  // The link opens the app's "reset your password" screen, which asks the API for the link.
  ASSERT_TRUE(std::regex_search(notice.text, link, std::regex("http://[^/]+(/[a-z/-]+)"))) << notice.text;
  EXPECT_EQ(link[1].str(), "/reset-password");
  const auto page = call("GET", link[1].str(), "", {});
  ASSERT_EQ(page.status, 200) << link[1].str();
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  const std::map<std::string, std::string> form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  const auto asked = call("POST", "/v1/password-reset", "email=alice%40example.org", form);
  EXPECT_EQ(asked.status, 202);
  EXPECT_NE(asked.header("content-type").find("text/html"), std::string::npos);
  const auto to_alice = testing::messages_to(outbox(), "alice@example.org");
  EXPECT_TRUE(std::any_of(to_alice.begin(), to_alice.end(), [](const auto& mail) { return mail.subject == "Reset your password"; }));

  // Bea lost her confirmation mail: a new link comes, and the old one no longer works.
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Bea", "bea@example.org")).status, 202);
  const std::string first = testing::token_in(testing::messages_to(outbox(), "bea@example.org").back().text);
  EXPECT_EQ(call("POST", "/v1/accounts/verification-email", R"({"email":"bea@example.org"})").status, 202);
  EXPECT_EQ(call("POST", "/v1/accounts/verification-email", R"({"email":"nobody@example.org"})").status, 202);
  const auto mails = testing::messages_to(outbox(), "bea@example.org");
  ASSERT_EQ(mails.size(), 2u);
  // (Two mails of the same millisecond have no order: the new one is the other one.)
  const std::string second = testing::token_in(mails[0].text) == first ? testing::token_in(mails[1].text)
                                                                         : testing::token_in(mails[0].text);
  EXPECT_EQ(call("POST", "/v1/accounts/verify-email", R"({"token":")" + first + "\"}").status, 422);
  EXPECT_EQ(call("POST", "/v1/accounts/verify-email", R"({"token":")" + second + "\"}").status, 200);
  EXPECT_EQ(call("POST", "/v1/accounts/verification-email", R"({"email":"bea@example.org"})").status, 202);
  EXPECT_EQ(testing::messages_to(outbox(), "bea@example.org").size(), 2u);  // verified: nothing more is sent

  // Cy never confirmed, but resets his password through the mailed link: that proves the address.
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Cy", "cy@example.org")).status, 202);
  ASSERT_EQ(call("POST", "/v1/password-reset", R"({"email":"cy@example.org"})").status, 202);
  std::string reset;
  for (const auto& mail : testing::messages_to(outbox(), "cy@example.org")) {
    if (mail.subject == "Reset your password") reset = testing::token_in(mail.text);
  }
  const auto reset_done = call("POST", "/v1/password-reset/confirm", R"({"token":")" + reset + R"(","password":"a brand new phrase"})");
  ASSERT_EQ(reset_done.status, 204) << reset_done.body;
  const auto session = call("POST", "/v1/sessions", R"({"email":"cy@example.org","password":"a brand new phrase"})");
  ASSERT_EQ(session.status, 201);
  EXPECT_EQ(json_of(call("GET", "/v1/me", "", bearer(std::string(json_of(session).at("token").as_string())))).at("email_verified"),
            true);
}

TEST_P(AccountsEndToEnd, UnderageSignUpLeavesNoTrace) {
  const auto refused = call("POST", "/v1/accounts", sign_up_body("Young Tim", "tim.young@example.org", "2020-01-01"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(json_of(refused).at("type"), "urn:framehouse:problem:age-requirement");
  EXPECT_EQ(users_in_database(), 0);
  EXPECT_TRUE(testing::outbox_messages(outbox()).empty());
  http_request(server->port, "GET", "/healthz");  // flushes the log line of the refused request
  const std::string logs = server->process->stderr_text();
  EXPECT_EQ(logs.find("tim.young"), std::string::npos);
  EXPECT_EQ(logs.find("Young Tim"), std::string::npos);
  EXPECT_EQ(logs.find("2020-01-01"), std::string::npos);
}

TEST_P(AccountsEndToEnd, DuplicateSignUpGetsTheSameAnswer) {
  const auto first = call("POST", "/v1/accounts", sign_up_body("Alice", "alice@example.org"));
  const auto second = call("POST", "/v1/accounts", sign_up_body("Eve", "ALICE@example.org"));
  EXPECT_EQ(first.status, second.status);
  EXPECT_EQ(first.body, second.body);
  EXPECT_EQ(users_in_database(), 1);
}

TEST_P(AccountsEndToEnd, BadInputIsAProblemNamingTheFieldAndWritesNothing) {
  struct Case {
    std::string body;
    std::map<std::string, std::string> headers;
    int status;
    std::string field;  // named in the detail
  };
  const std::vector<Case> cases = {
      {"{not json", kJson, 400, ""},
      {"[1,2]", kJson, 400, ""},
      {sign_up_body("A", "a@example.org"), {{"Content-Type", "text/plain"}}, 415, ""},
      {R"({"name":"A","email":"a@example.org","password":"correct horse battery","date_of_birth":"1990-01-01","admin":true})",
       kJson, 422, "admin"},
      {R"({"name":7,"email":"a@example.org","password":"correct horse battery","date_of_birth":"1990-01-01"})", kJson,
       422, "name"},
      {R"({"name":"A","email":"not-an-address","password":"correct horse battery","date_of_birth":"1990-01-01"})",
       kJson, 422, "email"},
      {R"({"name":"A","email":"a@example.org","password":"password123","date_of_birth":"1990-01-01"})", kJson, 422,
       "password"},
      {R"({"name":"A","email":"a@example.org","password":"correct horse battery","date_of_birth":"1990-02-30"})", kJson,
       422, "date_of_birth"},
      {R"({"name":"A","email":"a@example.org"})", kJson, 422, "password"},
      {std::string(5000, ' '), kJson, 413, ""},
  };
  for (const auto& item : cases) {
    const auto response = call("POST", "/v1/accounts", item.body, item.headers);
    EXPECT_EQ(response.status, item.status) << item.body.substr(0, 80) << "\n" << response.body;
    EXPECT_EQ(response.header("content-type"), "application/problem+json") << item.body.substr(0, 80);
    if (!item.field.empty()) {
      const auto problem = json_of(response);
      EXPECT_NE(std::string(problem.at("detail").as_string()).find(item.field), std::string::npos) << response.body;
      bool named = false;
      for (const auto& error : problem.at("errors").as_array()) named = named || error.at("field").as_string() == item.field;
      EXPECT_TRUE(named) << response.body;
    }
  }
  EXPECT_EQ(users_in_database(), 0);
  EXPECT_TRUE(testing::outbox_messages(outbox()).empty());
}

TEST_P(AccountsEndToEnd, FailedSignInsAreThrottled) {
  member("Alice", "alice@example.org");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"not the password"})").status, 401);
  }
  const auto throttled = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_GT(std::stoi(throttled.header("retry-after")), 0);
  EXPECT_EQ(json_of(throttled).at("type"), "urn:framehouse:problem:too-many-requests");
}

// Every route, as anonymous, user A, user B and an admin.
TEST_P(AccountsEndToEnd, AccessMatrix) {
  const std::string a = member("Alice", "alice@example.org");
  const std::string b = member("Bob", "bob@example.org");
  const std::string admin = administrator();

  const std::string a_id(json_of(call("GET", "/v1/me", "", bearer(a))).at("id").as_string());
  const std::string a_key(json_of(call("POST", "/v1/api-keys", R"({"name":"k"})", bearer(a))).at("id").as_string());
  const auto a_second = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})");
  auto [upload_body, upload_headers] = image_upload(small_png(), a);
  const std::string a_image(json_of(call("POST", "/v1/images", upload_body, upload_headers)).at("id").as_string());
  const std::string a_video(
      json_of(call("POST", "/v1/videos", R"({"prompt":"matrix","seconds":"1","size":"512x512"})", bearer(a))).at("id").as_string());
  for (int i = 0; i < 300 && json_of(call("GET", "/v1/videos/" + a_video, "", bearer(a))).at("status") != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string a_session(json_of(a_second).at("session").at("id").as_string());
  const std::string c_id(json_of(call("GET", "/v1/me", "", bearer(member("Carol", "carol@example.org")))).at("id").as_string());
  const std::string a_request(
      json_of(call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(a))).at("id").as_string());
  for (int i = 0; i < 300 && json_of(call("GET", "/v1/privacy/requests/" + a_request, "", bearer(a))).at("status") != "completed";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string a_privacy = "/v1/privacy/requests/" + a_request;
  const std::string admin_privacy = "/v1/admin/privacy/requests/" + a_request;
  // A session of A's for an admin to end.
  const std::string a_third(json_of(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})"))
                                .at("session")
                                .at("id")
                                .as_string());

  struct Row {
    std::string method, target, pattern, body;
    int anonymous, user_a, user_b, administrator;
  };
  // Identities run in the order anonymous, B, admin, A, so that A's own deletions come last.
  const std::vector<Row> rows = {
      {"GET", "/healthz", "/healthz", "", 200, 200, 200, 200},
      {"GET", "/readyz", "/readyz", "", 200, 200, 200, 200},
      {"GET", "/metrics", "/metrics", "", 200, 200, 200, 200},
      {"GET", "/v1/openapi.json", "/v1/openapi.json", "", 200, 200, 200, 200},
      {"POST", "/v1/accounts", "/v1/accounts", "{}", 422, 422, 422, 422},
      {"GET", "/v1/accounts/verify-email?token=x", "/v1/accounts/verify-email", "", 200, 200, 200, 200},
      {"POST", "/v1/accounts/verify-email", "/v1/accounts/verify-email", R"({"token":"x"})", 422, 422, 422, 422},
      {"GET", "/v1/accounts/revert-email?token=x", "/v1/accounts/revert-email", "", 200, 200, 200, 200},
      {"POST", "/v1/accounts/revert-email", "/v1/accounts/revert-email", R"({"token":"x"})", 422, 422, 422, 422},
      {"POST", "/v1/sessions", "/v1/sessions", R"({"email":"x@example.org","password":"wrong password"})", 401, 401, 401, 401},
      {"GET", "/v1/sessions", "/v1/sessions", "", 401, 200, 200, 200},
      {"POST", "/v1/sessions/current/reauthenticate", "/v1/sessions/current/reauthenticate", R"({"password":"wrong"})", 401,
       422, 422, 422},
      {"GET", "/v1/password-reset", "/v1/password-reset", "", 200, 200, 200, 200},
      {"POST", "/v1/password-reset", "/v1/password-reset", R"({"email":"x@example.org"})", 202, 202, 202, 202},
      {"GET", "/v1/accounts/verification-email", "/v1/accounts/verification-email", "", 200, 200, 200, 200},
      {"POST", "/v1/accounts/verification-email", "/v1/accounts/verification-email", R"({"email":"x@example.org"})", 202, 202,
       202, 202},
      {"GET", "/v1/password-reset/confirm?token=x", "/v1/password-reset/confirm", "", 200, 200, 200, 200},
      {"POST", "/v1/password-reset/confirm", "/v1/password-reset/confirm", R"({"token":"x","password":"a long new phrase"})",
       422, 422, 422, 422},
      {"GET", "/v1/me", "/v1/me", "", 401, 200, 200, 200},
      {"PATCH", "/v1/me", "/v1/me", R"({"name":"Renamed"})", 401, 200, 200, 200},
      {"POST", "/v1/me/password", "/v1/me/password", R"({"current_password":"wrong","new_password":"another long phrase"})",
       401, 422, 422, 422},
      {"GET", "/v1/sso", "/v1/sso", "", 200, 200, 200, 200},
      {"GET", "/v1/sso/corp/start", "/v1/sso/{provider}/start", "", 404, 404, 404, 404},
      {"GET", "/v1/sso/corp/callback?code=x&state=y", "/v1/sso/{provider}/callback", "", 403, 403, 403, 403},
      {"POST", "/v1/sso/two-factor", "/v1/sso/two-factor", R"({"challenge":"fhc_forged","code":"123456"})", 422, 422, 422, 422},
      {"POST", "/v1/sso/birth-date", "/v1/sso/birth-date", R"({"ticket":"x","date_of_birth":"1990-01-01"})", 403, 403, 403,
       403},
      {"GET", "/v1/me/two-factor", "/v1/me/two-factor", "", 401, 200, 200, 200},
      {"POST", "/v1/me/two-factor/totp", "/v1/me/two-factor/totp", "{}", 401, 201, 201, 201},
      {"POST", "/v1/me/two-factor/totp/confirm", "/v1/me/two-factor/totp/confirm", R"({"code":"000000"})", 401, 422, 422, 422},
      {"POST", "/v1/me/two-factor/recovery-codes", "/v1/me/two-factor/recovery-codes", "{}", 401, 409, 409, 409},
      {"DELETE", "/v1/me/two-factor", "/v1/me/two-factor", "", 401, 409, 409, 409},
      {"POST", "/v1/sessions/two-factor", "/v1/sessions/two-factor", R"({"challenge":"fhc_forged","code":"123456"})", 422, 422,
       422, 422},
      {"DELETE", "/v1/admin/users/" + a_id + "/two-factor", "/v1/admin/users/{id}/two-factor", "", 401, 403, 403, 404},
      {"GET", "/v1/me/preferences", "/v1/me/preferences", "", 401, 200, 200, 200},
      {"GET", "/v1/me/preferences/history", "/v1/me/preferences/history", "", 401, 200, 200, 200},
      {"PUT", "/v1/me/preferences", "/v1/me/preferences", R"({"product_updates":true})", 401, 200, 200, 200},
      {"GET", "/v1/api-keys", "/v1/api-keys", "", 401, 200, 200, 200},
      {"POST", "/v1/api-keys", "/v1/api-keys", R"({"name":"matrix"})", 401, 201, 201, 201},
      {"GET", "/v1/subscription", "/v1/subscription", "", 401, 200, 200, 200},
      {"PATCH", "/v1/subscription", "/v1/subscription", R"({"auto_renew":false})", 401, 409, 409, 409},
      // payment_manual sells nothing in the app and sends no webhooks.
      {"POST", "/v1/billing/checkout", "/v1/billing/checkout", R"({"plan":"premium"})", 401, 400, 400, 400},
      {"POST", "/v1/billing/portal", "/v1/billing/portal", "", 401, 400, 400, 400},
      {"POST", "/v1/billing/webhooks/payment_manual", "/v1/billing/webhooks/{plugin}", "{}", 404, 404, 404, 404},
      {"GET", "/v1/admin/users/" + a_id + "/subscription", "/v1/admin/users/{id}/subscription", "", 401, 403, 403, 200},
      {"POST", "/v1/admin/users/" + a_id + "/subscription", "/v1/admin/users/{id}/subscription", R"({"plan":"premium"})",
       401, 403, 403, 200},
      {"DELETE", "/v1/admin/users/" + a_id + "/subscription", "/v1/admin/users/{id}/subscription", R"({"reason":"matrix"})",
       401, 403, 403, 200},
      {"GET", "/v1/admin/users", "/v1/admin/users", "", 401, 403, 403, 200},
      {"GET", "/v1/admin/users/" + a_id, "/v1/admin/users/{id}", "", 401, 403, 403, 200},
      {"GET", "/v1/admin/users/" + a_id + "/credentials", "/v1/admin/users/{id}/credentials", "", 401, 403, 403, 200},
      {"DELETE", "/v1/admin/users/" + a_id + "/credentials/" + a_third, "/v1/admin/users/{id}/credentials/{credential}", "", 401,
       403, 403, 204},
      {"POST", "/v1/admin/users/" + a_id + "/verify-email", "/v1/admin/users/{id}/verify-email", "", 401, 403, 403, 200},
      {"POST", "/v1/admin/users/usr_none/suspend", "/v1/admin/users/{id}/suspend", R"({"reason":"spam"})", 401, 403, 403, 404},
      {"POST", "/v1/admin/users/" + c_id + "/unsuspend", "/v1/admin/users/{id}/unsuspend", "", 401, 403, 403, 404},
      {"POST", "/v1/admin/users/" + a_id + "/verification-email", "/v1/admin/users/{id}/verification-email", "", 401, 403, 403,
       202},
      {"PUT", "/v1/admin/users/" + c_id + "/role", "/v1/admin/users/{id}/role", R"({"role":"support"})", 401, 403, 403, 200},
      {"GET", "/v1/images", "/v1/images", "", 401, 200, 200, 200},
      {"POST", "/v1/images", "/v1/images", "{}", 401, 415, 415, 415},
      {"GET", "/v1/images/" + a_image, "/v1/images/{id}", "", 401, 200, 404, 404},
      {"GET", "/v1/images/" + a_image + "/content", "/v1/images/{id}/content", "", 401, 200, 404, 404},
      {"DELETE", "/v1/images/" + a_image, "/v1/images/{id}", "", 401, 204, 404, 404},
      {"POST", "/v1/videos", "/v1/videos", R"({"prompt":"x","seconds":"1","size":"512x512"})", 401, 200, 200, 200},
      {"GET", "/v1/videos", "/v1/videos", "", 401, 200, 200, 200},
      {"GET", "/v1/models", "/v1/models", "", 401, 200, 200, 200},
      {"GET", "/v1/models/procedural-1", "/v1/models/{id}", "", 401, 200, 200, 200},
      {"GET", "/v1/videos/" + a_video, "/v1/videos/{id}", "", 401, 200, 404, 404},
      {"GET", "/v1/videos/" + a_video + "/content", "/v1/videos/{id}/content", "", 401, 200, 404, 404},
      {"GET", "/v1/videos/" + a_video + "/content-url", "/v1/videos/{id}/content-url", "", 401, 200, 404, 404},
      {"POST", "/v1/videos/" + a_video + "/cancel", "/v1/videos/{id}/cancel", "", 401, 409, 404, 404},
      {"GET", "/v1/videos/" + a_video + "/events", "/v1/videos/{id}/events", "", 401, 200, 404, 404},
      {"POST", "/v1/videos/" + a_video + "/remix", "/v1/videos/{id}/remix", R"({"prompt":"again"})", 401, 200, 404, 404},
      {"POST", "/v1/videos/edits", "/v1/videos/edits", R"({"video":{"id":"x"},"prompt":"y"})", 401, 400, 400, 400},
      {"POST", "/v1/videos/extensions", "/v1/videos/extensions", R"({"video":{"id":"x"},"prompt":"y"})", 401, 400, 400, 400},
      {"DELETE", "/v1/videos/" + a_video, "/v1/videos/{id}", "", 401, 200, 404, 404},
      {"POST", "/v1/privacy/requests", "/v1/privacy/requests", R"({"type":"rectification","field":"email","value":"x@example.org"})",
       401, 422, 422, 422},
      {"GET", "/v1/privacy/requests", "/v1/privacy/requests", "", 401, 200, 200, 200},
      {"GET", a_privacy, "/v1/privacy/requests/{id}", "", 401, 200, 404, 404},
      {"GET", a_privacy + "/download", "/v1/privacy/requests/{id}/download", "", 404, 200, 404, 404},
      {"POST", a_privacy + "/cancel", "/v1/privacy/requests/{id}/cancel", "", 401, 409, 404, 404},
      {"POST", "/v1/privacy/intake", "/v1/privacy/intake", R"({"email":"not an address","type":"access"})", 422, 422, 422, 422},
      {"POST", "/v1/privacy/intake/pr_none/verify", "/v1/privacy/intake/{id}/verify", R"({"code":"123456"})", 404, 404, 404, 404},
      {"GET", "/.well-known/framehouse-receipt-key", "/.well-known/framehouse-receipt-key", "", 200, 200, 200, 200},
      {"GET", "/v1/privacy/receipts/rcpt_none", "/v1/privacy/receipts/{token}", "", 404, 404, 404, 404},
      {"GET", "/v1/admin/privacy/requests", "/v1/admin/privacy/requests", "", 401, 403, 403, 200},
      {"POST", "/v1/admin/privacy/requests", "/v1/admin/privacy/requests", R"({"type":"access"})", 401, 403, 403, 422},
      {"GET", admin_privacy, "/v1/admin/privacy/requests/{id}", "", 401, 403, 403, 200},
      {"POST", admin_privacy + "/retry", "/v1/admin/privacy/requests/{id}/retry", "", 401, 403, 403, 409},
      {"POST", admin_privacy + "/extend", "/v1/admin/privacy/requests/{id}/extend", R"({"reason":"complex"})", 401, 403, 403, 409},
      {"POST", admin_privacy + "/cancel", "/v1/admin/privacy/requests/{id}/cancel", "", 401, 403, 403, 409},
      {"POST", "/v1/admin/users/" + c_id + "/underage", "/v1/admin/users/{id}/underage", "", 401, 403, 403, 202},
      {"GET", "/v1/admin/legal-holds", "/v1/admin/legal-holds", "", 401, 403, 403, 200},
      {"POST", "/v1/admin/legal-holds", "/v1/admin/legal-holds", R"({"user_id":"usr_none","reason":"legal_claims","reference":"T-1"})",
       401, 403, 403, 422},
      {"DELETE", "/v1/admin/legal-holds/hold_none", "/v1/admin/legal-holds/{id}", "", 401, 403, 403, 404},
      {"GET", "/v1/admin/audit?limit=5", "/v1/admin/audit", "", 401, 403, 403, 200},
      {"GET", "/v1/admin/audit/verification", "/v1/admin/audit/verification", "", 401, 403, 403, 200},
      {"POST", "/v1/privacy/opt-outs", "/v1/privacy/opt-outs", R"({"category":"marketing"})", 401, 200, 200, 200},
      {"POST", "/v1/admin/announcements", "/v1/admin/announcements", R"({"category":"marketing"})", 401, 403, 403, 422},
      {"GET", "/v1/admin/announcements/job_none", "/v1/admin/announcements/{id}", "", 401, 403, 403, 404},
      {"GET", "/v1/admin/outbox?state=dead", "/v1/admin/outbox", "", 401, 403, 403, 200},
      {"GET", "/v1/unsubscribe/unsub_forged", "/v1/unsubscribe/{token}", "", 404, 404, 404, 404},
      {"POST", "/v1/unsubscribe/unsub_forged", "/v1/unsubscribe/{token}", "", 404, 404, 404, 404},
      {"GET", "/v1/privacy/policy", "/v1/privacy/policy", "", 200, 200, 200, 200},
      {"POST", "/v1/privacy/policy/acknowledge", "/v1/privacy/policy/acknowledge", "", 401, 200, 200, 200},
      {"GET", "/v1/privacy/processors", "/v1/privacy/processors", "", 200, 200, 200, 200},
      {"GET", "/v1/admin/disclosures", "/v1/admin/disclosures", "", 401, 403, 403, 200},
      {"POST", "/v1/admin/disclosures", "/v1/admin/disclosures", R"({"user_id":"usr_none"})", 401, 403, 403, 422},
      {"GET", "/v1/admin/analytics/signups?by=plan", "/v1/admin/analytics/{metric}", "", 401, 403, 403, 200},
      {"GET", "/v1/admin/training-export", "/v1/admin/training-export", "", 401, 403, 403, 200},
      {"GET", "/", "/", "", 200, 200, 200, 200},
      {"GET", "/privacy", "/privacy", "", 200, 200, 200, 200},
      {"GET", "/admin", "/admin", "", 200, 200, 200, 200},
      {"GET", "/setup", "/setup", "", 200, 200, 200, 200},
      {"GET", "/verify-email", "/verify-email", "", 200, 200, 200, 200},
      {"GET", "/revert-email", "/revert-email", "", 200, 200, 200, 200},
      {"GET", "/reset-password", "/reset-password", "", 200, 200, 200, 200},
      {"GET", "/assets/0000000000000000/app.css", "/assets/{version}/{name}", "", 404, 404, 404, 404},
      {"POST", "/v1/setup/first-admin", "/v1/setup/first-admin", "{}", 422, 422, 422, 422},
      {"DELETE", "/v1/me", "/v1/me", "", 401, 202, 202, 202},
      {"DELETE", "/v1/api-keys/" + a_key, "/v1/api-keys/{id}", "", 401, 204, 404, 404},
      {"DELETE", "/v1/sessions/" + a_session, "/v1/sessions/{id}", "", 401, 204, 404, 404},
      {"DELETE", "/v1/sessions", "/v1/sessions", "", 401, 200, 200, 200},
  };
  std::set<std::pair<std::string, std::string>> covered;
  for (const auto& row : rows) {
    covered.emplace(row.method, row.pattern);
    const std::vector<std::pair<std::string, int>> callers = {
        {"", row.anonymous}, {b, row.user_b}, {admin, row.administrator}, {a, row.user_a}};
    const char* names[] = {"anonymous", "user B", "admin", "user A"};
    for (std::size_t i = 0; i < callers.size(); ++i) {
      const auto& [token, expected] = callers[i];
      const auto response = call(row.method, row.target, row.body, token.empty() ? kJson : bearer(token));
      EXPECT_EQ(response.status, expected) << row.method << " " << row.target << " as " << names[i] << ": " << response.body;
    }
  }
  // The matrix covers every documented route.
  const auto document = json_of(call("GET", "/v1/openapi.json", "", {}));
  for (const auto& [pattern, operations] : document.at("paths").as_object()) {
    for (const auto& [method, operation] : operations.as_object()) {
      std::string upper(method);
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      EXPECT_TRUE(covered.count({upper, std::string(pattern)})) << upper << " " << pattern << " is not in the matrix";
    }
  }
}

TEST_P(AccountsEndToEnd, TwoFactorSignInWithAnAuthenticatorApp) {
  const std::string token = member("Alice", "alice@example.org");
  const auto enrolment = call("POST", "/v1/me/two-factor/totp", "{}", bearer(token));
  ASSERT_EQ(enrolment.status, 201) << enrolment.body;
  EXPECT_EQ(enrolment.header("cache-control"), "no-store");
  const std::string secret(json_of(enrolment).at("secret").as_string());
  EXPECT_EQ(json_of(enrolment).at("otpauth_uri").as_string().find("otpauth://totp/Framehouse:alice%40example.org?secret=" + secret),
            0u);
  EXPECT_EQ(json_of(enrolment).at("qr_code_svg").as_string().find("<svg"), 0u);
  const auto confirmed = call("POST", "/v1/me/two-factor/totp/confirm",
                              boost::json::serialize(boost::json::object{{"code", testing::oathtool_code_from_now(secret)}}),
                              bearer(token));
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  const auto codes = json_of(confirmed).at("recovery_codes").as_array();
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_EQ(json_of(call("GET", "/v1/me/two-factor", "", bearer(token))).at("enabled"), true);

  // The password alone now gets a challenge, not a session.
  const std::string credentials = R"({"email":"alice@example.org","password":"correct horse battery"})";
  const auto challenged = call("POST", "/v1/sessions", credentials);
  ASSERT_EQ(challenged.status, 401);
  EXPECT_EQ(challenged.header("content-type"), "application/problem+json");
  EXPECT_EQ(json_of(challenged).at("type"), "urn:framehouse:problem:two-factor-required");
  EXPECT_FALSE(json_of(challenged).contains("token"));
  const std::string challenge(json_of(challenged).at("challenge").as_string());
  // The next step's code (the confirmation used this one), then never again.
  const std::string code = testing::oathtool_code_from_now(secret, 1);
  const auto second_step = [&](const std::string& with, const std::string& given) {
    return call("POST", "/v1/sessions/two-factor", boost::json::serialize(boost::json::object{{"challenge", with}, {"code", given}}));
  };
  const auto signed_in = second_step(challenge, code);
  ASSERT_EQ(signed_in.status, 201) << signed_in.body;
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(std::string(json_of(signed_in).at("token").as_string()))).status, 200);
  const std::string another(json_of(call("POST", "/v1/sessions", credentials)).at("challenge").as_string());
  const auto replayed = second_step(another, code);
  EXPECT_EQ(replayed.status, 422);
  EXPECT_EQ(json_of(replayed).at("errors").as_array()[0].at("field"), "code");
  // A recovery code works once.
  EXPECT_EQ(second_step(another, std::string(codes[0].as_string())).status, 201);
  const std::string third(json_of(call("POST", "/v1/sessions", credentials)).at("challenge").as_string());
  EXPECT_EQ(second_step(third, std::string(codes[0].as_string())).status, 422);

  // Turning it off needs a recent proof; this session proved a code only at enrolment, so
  // re-authenticating with a recovery code counts too.
  EXPECT_EQ(call("POST", "/v1/sessions/current/reauthenticate",
                 boost::json::serialize(boost::json::object{{"code", std::string(codes[1].as_string())}}), bearer(token))
                .status,
            204);
  EXPECT_EQ(call("DELETE", "/v1/me/two-factor", "", bearer(token)).status, 204);
  EXPECT_EQ(call("POST", "/v1/sessions", credentials).status, 201);
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  EXPECT_EQ(mails.back().subject, "Two-factor sign-in is off");
}

// A browser's session: the token in an HttpOnly cookie the app's scripts never see, and every
// request that changes something carrying the session's CSRF token.
TEST_P(AccountsEndToEnd, BrowserSessionsUseACookieAndACsrfToken) {
  member("Alice", "alice@example.org");
  const auto signed_in = call("POST", "/v1/sessions",
                              R"({"email":"alice@example.org","password":"correct horse battery","session_cookie":true})");
  ASSERT_EQ(signed_in.status, 201) << signed_in.body;
  EXPECT_FALSE(json_of(signed_in).contains("token"));
  const std::string csrf(json_of(signed_in).at("csrf_token").as_string());
  ASSERT_EQ(signed_in.set_cookies.size(), 2u);
  // Plain HTTP on loopback here: no Secure, so no __Host- prefix (both come with TLS or an
  // https public_url).
  const std::regex session_cookie("^fh_session=(fhs_[A-Za-z0-9_-]+); Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax$");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(signed_in.set_cookies[0], match, session_cookie)) << signed_in.set_cookies[0];
  const std::string cookie = "fh_session=" + match[1].str();
  EXPECT_EQ(signed_in.set_cookies[1], "fh_csrf=" + csrf + "; Path=/; Max-Age=2592000; SameSite=Strict");

  const std::map<std::string, std::string> browser = {{"Cookie", "theme=dark; " + cookie}, {"Content-Type", "application/json"}};
  EXPECT_EQ(call("GET", "/v1/me", "", browser).status, 200);
  // A state-changing request without the token (what another site can cause) is refused…
  const auto forged = call("PATCH", "/v1/me", R"({"name":"Mallory"})", browser);
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(json_of(forged).at("type"), "urn:framehouse:problem:csrf-token-invalid");
  auto wrong = browser;
  wrong["X-CSRF-Token"] = std::string(csrf.size(), 'a');
  EXPECT_EQ(call("PATCH", "/v1/me", R"({"name":"Mallory"})", wrong).status, 403);
  // …and with it, it goes through.
  auto app = browser;
  app["X-CSRF-Token"] = csrf;
  EXPECT_EQ(call("PATCH", "/v1/me", R"({"name":"Alice L."})", app).status, 200);
  // A form another site posts cannot start a browser session (login CSRF).
  EXPECT_EQ(call("POST", "/v1/sessions", "email=alice%40example.org&password=correct+horse+battery&session_cookie=true",
                 {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            422);

  // Re-authenticating gives the session a new token: the old cookie stops working.
  const auto reauthenticated = call("POST", "/v1/sessions/current/reauthenticate", R"({"password":"correct horse battery"})", app);
  ASSERT_EQ(reauthenticated.status, 204);
  ASSERT_FALSE(reauthenticated.set_cookies.empty());
  ASSERT_TRUE(std::regex_search(reauthenticated.set_cookies[0], match, std::regex("^fh_session=(fhs_[A-Za-z0-9_-]+);")));
  EXPECT_EQ(call("GET", "/v1/me", "", browser).status, 401);
  app["Cookie"] = "fh_session=" + match[1].str();
  EXPECT_EQ(call("GET", "/v1/me", "", app).status, 200);

  // A signed link plays a private video in a <video> element: no credential, this video only,
  // ranges work; forged or altered links do not.
  const auto made = call("POST", "/v1/videos", R"({"prompt":"a cookie","seconds":"1","size":"640x360"})", app);
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string video(json_of(made).at("id").as_string());
  for (int i = 0; i < 300 && json_of(call("GET", "/v1/videos/" + video, "", app)).at("status") != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto link = call("GET", "/v1/videos/" + video + "/content-url", "", app);
  ASSERT_EQ(link.status, 200) << link.body;
  const std::string url(json_of(link).at("url").as_string());
  const auto played = call("GET", url, "", {{"Range", "bytes=0-99"}});
  EXPECT_EQ(played.status, 206);
  EXPECT_EQ(played.body.size(), 100u);
  EXPECT_EQ(played.header("referrer-policy"), "no-referrer");
  EXPECT_EQ(call("GET", url.substr(0, url.size() - 1) + (url.back() == '0' ? "1" : "0"), "", {}).status, 403);
  EXPECT_EQ(call("GET", std::regex_replace(url, std::regex("variant=video"), "variant=thumbnail"), "", {}).status, 403);
  EXPECT_EQ(call("GET", std::regex_replace(url, std::regex("expires=([0-9]+)"), "expires=9999999999"), "", {}).status, 403);
  EXPECT_EQ(call("GET", "/v1/videos/" + video + "/content", "", {}).status, 401);

  // Signing out clears both cookies; the session is gone.
  const auto signed_out = call("DELETE", "/v1/sessions/current", "", app);
  EXPECT_EQ(signed_out.status, 204);
  ASSERT_EQ(signed_out.set_cookies.size(), 2u);
  EXPECT_EQ(signed_out.set_cookies[0], "fh_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  EXPECT_EQ(call("GET", "/v1/me", "", app).status, 401);
}

// An operator helps an owner from the command line, as support does over HTTP.
TEST_P(AccountsEndToEnd, TheCommandLineFindsSuspendsAndHelpsAnAccount) {
  const std::string admin = administrator();
  const std::string alice = member("Alice", "alice@example.org");
  const std::string alice_id(json_of(call("GET", "/v1/me", "", bearer(alice))).at("id").as_string());
  const auto admin_command = [&](std::vector<std::string> arguments) {
    std::vector<std::string> command{FRAMEHOUSE_BINARY, "admin"};
    command.push_back(arguments.front());
    command.insert(command.end(), {"--config", server->config_file().string()});
    command.insert(command.end(), arguments.begin() + 1, arguments.end());
    return testing::run_command(command);
  };
  const auto found = admin_command({"find", "--query", "ALI"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.out.find(alice_id + "  alice@example.org  Alice  user"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("root@example.org"), std::string::npos);
  EXPECT_TRUE(std::regex_search(found.out, std::regex("created 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")));

  const auto listed = admin_command({"credentials", "--email", "alice@example.org"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::smatch session;
  ASSERT_TRUE(std::regex_search(listed.out, session, std::regex("(ses_[0-9a-f]+)  session  ")));
  EXPECT_EQ(listed.out.find("fhs_"), std::string::npos);  // never a token
  ASSERT_EQ(admin_command({"revoke", "--email", "alice@example.org", "--credential", session[1].str()}).exit_code, 0);
  const auto ended_by = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (call("GET", "/v1/me", "", bearer(alice)).status != 401 && std::chrono::steady_clock::now() < ended_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(alice)).status, 401);

  EXPECT_EQ(admin_command({"suspend", "--email", "alice@example.org", "--reason", ""}).exit_code, 2);
  const auto suspended = admin_command({"suspend", "--email", "alice@example.org", "--reason", "chargeback fraud"});
  ASSERT_EQ(suspended.exit_code, 0) << suspended.err;
  const auto refused = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})");
  EXPECT_EQ(json_of(refused).at("type"), "urn:framehouse:problem:account-suspended");
  EXPECT_EQ(json_of(call("GET", "/v1/admin/users/" + alice_id, "", bearer(admin))).at("suspended"), true);
  ASSERT_EQ(admin_command({"unsuspend", "--email", "alice@example.org"}).exit_code, 0);
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})").status, 201);
  const auto last_admin = admin_command({"suspend", "--email", "root@example.org", "--reason", "testing"});
  EXPECT_EQ(last_admin.exit_code, 1);
  EXPECT_NE(last_admin.err.find("last active admin"), std::string::npos) << last_admin.err;

  EXPECT_EQ(admin_command({"verify-email", "--email", "alice@example.org"}).exit_code, 0);
  EXPECT_NE(admin_command({"resend-verification", "--email", "alice@example.org"}).out.find("verified already"),
            std::string::npos);
  EXPECT_EQ(admin_command({"reset-two-factor", "--email", "alice@example.org"}).exit_code, 2);  // not on
  const auto nobody = admin_command({"credentials", "--email", "nobody@example.org"});
  EXPECT_EQ(nobody.exit_code, 2);
  EXPECT_NE(nobody.err.find("no account with that email address"), std::string::npos);
  for (const char* sub : {"find", "credentials", "revoke", "suspend", "unsuspend", "verify-email", "resend-verification",
                          "reset-two-factor", "revoke-plan"}) {
    const auto help = testing::run_command({FRAMEHOUSE_BINARY, "admin", sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_NE(help.out.find(std::string("admin ") + sub), std::string::npos) << sub;
  }
  // Each is in the audit log with what it did.
  const auto log = json_of(call("GET", "/v1/admin/audit?limit=50", "", bearer(admin)));
  std::string actions;
  for (const auto& entry : log.at("data").as_array()) actions += std::string(entry.at("action").as_string()) + " ";
  for (const char* action : {"admin.find_users", "admin.list_credentials", "admin.revoke_credential", "admin.suspend",
                             "admin.unsuspend", "admin.verify_email"}) {
    EXPECT_NE(actions.find(action), std::string::npos) << action << " not in: " << actions;
  }
}

// The deployment says the billing role needs a second factor (extra_config): the role's
// permissions work only in a session that proved one.
TEST_P(AccountsEndToEnd, AStaffRoleMayRequireTwoFactorSignIn) {
  const std::string admin = administrator();
  const std::string bob = member("Bob", "bob@example.org");
  const std::string bob_id(json_of(call("GET", "/v1/me", "", bearer(bob))).at("id").as_string());
  ASSERT_EQ(call("PUT", "/v1/admin/users/" + bob_id + "/role", R"({"role":"billing"})", bearer(admin)).status, 200);
  const auto refused = call("GET", "/v1/admin/users", "", bearer(bob));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(json_of(refused).at("type"), "urn:framehouse:problem:two-factor-enrolment-required");
  const std::string secret(json_of(call("POST", "/v1/me/two-factor/totp", "{}", bearer(bob))).at("secret").as_string());
  const std::string code = boost::json::serialize(boost::json::object{{"code", testing::oathtool_code_from_now(secret)}});
  ASSERT_EQ(call("POST", "/v1/me/two-factor/totp/confirm", code, bearer(bob)).status, 200);
  EXPECT_EQ(call("GET", "/v1/admin/users", "", bearer(bob)).status, 200);
  // The admin (a role the deployment did not name) needs none; and can turn Bob's off for him.
  EXPECT_EQ(call("DELETE", "/v1/admin/users/" + bob_id + "/two-factor", "", bearer(admin)).status, 204);
  EXPECT_EQ(call("GET", "/v1/admin/users", "", bearer(bob)).status, 403);
}

TEST_P(AccountsEndToEnd, StaffRolesGetTheLeastTheirJobNeeds) {
  const std::string admin = administrator();
  const std::string bob = member("Bob", "bob@example.org");
  const std::string bob_id(json_of(call("GET", "/v1/me", "", bearer(bob))).at("id").as_string());
  const std::string admin_id(json_of(call("GET", "/v1/me", "", bearer(admin))).at("id").as_string());
  const auto give = [&](const std::string& role) {
    return call("PUT", "/v1/admin/users/" + bob_id + "/role", R"({"role":")" + role + "\"}", bearer(admin));
  };
  const auto status_for_bob = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return call(method, target, body, bearer(bob)).status;
  };

  const auto analyst = give("analyst");
  ASSERT_EQ(analyst.status, 200) << analyst.body;
  EXPECT_EQ(json_of(analyst).at("role"), "analyst");
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/analytics/signups"), 200);
  const auto refused = call("GET", "/v1/admin/users", "", bearer(bob));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("view_users"), std::string::npos) << refused.body;
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/audit"), 403);
  EXPECT_EQ(status_for_bob("PUT", "/v1/admin/users/" + bob_id + "/role", R"({"role":"admin"})"), 403);

  ASSERT_EQ(give("support").status, 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/users"), 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/users/" + admin_id), 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/legal-holds"), 403);
  EXPECT_EQ(status_for_bob("POST", "/v1/admin/users/" + bob_id + "/subscription", R"({"plan":"premium"})"), 403);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/analytics/signups"), 403);

  // From the command line, as an operator would.
  const auto set = testing::run_command({FRAMEHOUSE_BINARY, "admin", "set-role", "--config", server->config_file().string(),
                                         "--email", "BOB@example.org", "--role", "privacy"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  // Another process changed the role: the server sees it within a second (its credential
  // cache's bound, the same as for another node), not necessarily at once.
  const auto changed_by_then = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (status_for_bob("GET", "/v1/admin/privacy/requests") != 200 && std::chrono::steady_clock::now() < changed_by_then) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/privacy/requests"), 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/legal-holds"), 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/audit"), 200);
  EXPECT_EQ(status_for_bob("POST", "/v1/admin/announcements", R"({"category":"marketing"})"), 403);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/training-export"), 403);
  const auto unknown_role = testing::run_command({FRAMEHOUSE_BINARY, "admin", "set-role", "--config",
                                                  server->config_file().string(), "--email", "bob@example.org", "--role", "root"});
  EXPECT_EQ(unknown_role.exit_code, 2);
  EXPECT_NE(unknown_role.err.find("root is not a role; the roles are: user, support"), std::string::npos) << unknown_role.err;
  for (const std::vector<std::string>& help : {std::vector<std::string>{"admin", "--help"},
                                               std::vector<std::string>{"admin", "set-role", "--help"},
                                               std::vector<std::string>{"admin", "grant", "--help"}}) {
    std::vector<std::string> command{FRAMEHOUSE_BINARY};
    command.insert(command.end(), help.begin(), help.end());
    const auto shown = testing::run_command(command);
    EXPECT_EQ(shown.exit_code, 0) << help.back();
    EXPECT_NE(shown.out.find("usage:"), std::string::npos);
  }

  EXPECT_EQ(give("root").status, 422);
  EXPECT_EQ(call("PUT", "/v1/admin/users/usr_none/role", R"({"role":"support"})", bearer(admin)).status, 404);
  // An admin cannot demote themself and leave the deployment without one.
  EXPECT_EQ(call("PUT", "/v1/admin/users/" + admin_id + "/role", R"({"role":"user"})", bearer(admin)).status, 409);
  // Nor can the command line demote the last one.
  const std::string admin_email(json_of(call("GET", "/v1/admin/users/" + admin_id, "", bearer(admin))).at("email").as_string());
  const auto last = testing::run_command({FRAMEHOUSE_BINARY, "admin", "set-role", "--config", server->config_file().string(),
                                          "--email", admin_email, "--role", "user"});
  EXPECT_EQ(last.exit_code, 1);
  EXPECT_NE(last.err.find("the last admin keeps the role"), std::string::npos) << last.err;

  ASSERT_EQ(give("user").status, 200);
  EXPECT_EQ(status_for_bob("GET", "/v1/admin/privacy/requests"), 403);
  // Every role change is in the audit log.
  const auto audit = call("GET", "/v1/admin/audit?limit=50", "", bearer(admin));
  EXPECT_NE(audit.body.find("admin.set_role"), std::string::npos);
  EXPECT_NE(audit.body.find("admin.refused.get"), std::string::npos);  // bob's tries without the permission
  EXPECT_NE(audit.body.find("/v1/admin/users/" + bob_id + "/role"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
