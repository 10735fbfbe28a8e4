// Loading a whole configuration file: core sections, plugin sections checked against the
// manifests of real plugin files, cross-checks, environment overrides.
#include <cstdlib>

#include <gtest/gtest.h>

#include "app/configuration.hpp"
#include "support/process.hpp"

namespace framehouse::app {
namespace {

class ConfigurationTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& body) {
    const auto file = dir.path() / "framehouse.toml";
    testing::write_file(file, "[plugins]\ndirectory = \"" FRAMEHOUSE_PLUGIN_DIR "\"\n" + body);
    return file;
  }
  std::vector<std::string> errors_of(const LoadResult& result) {
    std::vector<std::string> lines;
    if (const auto* errors = std::get_if<std::vector<config::ConfigError>>(&result)) {
      for (const auto& error : *errors) lines.push_back(error.to_string());
    }
    return lines;
  }
  testing::TempDir dir;
};

const std::string kDefaultPlugins = "[plugins.storage_fs]\n[plugins.email_outbox]\n";

TEST_F(ConfigurationTest, ShippedExampleIsValid) {
  // The test binary is not next to the plugins as the server is: point there as an admin would.
  ::setenv("FRAMEHOUSE_PLUGINS_DIRECTORY", FRAMEHOUSE_PLUGIN_DIR, 1);
  auto result = load_configuration(FRAMEHOUSE_SOURCE_DIR "/config/framehouse.toml");
  ::unsetenv("FRAMEHOUSE_PLUGINS_DIRECTORY");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(result)) << [&] {
    std::string all;
    for (const auto& line : errors_of(result)) all += line + "\n";
    return all;
  }();
  const auto& config = std::get<AppConfig>(result);
  EXPECT_EQ(config.server.port, 8080);
  // Relative to the configuration file's directory (config/), wherever the process runs.
  EXPECT_EQ(config.database.url, "sqlite:" + (std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "var" / "framehouse.db").lexically_normal().string());
  ASSERT_EQ(config.plugins.size(), 4u);
  EXPECT_EQ(config.plugins[0].declaration.name, "storage_fs");  // declaration order, not sorted
  EXPECT_EQ(config.plugins[1].declaration.name, "email_outbox");
  EXPECT_EQ(config.plugins[2].declaration.name, "payment_manual");
  EXPECT_EQ(config.plugins[3].declaration.name, "gen_procedural");
  EXPECT_EQ(config.billing.plans.at("free").max_seconds, 8);
  EXPECT_EQ(config.billing.plans.at("premium").retention_seconds, 30 * 24 * 3600);
  EXPECT_EQ(config.plugins[0].declaration.settings.boolean("fsync"), true);
}

// One rule for every relative path — the server's, the database's and a plugin's "path"
// settings: relative to the configuration file's directory, wherever the process runs.
TEST_F(ConfigurationTest, RelativePathsAreRelativeToTheConfigurationFile) {
  const auto file = write(
      "[server]\ndata_dir = \"state\"\n"
      "[database]\nurl = \"sqlite:state/framehouse.db\"\n"
      "[plugins.storage_fs]\nroot = \"objects\"\n"
      "[plugins.email_outbox]\ndirectory = \"/srv/mail\"\n");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path("/");
  const auto result = load_configuration(file);
  std::filesystem::current_path(previous);
  ASSERT_TRUE(std::holds_alternative<AppConfig>(result)) << ::testing::PrintToString(errors_of(result));
  const auto& config = std::get<AppConfig>(result);
  EXPECT_EQ(config.data_dir, dir.path() / "state");
  EXPECT_EQ(config.database.url, "sqlite:" + (dir.path() / "state" / "framehouse.db").string());
  EXPECT_EQ(config.plugins[0].declaration.settings.string("root"), (dir.path() / "objects").string());
  EXPECT_EQ(config.plugins[1].declaration.settings.string("directory"), "/srv/mail");  // absolute stays
}

TEST_F(ConfigurationTest, ReportsAllErrorsAcrossCoreAndPluginSections) {
  const auto file = write(
      "[server]\n"
      "threads = \"many\"\n"
      "listen = \"nowhere\"\n"
      "[databse]\n"
      "url = \"sqlite:x\"\n"
      "[plugins.storage_fs]\n"
      "fsync = \"yes\"\n"
      "rooot = \"/tmp\"\n"
      "[plugins.email_outbox]\n"
      "[plugins.ghost]\n"
      "[storage]\n"
      "plugin = \"ghost\"\n");
  const auto lines = errors_of(load_configuration(file));
  const std::string f = file.string();
  const std::vector<std::string> expected = {
      f + ":4:11: server.threads: expected integer, found string",
      f + ":6:2: databse: unknown key; did you mean 'database'?",
      f + ":5:10: server.listen: 'nowhere' is not host:port",
      f + ":12:1: plugins.ghost.path: cannot use plugin file " FRAMEHOUSE_PLUGIN_DIR "/ghost.so: no such file",
      f + ":9:9: plugins.storage_fs.fsync: expected boolean, found string",
      f + ":10:1: plugins.storage_fs.rooot: unknown key; did you mean 'root'?",
      // Not also "storage.plugin: no enabled plugin named 'ghost'": one cause, one message.
  };
  for (const auto& line : expected) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end()) << "missing: " << line << "\ngot:\n" << [&] {
      std::string all;
      for (const auto& l : lines) all += l + "\n";
      return all;
    }();
  }
  EXPECT_EQ(lines.size(), expected.size());
}

TEST_F(ConfigurationTest, TwoFactorCanBeRequiredOnlyOfStaffRoles) {
  const auto file = write("[plugins.storage_fs]\n[plugins.email_outbox]\n[accounts]\ntwo_factor_required_for = [\"admin\", \"root\"]\n");
  const auto lines = errors_of(load_configuration(file));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], file.string() +
                          ":6:27: accounts.two_factor_required_for: root is not a staff role; the staff roles are support, "
                          "billing, privacy, analyst, communications, admin");
}

