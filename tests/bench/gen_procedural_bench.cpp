// Benchmark, run by hand: gen_procedural rendering a 5 s 1280x720 30 fps video (x264
// veryfast) against the ffmpeg command encoding comparable content (moving gradients with
// drawtext) at the same size, fps, preset and duration, in the same run. Median of 3 each.
//   bench_gen_procedural
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "framehouse/sdk/generation.hpp"
#include "framehouse/testkit/sinks.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"

using namespace framehouse;

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  testing::TempDir dir;
  observability::Log::configure(observability::LogLevel::error, observability::LogFormat::text);
  observability::Metrics metrics;
  plugins::PluginHost host(metrics, dir.path());
  if (auto error = testing::load_plugin(host, testing::shipped_plugin("gen_procedural"), "preset = \"veryfast\"")) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 1;
  }
  if (auto error = host.start_all()) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 1;
  }
  auto* engine = host.find("gen_procedural")->find<sdk::GenerationEngine>();
  sdk::GenerationRequest request;
  request.job_id = "bench";
  request.owner = "bench";
  request.prompt = "a lighthouse on a cliff at dusk, waves breaking below";
  request.width = 1280;
  request.height = 720;
  request.seconds = 5;
  request.fps = 30;

  std::vector<double> ours, theirs;
  std::size_t our_bytes = 0;
  for (int run = 0; run < 3; ++run) {
    testkit::MemoryGenerationSink sink;
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = engine->run(request, sink);
    ours.push_back(seconds_since(start));
    if (!outcome) {
      std::fprintf(stderr, "gen_procedural failed: %s\n", outcome.message().c_str());
      return 1;
    }
    our_bytes = 0;
    for (const auto& [variant, bytes] : sink.outputs) our_bytes += bytes.size();

    const auto out = dir.path() / "ffmpeg.mp4";
    const auto ffmpeg_start = std::chrono::steady_clock::now();
    const auto result = testing::run_command(
        {"/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "gradients=s=1280x720:r=30:d=5:speed=0.02", "-vf",
         "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='a lighthouse on a cliff at "
         "dusk':fontcolor=white:fontsize=45:x=(w-tw)/2:y=h-th-60:shadowx=2:shadowy=2",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
         out.string()});
    theirs.push_back(seconds_since(ffmpeg_start));
    if (result.exit_code != 0) {
      std::fprintf(stderr, "ffmpeg failed: %s\n", result.err.c_str());
      return 1;
    }
  }
  const double our_median = median(ours);
  const double their_median = median(theirs);
  std::printf("render 5 s of 1280x720 at 30 fps with x264 veryfast (150 frames), median of 3\n");
  std::printf("%-34s %8.3f s  %6.1f frames/s  (%zu bytes incl. thumbnail)\n", "gen_procedural", our_median,
              150 / our_median, our_bytes);
  std::printf("%-34s %8.3f s  %6.1f frames/s\n", "ffmpeg CLI (gradients + drawtext)", their_median, 150 / their_median);
  std::printf("gen_procedural / ffmpeg wall time: %.2f\n", our_median / their_median);
  host.stop_all();
  return 0;
}
