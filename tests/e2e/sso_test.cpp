// Enterprise sign-in end to end: the real binary, a certified OpenID Connect provider
// (panva's oidc-provider, tests/compat/oidc_provider) on loopback, and Debian's Chromium
// going back and forth between them as a person's browser does (tests/compat/browser/sso.mjs).

#include <csignal>
#include <filesystem>

#include "e2e/end_to_end.hpp"
#include "support/oathtool.hpp"

namespace framehouse {
namespace {

const std::filesystem::path kCompat = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat";

class SsoEndToEnd : public EndToEnd {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kCompat / "oidc_provider/node_modules/oidc-provider"))
        << "oidc-provider is missing: run `npm ci` in " << kCompat / "oidc_provider" << " (deploy/setup.sh test does)";
    ASSERT_TRUE(std::filesystem::exists(kCompat / "browser/node_modules/playwright-core"));
    FRAMEHOUSE_SETUP_DATABASE(database_);
    const std::uint16_t port = testing::free_loopback_port();
    origin_ = "http://127.0.0.1:" + std::to_string(port);
    provider_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/node", (kCompat / "oidc_provider/provider.mjs").string()},
        std::vector<std::string>{
            "CLIENT_SECRET=a client secret of thirty-two chars",
            "REDIRECT_URI=" + origin_ + "/v1/sso/corp/callback",
            R"(ACCOUNTS={"ann":{"email":"ann@corp.example","name":"Ann Employee","employee":true},)"
            R"("bob":{"email":"bob@corp.example","name":"Bob Contractor"},)"
            R"("kid":{"email":"kid@corp.example","name":"A Child"},)"
            R"("eve":{"email":"alice@example.org","name":"Eve","email_verified":false},)"
            R"("carol":{"email":"carol@example.org","name":"Carol"}})"});
    const std::string line = provider_->wait_for_stdout_line("listening on", std::chrono::seconds(20));
    ASSERT_FALSE(line.empty()) << provider_->stderr_text();
    issuer_ = line.substr(line.find("http://"));
    std::string config = testing::listening_on(
        testing::server_config(dir.path(), "public_url = \"" + origin_ + "\"\n", database_->options().url), port);
    config += "[sso.corp]\ndisplay_name = \"Corp sign-in\"\nissuer = \"" + issuer_ +
              "\"\nclient_id = \"framehouse\"\nclient_secret = \"a client secret of thirty-two chars\"\n"
              "scopes = [\"openid\", \"email\", \"profile\", \"employee\"]\nadult_claim = \"employee\"\n";
    server = std::make_unique<testing::RunningServer>(config);
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }

  // The browser signs in as `login` and ends on /v1/me (signed in) or a page saying why not.
  boost::json::object browse(const std::string& login, const std::string& birth_date = "", const std::string& code = "") {
    const auto run = testing::run_command({"/usr/bin/node", (kCompat / "browser/sso.mjs").string()},
                                          {"START=" + origin_ + "/v1/sso/corp/start?return_to=/v1/me", "LOGIN=" + login,
                                           "BIRTH_DATE=" + birth_date, "CODE=" + code});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    boost::system::error_code error;
    auto result = boost::json::parse(run.out, error);
    if (error || !result.is_object()) {
      ADD_FAILURE() << "the browser script printed: " << run.out << run.err;
      return {};
    }
    return result.as_object();
  }
  // What the browser's last page showed, as JSON (the /v1/me it ended on).
  static boost::json::object page_json(const boost::json::object& page) {
    boost::system::error_code error;
    auto value = boost::json::parse(page.at("text").as_string(), error);
    return error || !value.is_object() ? boost::json::object{} : value.as_object();
  }

  std::unique_ptr<testing::ChildProcess> provider_;
  std::string origin_, issuer_;
};

