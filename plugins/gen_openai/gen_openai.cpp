// gen_openai: renders on an upstream that speaks OpenAI's Videos API (`/v1/videos`) — vLLM-Omni,
// SGLang diffusion, FastVideo, a LiteLLM gateway, or another Framehouse in front of GPU nodes.
//
// Built for the weakest upstream, which keeps jobs in memory, reports progress as 0 or 100 and
// knows no cancel:
//   * create: multipart, with the input image as a file part — fitted to the video's size by
//     image_fit (crop or letterbox), so that no upstream distorts it; the job's seed goes along
//     (`send_seed`), so that a resubmission renders the same video;
//   * every create carries an Idempotency-Key made from our job's id, and the upstream's id is
//     remembered with the job as soon as it is known (generation 1.1): a run after our restart
//     or on another node reattaches to it, and one that crashed between the upstream's answer
//     and remembering it gets the same job back (from an upstream that honours the key);
//   * polling honours `openai-poll-after-ms`; progress that is only ever 0 or 100 upstream is
//     synthesised from the durations this engine measured (monotonic, never 100 before the end);
//   * an upstream that forgot the job (404: it restarted) gets it once more, with the same seed,
//     and that is logged;
//   * cancel: DELETE upstream; our side stops within a second whatever the upstream does;
//   * the content (and the thumbnail, where offered; else one is made from the video's first
//     picture) is downloaded with retries of its own — a failed download never renders again —
//     and the upstream copy deleted afterwards and on purge;
//   * several base URLs take turns; one that failed a submission or its health check (GET
//     /models every 15 s) is passed over for a while (BaseUrls::kResting), and a submission goes
//     to the next one when one is down. Connections are kept between polls.
// Kept here, under the plugin's data directory: the upstream jobs under way (remotes.json: job,
// base URL, upstream id, owner — no content), so that a purge or an erasure after a restart still
// finds their upstream copies; and the measured durations per model (durations.json).
// An upstream that cannot be reached at all is Status::unavailable: the core keeps the video
// queued (saying why) and tries again, and this engine then reattaches to what it remembered.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include <boost/json.hpp>
#include <framehouse/sdk/generation.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>

#include "remote_engine.hpp"

