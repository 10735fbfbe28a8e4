// The generation engine contract (sdk/generation.hpp), on the smallest job the engine offers.
#include <chrono>
#include <cstdio>

#include "conformance.hpp"
#include "framehouse/sdk/generation.hpp"
#include "framehouse/testkit/sinks.hpp"

namespace framehouse::testkit::detail {
namespace {

// The engine's smallest size and first model, one second (or the longest it makes, if less).
sdk::GenerationRequest smallest_job(sdk::GenerationEngine& engine, const std::string& job_id) {
  const auto capabilities = engine.describe();
  sdk::GenerationRequest request;
  request.job_id = job_id;
  request.owner = "usr_conformance";
  request.model = capabilities.models.empty() ? "" : capabilities.models.front();
  request.prompt = "a red ball bouncing on a wooden floor";
  long best = -1;
  for (const auto& size : capabilities.sizes) {
    int width = 0, height = 0;
    if (std::sscanf(size.c_str(), "%dx%d", &width, &height) != 2) continue;
    if (best < 0 || static_cast<long>(width) * height < best) {
      best = static_cast<long>(width) * height;
      request.width = width;
      request.height = height;
    }
  }
  request.seconds = capabilities.max_seconds > 0 && capabilities.max_seconds < 1 ? capabilities.max_seconds : 1;
  request.fps = 12;
  request.seed = 42;
  return request;
}

bool is_cancel(const sdk::Outcome& outcome, int generation_minor) {
  if (generation_minor >= 1) return outcome.status() == sdk::Status::canceled;
  return outcome.status() == sdk::Status::conflict && outcome.message() == "canceled";
}

}  // namespace

void register_generation_checks(const ConformanceTarget& target) {
  add_check("generation_conformance", "DescribesItsModelsSizesAndLongestVideo", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(engine, sdk::GenerationEngine, target);
    const auto capabilities = engine->describe();
    EXPECT_FALSE(capabilities.models.empty());
    ASSERT_FALSE(capabilities.sizes.empty());
    for (const auto& size : capabilities.sizes) {
      int width = 0, height = 0;
      EXPECT_EQ(std::sscanf(size.c_str(), "%dx%d", &width, &height), 2) << size;
      EXPECT_GT(width, 0);
      EXPECT_GT(height, 0);
    }
    EXPECT_GT(capabilities.max_seconds, 0);
  });
  add_check("generation_conformance", "ARunCommitsAVideoAndReportsProgressInOrder", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(engine, sdk::GenerationEngine, target);
    MemoryGenerationSink sink;
    const sdk::Outcome ran = engine->run(smallest_job(*engine, "job_conformance_run"), sink);
    ASSERT_TRUE(ran) << sdk::to_string(ran.status()) << ": " << ran.message();
    ASSERT_TRUE(sink.outputs.contains("video"));
    EXPECT_FALSE(sink.outputs.at("video").empty());
    int previous = 0;
    for (int percent : sink.percents) {
      EXPECT_GE(percent, previous) << "progress went back";
      EXPECT_LE(percent, 100);
      previous = percent;
    }
    EXPECT_TRUE(engine->purge("job_conformance_run"));
  });
  add_check("generation_conformance", "ACanceledRunStopsWithinASecondAndCommitsNothing", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(engine, sdk::GenerationEngine, target);
    const auto file = PluginFile::open(target.plugin);
    ASSERT_TRUE(file);
    MemoryGenerationSink sink;
    sink.canceled = true;  // canceled before the first frame: the engine must notice at once
    const auto started = std::chrono::steady_clock::now();
    const sdk::Outcome ran = engine->run(smallest_job(*engine, "job_conformance_cancel"), sink);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
    EXPECT_TRUE(is_cancel(ran, file->interface_minor(sdk::GenerationEngine::kInterfaceName)))
        << sdk::to_string(ran.status()) << ": " << ran.message();
    EXPECT_FALSE(sink.outputs.contains("video"));
    EXPECT_TRUE(engine->purge("job_conformance_cancel"));
  });
  add_check("generation_conformance", "CancelAndPurgeOfAnUnknownJobSucceed", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(engine, sdk::GenerationEngine, target);
    EXPECT_TRUE(engine->cancel("job_never_seen"));
    EXPECT_TRUE(engine->purge("job_never_seen"));
    EXPECT_TRUE(engine->purge("job_never_seen"));
  });
}

}  // namespace framehouse::testkit::detail
