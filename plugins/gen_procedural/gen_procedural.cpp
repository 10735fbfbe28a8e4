// gen_procedural: the embedded default generation engine. See plugin.json.
//
// A job renders into a work file under the plugin's data directory (the MP4 muxer needs a
// seekable file to move its index to the front), streams it to the server through the sink,
// and deletes it. Work files are named <owner>+<job>.* so that purge, export and erasure find
// whatever a crash may have left behind.
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include <framehouse/sdk/generation.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <framehouse/sdk/storage.hpp>

extern "C" {
#include <libavutil/log.h>
}

#include "encoder.hpp"
#include "frames.hpp"
#include "text.hpp"

namespace gen_procedural {
namespace {

namespace fs = std::filesystem;
using namespace framehouse::sdk;

constexpr int kMinSide = 64;
constexpr int kMaxSide = 1920;

// libav logs through the plugin's logger instead of writing to stderr on its own. The callback
// is process-wide; the library is never unloaded, so the pointer stays valid.
Logger* g_libav_logger = nullptr;

void log_libav(void*, int level, const char* format, va_list arguments) {
  if (level > AV_LOG_WARNING || g_libav_logger == nullptr) return;
  char line[512];
  std::vsnprintf(line, sizeof line, format, arguments);
  std::string_view text(line);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty()) g_libav_logger->warn(std::string("libav: ").append(text));
}

Outcome stream_file(const fs::path& file, OutputStream& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Outcome::failure(Status::internal, "work file vanished");
  std::vector<char> buffer(64 * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    if (auto written = out.write(std::as_bytes(std::span(buffer.data(), got))); !written) return written;
  }
  return out.commit();
}

class ProceduralEngine final : public Plugin, public GenerationEngine, public PrivacyParticipant {
 public:
  Outcome start(HostServices& host) override {
    g_libav_logger = &host.logger();
    av_log_set_callback(log_libav);
    settings_.preset = host.config().string("preset").value_or("veryfast");
    settings_.crf = static_cast<int>(host.config().integer("crf").value_or(23));
    max_seconds_ = static_cast<int>(host.config().integer("max_seconds").value_or(20));
    work_ = host.data_directory() / "work";
    std::error_code ec;
    fs::create_directories(work_, ec);
    if (ec) return Outcome::failure(Status::unavailable, "cannot create " + work_.string() + ": " + ec.message());
    try {
      text_ = std::make_unique<TextRenderer>(host.config().string("font").value_or(""));
    } catch (const std::exception& error) {
      return Outcome::failure(Status::unavailable, error.what());
    }
    // Anything left by a crash is purged now: no copy outlives its job.
    for (const auto& entry : fs::directory_iterator(work_, ec)) fs::remove(entry.path(), ec);
    return {};
  }

  void* find_interface(std::string_view name) override {
    return provide_interfaces<GenerationEngine, PrivacyParticipant>(this, name);
  }

  EngineCapabilities describe() override {
    return {{"procedural-1"},
            {"1920x1080", "1080x1920", "1280x720", "720x1280", "1024x1792", "1792x1024", "640x360", "360x640", "512x512"},
            max_seconds_,
            true,
            true};
  }

  Outcome run(const GenerationRequest& request, GenerationSink& sink) override {
    if (auto invalid = check(request); !invalid) return invalid;
    {
      std::lock_guard lock(mutex_);
      canceled_.erase(request.job_id);
    }
    const fs::path video_file = work_file(request, ".mp4");
    const fs::path image_file = work_file(request, ".image");
    Outcome outcome;
    try {
      outcome = render(request, sink, video_file, image_file);
    } catch (const std::exception& error) {
      outcome = Outcome::failure(Status::internal, std::string("rendering failed: ") + error.what());
    }
    std::error_code ec;
    fs::remove(video_file, ec);
    fs::remove(image_file, ec);
    return outcome;
  }

  Outcome cancel(std::string_view job_id) override {
    std::lock_guard lock(mutex_);
    canceled_.insert(std::string(job_id));
    return {};
  }

  Outcome purge(std::string_view job_id) override {
    remove_work_files([&](const std::string& owner_and_job) {
      return owner_and_job.size() > job_id.size() &&
             owner_and_job.compare(owner_and_job.size() - job_id.size(), job_id.size(), job_id) == 0 &&
             owner_and_job[owner_and_job.size() - job_id.size() - 1] == '+';
    });
    return {};
  }