namespace {

namespace json = boost::json;
using framehouse::remote_engine::Answer;
using framehouse::remote_engine::Request;
using framehouse::sdk::EngineCapabilities;
using framehouse::sdk::GenerationRequest;
using framehouse::sdk::GenerationSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;


// Where one job runs upstream.
struct Remote {
  std::string base;
  std::string id;
};

class OpenAiVideos final : public framehouse::sdk::Plugin,
                           public framehouse::sdk::GenerationEngine,
                           public framehouse::sdk::PrivacyParticipant {
 public:
  Outcome start(framehouse::sdk::HostServices& host) override {
    logger_ = &host.logger();
    const auto& config = host.config();
    const std::string api_key = config.string("api_key").value_or("");
    send_seed_ = config.boolean("send_seed").value_or(true);
    auto fit = framehouse::remote_engine::image_fit_of(config);
    if (!fit) return fit.outcome();
    image_fit_ = fit.value();
    capabilities_.models = config.strings("models").value_or(std::vector<std::string>{});
    capabilities_.sizes = config.strings("sizes").value_or(std::vector<std::string>{});
    capabilities_.max_seconds = static_cast<int>(config.integer("max_seconds").value_or(8));
    capabilities_.image_input = config.boolean("image_input").value_or(true);
    capabilities_.seeded = send_seed_;
    if (capabilities_.models.empty()) return Outcome::failure(Status::invalid_argument, "models needs at least one upstream model");
    if (capabilities_.sizes.empty()) return Outcome::failure(Status::invalid_argument, "sizes needs at least one WxH");
    framehouse::remote_engine::HttpSettings settings;
    if (!api_key.empty()) settings.headers.push_back("Authorization: Bearer " + api_key);
    settings.ca_file = config.string("ca_file").value_or("");
    settings.timeout_ms = config.integer("timeout_ms").value_or(30'000);
    spool_directory_ = host.data_directory();
    remotes_.emplace(host.data_directory() / "remotes.json");
    durations_.emplace(host.data_directory() / "durations.json");
    // Healthy: it lists its models (every implementation of the dialect has GET /models).
    return upstream_.start(host, settings, "/models");
  }

  void stop() override { upstream_.stop(); }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<GenerationEngine, PrivacyParticipant>(this, name);
  }

  EngineCapabilities describe() override { return capabilities_; }

  Outcome run(const GenerationRequest& request, GenerationSink& sink) override {
    if (sink.cancel_requested()) return Outcome::failure(Status::canceled, "canceled");  // before any upstream work
    const auto started = std::chrono::steady_clock::now();
    Remote remote;
    bool resubmitted = sink.recall("resubmitted").has_value();
    if (auto base = sink.recall("upstream_base"), id = sink.recall("upstream_id"); base && id) {
      remote = {*base, *id};  // an earlier run submitted it: reattach
    } else {
      auto submitted = submit(request, sink, 1);
      if (!submitted) return submitted.outcome();
      remote = submitted.value();
      if (auto kept = remember(sink, remote); !kept) return kept;
    }
    track(request, remote);

    int shown = 0;
    const auto stop_asked = [&] { return sink.cancel_requested() || remotes_->asked_to_stop(request.job_id); };
    for (;;) {
      if (stop_asked()) {
        forget(request.job_id);
        (void)call("DELETE", remote.base + "/videos/" + remote.id);
        return Outcome::failure(Status::canceled, "canceled");
      }
      const Answer polled = call("GET", remote.base + "/videos/" + remote.id);
      if (polled.status == 404) {
        // The upstream restarted and forgot it (vLLM-Omni and SGLang keep jobs in memory).
        if (resubmitted) return Outcome::failure(Status::unavailable, "the upstream lost the job twice");
        logger_->warn("the upstream lost a job; submitted again with the same seed (job " + request.job_id + ")");
        auto again = submit(request, sink, 2);
        if (!again) return again.outcome();
        remote = again.value();
        resubmitted = true;
        if (auto kept = sink.remember("resubmitted", "1"); !kept) return kept;
        if (auto kept = remember(sink, remote); !kept) return kept;
        track(request, remote);
        continue;
      }
      if (!polled.ok()) return Outcome::failure(Status::unavailable, polled.describe());
      boost::system::error_code ec;
      const auto parsed = json::parse(polled.body, ec);
      if (ec || !parsed.is_object()) return Outcome::failure(Status::unavailable, "the upstream's video is not JSON");
      const auto& video = parsed.as_object();
      const std::string status = video.contains("status") && video.at("status").is_string()
                                     ? std::string(video.at("status").as_string()) : "";
      if (status == "completed") break;
      if (status == "failed") {
        std::string why = "the upstream failed the job";
        if (const auto* error = video.if_contains("error"); error != nullptr && error->is_object()) {
          if (const auto* text = error->as_object().if_contains("message"); text != nullptr && text->is_string()) {
            why += ": " + std::string(text->as_string());
          }
        }
        // Its record upstream holds the prompt, and nothing will come of it.
        (void)call("DELETE", remote.base + "/videos/" + remote.id);
        forget(request.job_id);
        return Outcome::failure(Status::internal, why);
      }
      const int upstream = video.contains("progress") && video.at("progress").is_int64()
                               ? static_cast<int>(video.at("progress").as_int64()) : 0;
      // The upstream's own percentage when it has one between 0 and 100, else one made from
      // how long this model's jobs took here before.
      const int now = upstream > 0 && upstream < 100
                          ? upstream : durations_->percent(request.model, request.seconds, std::chrono::steady_clock::now() - started);
      shown = std::max(shown, now);
      sink.progress(shown);
      framehouse::remote_engine::sleep_unless(poll_wait(polled), stop_asked);
    }

    const std::string content = remote.base + "/videos/" + remote.id + "/content";
    auto video = framehouse::remote_engine::download(upstream_.http(), content, sink, "video", "video/mp4", &spool_directory_);
    if (!video) return video.outcome();
    if (!framehouse::remote_engine::download(upstream_.http(), content + "?variant=thumbnail", sink, "thumbnail", "image/jpeg")) {
      // The upstream offers none (or could not send it): one from the video's first picture.
      if (auto made = framehouse::remote_engine::commit_thumbnail_of(*video.value(), sink); !made) {
        logger_->warn("no thumbnail for a video: " + made.message());
      }
    }
    (void)call("DELETE", remote.base + "/videos/" + remote.id);
    durations_->record(request.model, request.seconds, std::chrono::steady_clock::now() - started);
    forget(request.job_id);
    sink.progress(100);
    return {};
  }

  Outcome cancel(std::string_view job_id) override {
    // run() sees it within kCancelCheck, deletes the remote job and returns.
    remotes_->ask_to_stop(std::string(job_id));
    return {};
  }

  Outcome purge(std::string_view job_id) override {
    const auto entry = remotes_->find(std::string(job_id));
    if (!entry) return {};
    const Answer deleted = call("DELETE", text_of(*entry, "base") + "/videos/" + text_of(*entry, "id"));
    if (!deleted.ok() && deleted.status != 404) {
      // Kept, so that the next purge (the host's, or an erasure's) tries again.
      return Outcome::failure(Status::unavailable, "could not delete the upstream copy: " + deleted.describe());
    }
    forget(std::string(job_id));
    return {};
  }

  // --- privacy: nothing is kept here but the upstream copies of jobs under way ---

  Outcome export_subject(const framehouse::sdk::Subject&, framehouse::sdk::ExportSink&) override { return {}; }

  // The person's jobs were stopped first (the core's erasure ends processing): what is still
  // upstream goes.
  Result<framehouse::sdk::ErasureReport> erase_subject(const framehouse::sdk::Subject& subject) override {
    framehouse::sdk::ErasureReport report;
    for (const auto& job : remotes_->of_owner(subject.user_id)) {
      if (auto purged = purge(job); !purged) return purged;
      ++report.records_removed;
    }
    report.detail = std::to_string(report.records_removed) + " upstream jobs deleted";
    return report;
  }
  Outcome rectify(const framehouse::sdk::Subject&, const framehouse::sdk::Rectification&) override { return {}; }
  Outcome apply_opt_out(const framehouse::sdk::Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const framehouse::sdk::Subject&, std::string_view) override { return {}; }

 private:
  static std::string text_of(const json::object& entry, const char* key) {
    const auto* value = entry.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
  }
  Outcome remember(GenerationSink& sink, const Remote& remote) {
    if (auto kept = sink.remember("upstream_base", remote.base); !kept) return kept;
    return sink.remember("upstream_id", remote.id);
  }
  void track(const GenerationRequest& request, const Remote& remote) {
    remotes_->track(request.job_id, json::object{{"base", remote.base}, {"id", remote.id}, {"owner", request.owner}});
  }
  void forget(const std::string& job_id) { remotes_->forget(job_id); }

  // Submits to the first base URL that takes it; `submission` numbers the times this job was.
  Result<Remote> submit(const GenerationRequest& request, GenerationSink& sink, int submission) {
    std::string image;
    if (request.has_input_image) {
      auto read = framehouse::remote_engine::fitted_input_image(sink, request, image_fit_, spool_directory_);
      if (!read) return read.outcome();
      image = std::move(read.value());
    }
    std::string last_error = "no base URL";
    for (const std::string& base : upstream_.bases().in_turn()) {
      const Answer created = create(base, request, image, "framehouse-" + request.job_id + "-" + std::to_string(submission));
      if (created.ok()) {
        boost::system::error_code ec;
        const auto parsed = json::parse(created.body, ec);
        if (ec || !parsed.is_object() || !parsed.as_object().contains("id") || !parsed.as_object().at("id").is_string()) {
          return Outcome::failure(Status::unavailable, "the upstream's answer to create has no id");
        }
        return Remote{base, std::string(parsed.as_object().at("id").as_string())};
      }
      if (created.status >= 400 && created.status < 500 && created.status != 429) {
        // The upstream refused this request; another upstream would refuse it too.
        return Outcome::failure(Status::invalid_argument, created.describe());
      }
      last_error = created.describe();
      upstream_.bases().rest(base);
      logger_->warn("an upstream did not take a job; trying the next (" + last_error + ")");
    }
    return Outcome::failure(Status::unavailable, last_error);
  }

  Answer create(const std::string& base, const GenerationRequest& request, const std::string& image,
               const std::string& idempotency_key) {
    Request create{"POST", base + "/videos", {"Idempotency-Key: " + idempotency_key}};
    create.form = {{"prompt", request.prompt},
                   {"model", request.model},
                   {"seconds", std::to_string(static_cast<int>(std::lround(request.seconds)))},
                   {"size", std::to_string(request.width) + "x" + std::to_string(request.height)}};
    if (send_seed_) create.form.push_back({"seed", std::to_string(request.seed)});
    if (!image.empty()) {
      create.form.push_back({"input_reference", image, "input.jpg", "image/jpeg"});
    }
    return upstream_.http().send(create);
  }

  Answer call(const std::string& method, const std::string& url, framehouse::sdk::OutputStream* output = nullptr) {
    Request request{method, url};
    request.output = output;
    return upstream_.http().send(request);
  }

  // What the upstream asked to wait (openai-poll-after-ms, 200 ms to 10 s; 1 s if it did not say).
  static std::chrono::milliseconds poll_wait(const Answer& polled) {
    long wait_ms = 1000;
    if (const auto hint = polled.headers.find("openai-poll-after-ms"); hint != polled.headers.end()) {
      wait_ms = std::clamp(std::strtol(hint->second.c_str(), nullptr, 10), 200L, 10'000L);
    }
    return std::chrono::milliseconds(wait_ms);
  }

  framehouse::sdk::Logger* logger_ = nullptr;
  bool send_seed_ = true;
  framehouse::media::Fit image_fit_ = framehouse::media::Fit::crop;
  EngineCapabilities capabilities_;
  std::filesystem::path spool_directory_;  // the video's private copy, for a thumbnail
  framehouse::remote_engine::Upstream upstream_;
  std::optional<framehouse::remote_engine::RemoteJobs> remotes_;
  std::optional<framehouse::remote_engine::DurationHistory> durations_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(OpenAiVideos)