TEST_F(ConfigurationTest, EnginesAndModelsAreCheckedAgainstEachOtherAndThePlans) {
  const auto file = write(kDefaultPlugins +
                          "[plugins.gen_procedural]\n"  // line 5
                          "[generation]\nplugin = \"gen_procedural\"\nengines = [\"gen_procedural\"]\n"
                          "[engines.gen_remote]\nworkers = 2\n"
                          "[models.studio]\nengine = \"gen_remote\"\nplans = [\"gold\"]\n");
  const auto lines = errors_of(load_configuration(file));
  const std::vector<std::string> expected = {
      file.string() + ":7:10: generation.plugin: set generation.engines or generation.plugin, not both",
      file.string() + ":9:1: engines.gen_remote: is not one of generation.engines (or generation.plugin)",
      file.string() + ":12:10: models.studio.engine: 'gen_remote' is not one of generation.engines (or generation.plugin)",
      file.string() + ":13:9: models.studio.plans: no plan named 'gold' (declare it as [plans.gold])",
  };
  EXPECT_EQ(lines, expected);
}

TEST_F(ConfigurationTest, EachEngineTakesItsWorkersFromItsTableOrTheVideoSection) {
  const auto result = load_configuration(write(kDefaultPlugins + "[plugins.gen_procedural]\n[video]\nworkers = 3\n"
                                               "[generation]\nengines = [\"gen_procedural\"]\n"
                                               "[engines.gen_procedural]\nmax_wait_minutes = 90\n"));
  ASSERT_TRUE(std::holds_alternative<AppConfig>(result)) << ::testing::PrintToString(errors_of(result));
  const auto& engines = std::get<AppConfig>(result).video.engines;
  ASSERT_EQ(engines.size(), 1u);
  EXPECT_EQ(engines[0].name, "gen_procedural");
  EXPECT_EQ(engines[0].workers, 3);
  EXPECT_EQ(engines[0].max_wait_seconds, 90 * 60);
}

TEST_F(ConfigurationTest, SyntaxErrorHasLineAndColumn) {
  const auto lines = errors_of(load_configuration(write("[server\nthreads = 2\n")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind((dir.path() / "framehouse.toml").string() + ":3:", 0), 0u) << lines[0];
}

TEST_F(ConfigurationTest, MissingFileIsOneClearError) {
  const auto lines = errors_of(load_configuration(dir.path() / "absent.toml"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("cannot read the file"), std::string::npos) << lines[0];
}

TEST_F(ConfigurationTest, PluginThatIsNotTheDeclaredOneIsRefused) {
  const auto lines = errors_of(load_configuration(write(
      kDefaultPlugins + "[plugins.mystore]\npath = \"" FRAMEHOUSE_PLUGIN_DIR "/storage_fs.so\"\n")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("contains plugin 'storage_fs', not 'mystore'"), std::string::npos) << lines[0];
}

TEST_F(ConfigurationTest, IncompatiblePluginIsAConfigErrorNamingTheFile) {
  const auto lines = errors_of(load_configuration(write(
      kDefaultPlugins + "[plugins.wrong_major]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/wrong_major.so\"\n")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(FRAMEHOUSE_FIXTURE_DIR "/wrong_major.so: incompatible with this server: storage interface: "
                          "expected 1.x with x <= 0, found 2.0"),
            std::string::npos)
      << lines[0];
}

TEST_F(ConfigurationTest, DisabledPluginIsNotReadAndRoleMustPointAtAnEnabledOne) {
  const auto lines = errors_of(load_configuration(
      write("[plugins.storage_fs]\nenabled = false\nwhatever = 1\n[plugins.email_outbox]\n")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("storage.plugin: plugin 'storage_fs' is declared with enabled = false"), std::string::npos) << lines[0];
}

TEST_F(ConfigurationTest, RoleMustImplementTheInterface) {
  const auto lines = errors_of(load_configuration(write(kDefaultPlugins + "[storage]\nplugin = \"email_outbox\"\n")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("plugin email_outbox does not implement the storage interface"), std::string::npos);
}

TEST_F(ConfigurationTest, EnvironmentOverridesAndSecrets) {
  ::setenv("FRAMEHOUSE_SERVER_THREADS", "7", 1);
  ::setenv("FRAMEHOUSE_TEST_DB_URL", "sqlite:/tmp/from-env.db", 1);
  auto result = load_configuration(write(kDefaultPlugins + "[database]\nurl = \"env:FRAMEHOUSE_TEST_DB_URL\"\n"));
  ::unsetenv("FRAMEHOUSE_SERVER_THREADS");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(result));
  EXPECT_EQ(std::get<AppConfig>(result).server.threads, 7);
  EXPECT_EQ(std::get<AppConfig>(result).database.url, "sqlite:/tmp/from-env.db");

  ::setenv("FRAMEHOUSE_SERVER_THREADS", "lots", 1);
  const auto lines = errors_of(load_configuration(write(kDefaultPlugins)));
  ::unsetenv("FRAMEHOUSE_SERVER_THREADS");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("server.threads: environment variable FRAMEHOUSE_SERVER_THREADS is not a valid integer"),
            std::string::npos) << lines[0];
}

TEST_F(ConfigurationTest, TlsNeedsItsFiles) {
  const auto lines = errors_of(load_configuration(write(kDefaultPlugins + "[server.tls]\nenabled = true\n")));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("server.tls.certificate: required when server.tls.enabled is true"), std::string::npos);
}

}  // namespace
}  // namespace framehouse::app
