#include <cstdlib>

#include <gtest/gtest.h>

#include "config/schema.hpp"
#include "support/process.hpp"

namespace framehouse::config {
namespace {

TableSpec sample_schema() {
  TableSpec server;
  FieldSpec threads{"threads", ValueType::integer};
  threads.default_value = std::int64_t{2};
  threads.minimum = 1;
  threads.maximum = 64;
  FieldSpec name{"name", ValueType::string};
  name.required = true;
  FieldSpec mode{"mode", ValueType::string};
  mode.one_of = {"fast", "safe"};
  mode.default_value = std::string("safe");
  FieldSpec tags{"tags", ValueType::string_array};
  server.fields = {threads, name, mode, tags};
  TableSpec root;
  root.tables["server"] = server;
  return root;
}

std::vector<ConfigError> validate(const std::string& text, Settings& settings) {
  Validator validator("test.toml");
  validator.validate(toml::parse(text, std::string_view("test.toml")), sample_schema(), "", settings);
  return validator.errors();
}

TEST(ConfigSchema, AppliesDefaultsAndReadsValues) {
  Settings settings;
  const auto errors = validate("[server]\nname = \"a\"\ntags = [\"x\", \"y\"]\n", settings);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(settings.integer("server.threads"), 2);
  EXPECT_EQ(settings.string("server.mode"), "safe");
  EXPECT_EQ(settings.string("server.name"), "a");
  EXPECT_EQ(settings.strings("server.tags"), (std::vector<std::string>{"x", "y"}));
}

TEST(ConfigSchema, ReportsEveryErrorWithLineColumnAndFullKey) {
  Settings settings;
  const auto errors = validate(
      "[server]\n"
      "threads = \"four\"\n"
      "treads = 4\n"
      "mode = \"quick\"\n"
      "tags = [1]\n",
      settings);
  ASSERT_EQ(errors.size(), 5u) << [&] {
    std::string all;
    for (const auto& e : errors) all += e.to_string() + "\n";
    return all;
  }();
  // In file order; the missing required key is reported at its table.
  EXPECT_EQ(errors[0].to_string(), "test.toml:1:1: server.name: required key is missing");
  EXPECT_EQ(errors[1].to_string(), "test.toml:2:11: server.threads: expected integer, found string");
  EXPECT_EQ(errors[2].to_string(), "test.toml:3:1: server.treads: unknown key; did you mean 'threads'?");
  EXPECT_EQ(errors[3].to_string(), "test.toml:4:8: server.mode: 'quick' is not one of: fast, safe");
  EXPECT_EQ(errors[4].to_string(), "test.toml:5:9: server.tags[0]: expected string, found integer");
  // A wrong value still leaves the default readable.
  EXPECT_EQ(settings.integer("server.threads"), 2);
}

TEST(ConfigSchema, RangeChecked) {
  Settings settings;
  const auto errors = validate("[server]\nname = \"a\"\nthreads = 0\n", settings);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "0 is out of range [1, 64]");
}

TEST(ConfigSchema, UnknownTableHasHint) {
  Settings settings;
  const auto errors = validate("[servr]\nname = \"a\"\n", settings);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].to_string(), "test.toml:1:1: server.name: required key is missing");
  EXPECT_EQ(errors[1].to_string(), "test.toml:1:2: servr: unknown key; did you mean 'server'?");
}

TEST(ConfigSchema, SecretsFromEnvironmentAndFile) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "secret", "from-file\n");
  ::setenv("FRAMEHOUSE_TEST_SECRET", "from-env", 1);
  Settings settings;
  auto errors = validate("[server]\nname = \"env:FRAMEHOUSE_TEST_SECRET\"\nmode = \"file:" +
                             (dir.path() / "secret").string() + "\"\n",
                         settings);
  // "from-file" is not one of the allowed modes: proves the file was read before the check.
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("'from-file' is not one of"), std::string::npos);
  EXPECT_EQ(settings.string("server.name"), "from-env");

  Settings missing;
  errors = validate("[server]\nname = \"env:FRAMEHOUSE_TEST_UNSET_VARIABLE\"\n", missing);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "environment variable FRAMEHOUSE_TEST_UNSET_VARIABLE is not set");
  EXPECT_EQ(errors[0].line, 2u);
}

TEST(ConfigSchema, DidYouMeanOnlyForCloseNames) {
  EXPECT_EQ(did_you_mean("thread", {"threads", "listen"}), "did you mean 'threads'?");
  EXPECT_EQ(did_you_mean("completely_else", {"threads", "listen"}), "");
}

TEST(ConfigSchema, ExtractStripsPrefix) {
  Settings settings;
  settings.set("plugins.a.root", std::string("/x"));
  settings.set("plugins.ab.root", std::string("/y"));
  const Settings a = settings.extract("plugins.a");
  EXPECT_EQ(a.string("root"), "/x");
  EXPECT_EQ(a.find("b.root"), nullptr);
}

}  // namespace
}  // namespace framehouse::config
