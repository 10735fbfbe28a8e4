// The web app in a real browser (Debian's Chromium through playwright-core, see
// tests/compat/browser): `node --test app.test.mjs` drives every area — the first admin made
// with the printed setup link, sign-up through the mailed link, making, watching and managing
// videos, settings, the rights of the privacy policy, the privacy center and the admin console
// — with axe-core on every screen, against the real binary on SQLite and PostgreSQL.
#include <csignal>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>
#include <regex>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

class BrowserEndToEnd : public EndToEnd {
 protected:
  // The deployment's policy, as the app and the privacy center show it; a copy, so that the
  // test can post a new version.
  std::string extra_config() const override {
    return "[privacy]\npolicy_file = \"" + (dir.path() / "policy.md").string() + "\"\ncontact = \"dpo@example.org\"\n";
  }
  void SetUp() override {
    testing::write_file(dir.path() / "policy.md", testing::read_file(FRAMEHOUSE_SOURCE_DIR "/config/privacy-policy.md"));
    EndToEnd::SetUp();
  }
  // A new version of the policy, posted as a deployment does: a changed file, a restart.
  void post_new_policy() {
    testing::write_file(dir.path() / "policy.md", testing::read_file(dir.path() / "policy.md") + "\nWe added a paragraph.\n");
    server->process->signal(SIGTERM);
    server->process->wait(std::chrono::seconds(10));
    server = std::make_unique<testing::RunningServer>(testing::server_config(dir.path(), "", database_->options().url) +
                                                      extra_config());
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
};

const std::filesystem::path kBrowserDir = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/browser";

TEST_P(BrowserEndToEnd, TheAppInChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Chromium is missing (deploy/setup.sh test installs it)";
  ASSERT_TRUE(std::filesystem::exists(kBrowserDir / "node_modules/playwright-core"))
      << "playwright-core is missing: run `npm ci` in " << kBrowserDir << " (deploy/setup.sh test does)";
  // Pat signed up under the first version of the policy; a new one is posted since.
  member("Pat Policy", "pat@example.org");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the new version takes effect a second later
  post_new_policy();
  const std::string setup_line = server->process->wait_for_stdout_line("no admin yet", std::chrono::seconds(10));
  std::smatch link;
  ASSERT_TRUE(std::regex_search(setup_line, link, std::regex("(http://\\S+/setup#token=\\S+)"))) << setup_line;
  std::vector<std::string> env = {"ORIGIN=http://127.0.0.1:" + std::to_string(server->port), "SETUP_URL=" + link[1].str(),
                                  "OUTBOX=" + (dir.path() / "var/plugins/email_outbox/outbox").string(),
                                  "POLICY_USER=pat@example.org"};
  // The screenshots in docs/ are made from one backend's run.
  if (GetParam() == db::Backend::sqlite) env.push_back("SCREENSHOTS=" + std::string(FRAMEHOUSE_SOURCE_DIR) + "/docs/screenshots");
  const auto run = testing::run_command({"/usr/bin/node", "--test", "--test-reporter=spec", (kBrowserDir / "app.test.mjs").string()}, env);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  // The figures the suite measures (the first load's size and time), for the run's log.
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("first load:") != std::string::npos) std::cout << line << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BrowserEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql), testing::backend_name);

}  // namespace
}  // namespace framehouse