  // Nothing about a person is kept beyond a running job; a subject's work files are listed
  // and removed here so that a crash cannot leave a copy behind.
  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(work_, ec)) {
      if (entry.path().filename().string().rfind(subject.user_id + "+", 0) != 0) continue;
      if (auto written = sink.record("work_files", "{\"file\":\"" + entry.path().filename().string() + "\"}"); !written) {
        return written;
      }
    }
    return {};
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    ErasureReport report;
    report.files_removed = remove_work_files([&](const std::string& owner_and_job) {
      return owner_and_job.rfind(subject.user_id + "+", 0) == 0;
    });
    report.detail = std::to_string(report.files_removed) + " work files deleted";
    return report;
  }

  Outcome rectify(const Subject&, const Rectification&) override { return {}; }
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  Outcome check(const GenerationRequest& request) const {
    const auto bad = [](std::string message) { return Outcome::failure(Status::invalid_argument, std::move(message)); };
    if (!is_valid_object_name(request.owner) || !is_valid_object_name(request.job_id)) return bad("invalid owner or job id");
    if (request.width < kMinSide || request.height < kMinSide || request.width > kMaxSide ||
        request.height > kMaxSide || request.width % 2 != 0 || request.height % 2 != 0) {
      return bad("size must be even, from 64 to 1920 pixels a side");
    }
    if (request.fps < 1 || request.fps > 60) return bad("fps must be from 1 to 60");
    if (request.seconds <= 0 || request.seconds > max_seconds_) {
      return bad("seconds must be more than 0 and at most " + std::to_string(max_seconds_));
    }
    return {};
  }

  fs::path work_file(const GenerationRequest& request, const char* extension) const {
    return work_ / (request.owner + "+" + request.job_id + extension);
  }

  bool canceled(const GenerationRequest& request, const GenerationSink& sink) {
    if (sink.cancel_requested()) return true;
    std::lock_guard lock(mutex_);
    return canceled_.count(request.job_id) > 0;
  }

  Outcome render(const GenerationRequest& request, GenerationSink& sink, const fs::path& video_file,
                 const fs::path& image_file) {
    const std::uint64_t seed = scene_seed(request.prompt, request.seed);
    std::optional<YuvImage> source;
    if (request.has_input_image) {
      auto input = sink.open_input_image();
      if (!input) return input.outcome();
      if (auto copied = copy_to_file(*input.value(), image_file); !copied) return copied;
      try {
        // Room to zoom in without upscaling blur at the start.
        source = decode_first_picture(image_file.string(), request.width * 5 / 4, request.height * 5 / 4);
      } catch (const std::exception& error) {
        return Outcome::failure(Status::invalid_argument, error.what());
      }
    }
    const int frame_count = std::max(1, static_cast<int>(request.seconds * request.fps + 0.5));
    auto text_mask = text_->render(request.prompt, request.width, request.height);
    if (request.watermark) {
      const auto mark = text_->render_corner("Framehouse", request.width, request.height);
      for (std::size_t i = 0; i < text_mask.size(); ++i) text_mask[i] = std::max(text_mask[i], mark[i]);
    }
    const ProceduralScene scene(seed);
    EncoderSettings settings = settings_;
    settings.fps = request.fps;
    Mp4Writer writer(video_file.string(), request.width, request.height, settings);
    YuvImage frame(request.width, request.height);
    std::vector<std::uint8_t> thumbnail;
    int reported = -1;
    for (int index = 0; index < frame_count; ++index) {
      if (canceled(request, sink)) return Outcome::failure(Status::canceled, "canceled");
      if (source) {
        paint_pan_zoom(*source, frame, index, frame_count, seed);
      } else {
        scene.paint(frame, index, frame_count);
      }
      overlay_text(frame, text_mask);
      writer.write(frame);
      if (index == frame_count / 2) thumbnail = encode_jpeg(frame);
      // Encoding takes the first 95%; storing the outputs the rest.
      const int percent = (index + 1) * 95 / frame_count;
      if (percent != reported) {
        sink.progress(percent);
        reported = percent;
      }
    }
    writer.finish();
    if (canceled(request, sink)) return Outcome::failure(Status::canceled, "canceled");

    auto video = sink.open_output("video", "video/mp4");
    if (!video) return video.outcome();
    if (auto streamed = stream_file(video_file, *video.value()); !streamed) return streamed;
    auto preview = sink.open_output("thumbnail", "image/jpeg");
    if (!preview) return preview.outcome();
    if (auto written = preview.value()->write(std::as_bytes(std::span(thumbnail))); !written) return written;
    if (auto committed = preview.value()->commit(); !committed) return committed;
    sink.progress(100);
    return {};
  }

  static Outcome copy_to_file(ByteSource& source, const fs::path& file) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) return Outcome::failure(Status::unavailable, "cannot create a work file");
    auto copied = drain(source, [&](std::span<const std::byte> chunk) {
      out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
      return out ? Outcome{} : Outcome::failure(Status::unavailable, "cannot write a work file");
    });
    return copied;
  }

  template <class Matches>
  std::uint64_t remove_work_files(Matches&& matches) {
    std::uint64_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(work_, ec)) {
      if (matches(entry.path().stem().string()) && fs::remove(entry.path(), ec)) ++removed;
    }
    return removed;
  }

  EncoderSettings settings_;
  int max_seconds_ = 20;
  fs::path work_;
  std::unique_ptr<TextRenderer> text_;
  std::mutex mutex_;
  std::set<std::string> canceled_;
};

}  // namespace
}  // namespace gen_procedural

FRAMEHOUSE_PLUGIN_ENTRY(gen_procedural::ProceduralEngine)