TEST_P(SsoEndToEnd, AnEmployeeSignsInAndKeepsTheAccountAcrossAKeyRotation) {
  const auto listed = json_of(call("GET", "/v1/sso"));
  ASSERT_EQ(listed.at("data").as_array().size(), 1u);
  EXPECT_EQ(listed.at("data").as_array()[0].at("name"), "Corp sign-in");

  const auto first = browse("ann");
  EXPECT_EQ(first.at("url").as_string(), origin_ + "/v1/me") << first;
  const auto me = page_json(first);
  EXPECT_EQ(me.at("email"), "ann@corp.example");
  EXPECT_EQ(me.at("name"), "Ann Employee");
  EXPECT_EQ(me.at("email_verified"), true);

  // The provider rotates its signing key: the next ID token names a key not seen yet, and the
  // server fetches the keys again.
  provider_->signal(SIGUSR1);
  ASSERT_FALSE(provider_->wait_for_stdout_line("rotated", std::chrono::seconds(10)).empty());
  const auto again = browse("ann");
  EXPECT_EQ(again.at("url").as_string(), origin_ + "/v1/me") << again;
  EXPECT_EQ(page_json(again).at("id"), me.at("id"));  // the same account
  EXPECT_EQ(users_in_database(), 1);
}

TEST_P(SsoEndToEnd, SomeoneNewPassesTheSameAgeGateAsSignUp) {
  const auto adult = browse("bob", "1990-04-01");
  EXPECT_EQ(adult.at("url").as_string(), origin_ + "/v1/me") << adult;
  EXPECT_EQ(page_json(adult).at("email"), "bob@corp.example");

  const auto child = browse("kid", "2020-01-01");
  EXPECT_NE(std::string(child.at("text").as_string()).find("not available to you"), std::string::npos) << child;
  EXPECT_EQ(users_in_database(), 1);  // nothing of the child is kept
}

TEST_P(SsoEndToEnd, AnUnverifiedAddressNeverTakesOverAnAccount) {
  member("Alice", "alice@example.org");
  // Eve's provider profile claims Alice's address without having verified it.
  const auto eve = browse("eve", "1990-01-01");
  EXPECT_NE(std::string(eve.at("url").as_string()), origin_ + "/v1/me") << eve;
  EXPECT_NE(std::string(eve.at("text").as_string()).find("not verified your email"), std::string::npos) << eve;
  EXPECT_EQ(users_in_database(), 1);
}

// Carol has an account with two-factor sign-in on; a provider that proved no second factor is
// only her first, as her password would be.
TEST_P(SsoEndToEnd, AnAccountWithTwoFactorSignInStillNeedsItsCode) {
  const std::string carol = member("Carol", "carol@example.org");
  const std::string secret(json_of(call("POST", "/v1/me/two-factor/totp", "{}", bearer(carol))).at("secret").as_string());
  ASSERT_EQ(call("POST", "/v1/me/two-factor/totp/confirm",
                 boost::json::serialize(boost::json::object{{"code", testing::oathtool_code_from_now(secret, 0)}}), bearer(carol))
                .status,
            200);
  const auto without = browse("carol");
  EXPECT_NE(std::string(without.at("text").as_string()).find("enter the code your authenticator app shows"), std::string::npos)
      << without;
  const auto with = browse("carol", "", testing::oathtool_code_from_now(secret, 1));
  EXPECT_EQ(with.at("url").as_string(), origin_ + "/v1/me") << with;
  EXPECT_EQ(page_json(with).at("email"), "carol@example.org");
}

TEST_P(SsoEndToEnd, ACallbackThisBrowserDidNotStartIsRefused) {
  const auto forged = call("GET", "/v1/sso/corp/callback?code=stolen&state=guessed", "", {});
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.body.find("not started in this browser"), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/sso/nobody/start", "", {}).status, 404);
  const auto started = call("GET", "/v1/sso/corp/start?return_to=https://evil.example/", "", {});
  ASSERT_EQ(started.status, 303);
  EXPECT_EQ(started.header("location").rfind(issuer_ + "/auth?", 0), 0u) << started.header("location");
  EXPECT_NE(started.header("location").find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(started.header("location").find("&nonce="), std::string::npos);
  ASSERT_FALSE(started.set_cookies.empty());
  EXPECT_EQ(started.set_cookies[0].rfind("fh_sso=", 0), 0u);
  EXPECT_NE(started.set_cookies[0].find("HttpOnly"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, SsoEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
