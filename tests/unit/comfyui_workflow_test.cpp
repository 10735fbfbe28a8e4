// gen_comfyui's workflow templates: what is refused at start, and how a job's values go in.
#include <fstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/process.hpp"
#include "workflow.hpp"

namespace {

namespace json = boost::json;
using gen_comfyui::Workflow;

class ComfyUiWorkflow : public ::testing::Test {
 protected:
  std::variant<Workflow, std::string> load(const std::string& text) {
    const auto file = dir.path() / "workflow.json";
    std::ofstream(file) << text;
    return Workflow::load(file);
  }
  std::string error_of(const std::string& text) {
    auto loaded = load(text);
    return std::holds_alternative<std::string>(loaded) ? std::get<std::string>(loaded) : "(loaded)";
  }
  framehouse::testing::TempDir dir;
};

constexpr const char* kComplete =
    R"({"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "cinematic, {{prompt}}"}},
        "2": {"class_type": "EmptyHunyuanLatentVideo", "inputs": {"width": "{{width}}", "height": "{{height}}", "length": "{{frames}}"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", "latent_image": ["2", 0]}},
        "4": {"class_type": "SaveVideo", "inputs": {"filename_prefix": "{{filename_prefix}}"}}})";

TEST_F(ComfyUiWorkflow, RefusesWhatCannotRenderAJobNamingTheFile) {
  EXPECT_NE(error_of("{not json").find("workflow.json: not JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"1": {"inputs": {}}})").find("node 1 has no class_type and inputs (export the workflow in API format)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"last_node_id": 9, "nodes": []})").find("has no class_type and inputs"), std::string::npos);  // UI format
  EXPECT_NE(error_of(R"({"1": {"class_type": "X", "inputs": {"text": "{{prompt}} {{sed}}"}}})").find("unknown placeholder {{sed}}"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"1": {"class_type": "X", "inputs": {"text": "{{prompt}}", "seed": "{{seed}}", "width": "{{width}}",
                              "height": "{{height}}"}}})")
                .find("no {{frames}} or {{seconds}} placeholder"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"1": {"class_type": "X", "inputs": {"seed": "{{seed}}"}}})").find("no {{prompt}} placeholder"), std::string::npos);
  EXPECT_EQ(error_of(kComplete), "(loaded)");
}

TEST_F(ComfyUiWorkflow, PutsNumbersInAsNumbersAndTextWithoutReadingItAsATemplate) {
  auto loaded = load(kComplete);
  const auto& workflow = std::get<Workflow>(loaded);
  EXPECT_FALSE(workflow.takes_image());
  EXPECT_EQ(workflow.node_count(), 4u);
  gen_comfyui::JobValues values;
  values.prompt = "a \"quoted\" kite {{seed}}";  // a user's text is never a template
  values.seed = 18446744073709551615ull;
  values.width = 832;
  values.height = 480;
  values.seconds = 5;
  values.fps = 16;
  values.filename_prefix = "framehouse/job_1";
  const auto graph = workflow.fill(values);
  EXPECT_EQ(graph.at("1").at("inputs").at("text"), "cinematic, a \"quoted\" kite {{seed}}");
  EXPECT_EQ(graph.at("2").at("inputs").at("width"), 832);
  EXPECT_EQ(graph.at("2").at("inputs").at("length"), 81);  // 5 s × 16 fps + the first frame
  EXPECT_EQ(graph.at("3").at("inputs").at("seed").as_uint64(), 18446744073709551615ull);
  EXPECT_EQ(graph.at("3").at("inputs").at("latent_image"), (json::array{"2", 0}));  // links untouched
  EXPECT_EQ(graph.at("4").at("inputs").at("filename_prefix"), "framehouse/job_1");
}

}  // namespace
