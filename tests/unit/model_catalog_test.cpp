// Which model runs on which engine, with what limits (video/models).
#include <gtest/gtest.h>

#include "video/models.hpp"

namespace framehouse::video {
namespace {

const std::vector<EngineModels> kEngines = {
    {"gen_procedural", {{"procedural-1"}, {"1280x720", "512x512"}, 20, true, true}},
    {"gen_remote", {{"wan-2.2", "ltx"}, {"1280x720"}, 10, false, false}},
};

TEST(ModelCatalog, WithoutModelTablesEveryEnginesModelsAreOfferedAndTheAliasesNameTheFirst) {
  std::vector<std::string> errors;
  const auto catalog = ModelCatalog::build(kEngines, {}, {"sora-2", "sora-2-pro"}, 1000, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(catalog.models().size(), 3u);
  EXPECT_EQ(catalog.find("ltx")->engine, "gen_remote");
  EXPECT_EQ(catalog.find("ltx")->max_seconds, 10);
  EXPECT_FALSE(catalog.find("ltx")->image_input);
  EXPECT_EQ(catalog.find("sora-2")->id, "procedural-1");
  EXPECT_EQ(catalog.find("")->id, "procedural-1");  // no model asked for: the first
  EXPECT_EQ(catalog.find("nothing"), nullptr);
  EXPECT_EQ(catalog.aliases_of(*catalog.find("procedural-1")), (std::vector<std::string>{"sora-2", "sora-2-pro"}));
  EXPECT_TRUE(catalog.find("ltx")->allowed_on("free"));
  EXPECT_EQ(catalog.find("ltx")->created, 1000);
}

TEST(ModelCatalog, ModelTablesPublishNamesLimitsPlansAndAliases) {
  std::vector<std::string> errors;
  const std::vector<ModelSpec> specs = {
      {"studio", "gen_remote", "wan-2.2", {"premium"}, {"sora-2-pro"}, {}, 0, true},
      {"quick", "gen_procedural", "procedural-1", {}, {"sora-2"}, {"512x512"}, 4, true},
  };
  const auto catalog = ModelCatalog::build(kEngines, specs, {"sora-2"}, 0, errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(catalog.models().size(), 2u);  // only what the tables publish
  const Model* studio = catalog.find("sora-2-pro");
  ASSERT_NE(studio, nullptr);
  EXPECT_EQ(studio->id, "studio");
  EXPECT_EQ(studio->engine_model, "wan-2.2");
  EXPECT_FALSE(studio->image_input);  // asked for, but the engine cannot
  EXPECT_TRUE(studio->allowed_on("premium"));
  EXPECT_FALSE(studio->allowed_on("free"));
  const Model* quick = catalog.find("sora-2");
  EXPECT_EQ(quick->id, "quick");
  EXPECT_EQ(quick->sizes, std::vector<std::string>{"512x512"});
  EXPECT_EQ(quick->max_seconds, 4);
  EXPECT_EQ(catalog.find("wan-2.2"), nullptr);  // the engine's own name is not a public one
  EXPECT_EQ(catalog.first_for("free")->id, "quick");  // no model asked for: the first the plan may use
  EXPECT_EQ(catalog.first_for("premium")->id, "studio");
}

TEST(ModelCatalog, AModelThatDoesNotFitItsEngineIsRefusedNamingTableAndKey) {
  std::vector<std::string> errors;
  const std::vector<ModelSpec> specs = {
      {"a", "gen_missing", "", {}, {}, {}, 0, true},
      {"b", "gen_remote", "sora", {}, {}, {}, 0, true},
      {"c", "gen_remote", "ltx", {}, {}, {"512x512"}, 0, true},
      {"d", "gen_remote", "ltx", {}, {}, {}, 11, true},
      {"e", "gen_remote", "ltx", {}, {"f"}, {}, 0, true},
      {"f", "gen_remote", "ltx", {}, {}, {}, 0, true},
  };
  const auto catalog = ModelCatalog::build(kEngines, specs, {}, 0, errors);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], "models.a.engine: 'gen_missing' is not a loaded generation engine (loaded: gen_procedural, gen_remote)");
  EXPECT_EQ(errors[1], "models.b.engine_model: gen_remote has no model 'sora' (it offers wan-2.2, ltx)");
  EXPECT_EQ(errors[2], "models.c.sizes: gen_remote cannot make 512x512 (it makes 1280x720)");
  EXPECT_EQ(errors[3], "models.d.max_seconds: gen_remote makes videos of at most 10 seconds");
  EXPECT_EQ(errors[4], "models.f: the name is already an alias of another model");
  EXPECT_NE(catalog.find("e"), nullptr);
}

}  // namespace
}  // namespace framehouse::video
