// The official OpenAI Node client (pinned in tests/compat/openai_node) drives the real server
// with an API key: a program written for the OpenAI Videos API works with only the base URL
// and key changed. On SQLite and PostgreSQL.
#include <filesystem>

#include "e2e/end_to_end.hpp"

namespace framehouse {
namespace {

using OpenAiClientEndToEnd = EndToEnd;

TEST_P(OpenAiClientEndToEnd, TheOfficialNodeClientCreatesListsDownloadsRemixesAndDeletes) {
  const std::filesystem::path client_dir = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/openai_node";
  ASSERT_TRUE(std::filesystem::exists(client_dir / "node_modules/openai"))
      << "the OpenAI client is not installed: run `npm ci` in " << client_dir << " (deploy/setup.sh test does)";
  const std::string token = member("Alice", "alice@example.org");
  const auto key = call("POST", "/v1/api-keys", R"({"name":"openai client"})", bearer(token));
  ASSERT_EQ(key.status, 201) << key.body;
  const auto image = dir.path() / "reference.png";
  testing::write_file(image, small_png());

  const auto run = testing::run_command(
      {"/usr/bin/node", (client_dir / "videos.mjs").string()},
      {"FRAMEHOUSE_URL=http://127.0.0.1:" + std::to_string(server->port),
       "FRAMEHOUSE_KEY=" + std::string(json_of(key).at("key").as_string()), "IMAGE=" + image.string()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("3 videos made, listed, downloaded and deleted"), std::string::npos) << run.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, OpenAiClientEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
