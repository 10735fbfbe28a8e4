// The server's HTML pages in a real browser (Debian's Chromium through playwright-core, see
// tests/compat/browser): the links a person gets by mail — confirm the address, choose a new
// password, unsubscribe with one click — opened and their buttons pressed, as a person would.
#include <filesystem>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

using BrowserEndToEnd = EndToEnd;

const std::filesystem::path kBrowserDir = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/browser";

// The path and query of the link in `text` that starts with `path_start`.
std::string link_in(const std::string& text, const std::string& path_start) {
  const auto at = text.find(path_start);
  if (at == std::string::npos) return "";
  return text.substr(at, text.find_first_of(" \r\n>", at) - at);
}

TEST_P(BrowserEndToEnd, MailedLinksWorkInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Chromium is missing (deploy/setup.sh test installs it)";
  ASSERT_TRUE(std::filesystem::exists(kBrowserDir / "node_modules/playwright-core"))
      << "playwright-core is missing: run `npm ci` in " << kBrowserDir << " (deploy/setup.sh test does)";
  const std::string origin = "http://127.0.0.1:" + std::to_string(server->port);
  const auto browse = [&](const boost::json::array& pages) {
    const auto run = testing::run_command({"/usr/bin/node", (kBrowserDir / "pages.mjs").string()},
                                          {"PAGES=" + boost::json::serialize(pages)});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  };

  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Alice", "alice@example.org")).status, 202);
  const auto welcome = testing::messages_to(outbox(), "alice@example.org");
  ASSERT_EQ(welcome.size(), 1u);
  browse({{{"url", origin + link_in(welcome.back().text, "/v1/accounts/verify-email?token=")},
           {"expect", "Email address confirmed"}}});
  const auto session = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"correct horse battery"})");
  ASSERT_EQ(session.status, 201);
  const std::string alice(json_of(session).at("token").as_string());
  EXPECT_EQ(json_of(call("GET", "/v1/me", "", bearer(alice))).at("email_verified"), true);

  ASSERT_EQ(call("PUT", "/v1/me/preferences", R"({"marketing":true})", bearer(alice)).status, 200);
  ASSERT_EQ(announce(administrator(), R"({"category":"marketing","subject":"News","body":"Longer videos."})").at("queued"), 1);
  ASSERT_EQ(call("POST", "/v1/password-reset", R"({"email":"alice@example.org"})").status, 202);
  const auto mails = testing::messages_to(outbox(), "alice@example.org");
  std::string unsubscribe, reset;
  for (const auto& mail : mails) {
    if (mail.subject == "News") unsubscribe = link_in(mail.text, "/v1/unsubscribe/");
    if (mail.subject == "Reset your password") reset = link_in(mail.text, "/v1/password-reset/confirm?token=");
  }
  ASSERT_FALSE(unsubscribe.empty());
  ASSERT_FALSE(reset.empty());
  browse({{{"url", origin + reset}, {"fill", {{"password", "a brand new phrase"}}}, {"expect", "Password changed"}},
          {{"url", origin + unsubscribe}, {"expect", "Unsubscribed"}}});

  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"a brand new phrase"})").status, 201);
  const auto again = call("POST", "/v1/sessions", R"({"email":"alice@example.org","password":"a brand new phrase"})");
  EXPECT_EQ(json_of(call("GET", "/v1/me/preferences", "", bearer(std::string(json_of(again).at("token").as_string()))))
                .at("marketing"),
            false);
}

// The pages do not depend on the database; one backend is enough.
INSTANTIATE_TEST_SUITE_P(Backends, BrowserEndToEnd, ::testing::Values(db::Backend::sqlite), testing::backend_name);

}  // namespace
}  // namespace framehouse
