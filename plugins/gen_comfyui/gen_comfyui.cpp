// gen_comfyui: renders with an admin's ComfyUI workflows (Wan, HunyuanVideo, LTX-Video, … — what
// their server runs), one workflow file per model, with placeholders for the job's values
// (workflow.hpp).
//
// ComfyUI keeps its queue in memory, reports progress only over a websocket, and has no API to
// delete files. So:
//   * the input image is fitted to the video's size (image_fit: crop or letterbox) and uploaded
//     with /upload/image, so that the workflow never distorts it;
//   * each job has its own prompt_id (a UUID we choose) and client_id, remembered with the job
//     (generation 1.1) *before* it is submitted: a run after our restart, or on another node,
//     looks the prompt up (/history, /queue) and follows it instead of submitting a second one;
//     one that ComfyUI forgot (it restarted) is submitted once more, with the same seed;
//   * progress: per-node `progress` messages over the websocket, made into a whole-job
//     percentage (finished nodes, cached ones included, plus the running node's fraction);
//     completion is always read from /history/{id}, polled while the socket is down;
//   * a 200 with node_errors, an execution_error and an interrupt nobody here asked for are
//     failures with ComfyUI's own message;
//   * cancel: /api/jobs/{id}/cancel where the server has it, else /interrupt {prompt_id} and
//     /queue {delete}; our side stops within a second whatever the server does;
//   * the output (SaveVideo's `images` with `animated`, VideoHelperSuite's `gifs`) is
//     downloaded with /view, with retries of its own (a failed download never renders again); a
//     thumbnail is made from its first picture (ComfyUI makes none); the history entry (which
//     holds the prompt) is deleted afterwards, on failure and on purge;
//   * the files ComfyUI wrote (the output, the uploaded input image) stay on its disk: the
//     admin's cleanup_command removes them once the job ended; until then, or without one, they
//     are listed per owner (files.json), in the person's export, and an erasure tries the
//     command again or names them as not removed (privacy 1.2), so that
//     the request ends completed_with_exceptions instead of claiming what is not true.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <framehouse/sdk/generation.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <spawn.h>
#include <sys/wait.h>

#include "feed.hpp"
#include "remote_engine.hpp"
#include "workflow.hpp"

extern char** environ;

namespace {

namespace json = boost::json;
namespace remote = framehouse::remote_engine;
using framehouse::sdk::EngineCapabilities;
using framehouse::sdk::GenerationRequest;
using framehouse::sdk::GenerationSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using gen_comfyui::Workflow;

// While the websocket is up, /history is still read this often (a socket can die silently);
// while it is down, every kPollDown, and the socket is tried again every kReconnect.
constexpr auto kPollUp = std::chrono::seconds(5);
constexpr auto kPollDown = std::chrono::seconds(1);
constexpr auto kReconnect = std::chrono::seconds(5);
// A server that answers nothing this long: the job gives its worker back (Status::unavailable).
constexpr auto kUnreachable = std::chrono::seconds(60);

std::string text_of(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::string new_uuid() {
  std::random_device device;
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string id = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : id) {
    if (c == 'x') c = "0123456789abcdef"[nibble(device)];
    if (c == 'y') c = "89ab"[nibble(device) % 4];
  }
  return id;
}


// A file ComfyUI wrote: what /view takes.
struct ComfyFile {
  std::string filename, subfolder, type;
  std::string describe() const { return type + "/" + (subfolder.empty() ? "" : subfolder + "/") + filename; }
  json::object to_json() const { return {{"filename", filename}, {"subfolder", subfolder}, {"type", type}}; }
  static ComfyFile from_json(const json::object& o) { return {text_of(o, "filename"), text_of(o, "subfolder"), text_of(o, "type")}; }
};

// The video among a finished prompt's outputs: SaveVideo lists it under `images` with
// `animated: [true]`, VideoHelperSuite's combine node under `gifs`.
std::optional<ComfyFile> video_output(const json::object& outputs, std::string& found_instead) {
  for (const auto& [node, output] : outputs) {
    if (!output.is_object()) continue;
    const auto& fields = output.as_object();
    const auto* animated = fields.if_contains("animated");
    const bool is_animated = animated != nullptr && animated->is_array() && !animated->as_array().empty() &&
                             animated->as_array()[0].is_bool() && animated->as_array()[0].as_bool();
    for (const char* list : {"gifs", "images"}) {
      const auto* items = fields.if_contains(list);
      if (items == nullptr || !items->is_array() || (std::string_view(list) == "images" && !is_animated)) continue;
      for (const auto& item : items->as_array()) {
        if (!item.is_object()) continue;
        ComfyFile file = ComfyFile::from_json(item.as_object());
        const std::string name = remote::lower(file.filename);
        if (name.ends_with(".mp4") || name.ends_with(".m4v") || name.ends_with(".mov")) return file;
        found_instead = file.filename;
      }
    }
  }
  return std::nullopt;
}

// A node error ComfyUI reports in a 200 (or a 400): "KSampler (node 3): Value not in list: …".
std::string node_errors_text(const json::value& errors) {
  std::string text;
  if (!errors.is_object()) return text;
  for (const auto& [node, entry] : errors.as_object()) {
    if (!entry.is_object()) continue;
    std::string reasons;
    if (const auto* list = entry.as_object().if_contains("errors"); list != nullptr && list->is_array()) {
      for (const auto& reason : list->as_array()) {
        if (!reason.is_object()) continue;
        reasons += (reasons.empty() ? "" : "; ") + text_of(reason.as_object(), "message");
        if (const std::string details = text_of(reason.as_object(), "details"); !details.empty()) reasons += ": " + details;
      }
    }
    text += (text.empty() ? "" : "; ") + text_of(entry.as_object(), "class_type") + " (node " + std::string(node) + "): " + reasons;
  }
  return text;
}

// Where a run stands, from the websocket's messages.
struct Progress {
  std::size_t nodes = 1;
  std::set<std::string> finished;
  std::string running;
  double fraction = 0;  // of the running node
  int shown = 0;
  bool ended = false;  // executing {node: null} or execution_success: read /history
  std::optional<std::string> error;  // execution_error
  bool interrupted = false;

  void apply(const json::object& message, const std::string& prompt_id) {
    const std::string type = text_of(message, "type");
    const auto* data_value = message.if_contains("data");
    if (data_value == nullptr || !data_value->is_object()) return;
    const auto& data = data_value->as_object();
    if (text_of(data, "prompt_id") != prompt_id) return;  // another client's, or a status broadcast
    if (type == "execution_cached") {
      if (const auto* cached = data.if_contains("nodes"); cached != nullptr && cached->is_array()) {
        for (const auto& node : cached->as_array()) {
          if (node.is_string()) finished.insert(std::string(node.as_string()));
        }
      }
    } else if (type == "executing") {
      const auto* node = data.if_contains("node");
      if (!running.empty()) finished.insert(running);
      fraction = 0;
      if (node == nullptr || node->is_null()) {
        running.clear();
        ended = true;
      } else if (node->is_string()) {
        running = std::string(node->as_string());
      }
    } else if (type == "progress") {
      const auto* value = data.if_contains("value");
      const auto* max = data.if_contains("max");
      if (value != nullptr && max != nullptr && value->is_number() && max->is_number() && max->to_number<double>() > 0) {
        fraction = std::clamp(value->to_number<double>() / max->to_number<double>(), 0.0, 1.0);
      }
    } else if (type == "executed") {
      finished.insert(text_of(data, "node"));
    } else if (type == "execution_success") {
      ended = true;
    } else if (type == "execution_error") {
      error = text_of(data, "node_type") + " (node " + text_of(data, "node_id") + "): " + text_of(data, "exception_message");
      while (!error->empty() && (error->back() == '\n' || error->back() == ' ')) error->pop_back();
    } else if (type == "execution_interrupted") {
      interrupted = true;
    }
  }

  // Whole-job percentage: monotonic, at most 99 before the outputs are in.
  int percent() {
    const double done = static_cast<double>(finished.size()) + fraction;
    shown = std::max(shown, static_cast<int>(std::min(99.0, 100.0 * done / static_cast<double>(nodes))));
    return shown;
  }
};

class ComfyUi final : public framehouse::sdk::Plugin,
                      public framehouse::sdk::GenerationEngine,
                      public framehouse::sdk::PrivacyParticipant {
 public:
  Outcome start(framehouse::sdk::HostServices& host) override {
    logger_ = &host.logger();
    const auto& config = host.config();
    const std::filesystem::path directory = config.string("workflow_dir").value_or("");
    for (const auto& entry : config.strings("workflows").value_or(std::vector<std::string>{})) {
      const auto equals = entry.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
        return Outcome::failure(Status::invalid_argument, "workflows: \"" + entry + "\" is not \"<model>=<workflow file>\"");
      }
      const std::string model = entry.substr(0, equals);
      std::filesystem::path file = entry.substr(equals + 1);
      if (file.is_relative()) file = directory / file;
      auto loaded = Workflow::load(file);
      if (auto* why = std::get_if<std::string>(&loaded)) return Outcome::failure(Status::invalid_argument, "workflows." + model + ": " + *why);
      if (!workflows_.emplace(model, std::get<Workflow>(std::move(loaded))).second) {
        return Outcome::failure(Status::invalid_argument, "workflows: model " + model + " is listed twice");
      }
      capabilities_.models.push_back(model);
      capabilities_.image_input = capabilities_.image_input || workflows_.at(model).takes_image();
    }
    if (workflows_.empty()) return Outcome::failure(Status::invalid_argument, "workflows needs at least one \"<model>=<workflow file>\"");
    capabilities_.sizes = config.strings("sizes").value_or(std::vector<std::string>{});
    if (capabilities_.sizes.empty()) return Outcome::failure(Status::invalid_argument, "sizes needs at least one WxH");
    capabilities_.max_seconds = static_cast<int>(config.integer("max_seconds").value_or(5));
    capabilities_.seeded = true;
    fps_ = static_cast<int>(config.integer("fps").value_or(16));
    negative_prompt_ = config.string("negative_prompt").value_or("");
    cleanup_command_ = config.strings("cleanup_command").value_or(std::vector<std::string>{});
    auto fit = remote::image_fit_of(config);
    if (!fit) return fit.outcome();
    image_fit_ = fit.value();
    timeout_ = std::chrono::milliseconds(config.integer("timeout_ms").value_or(30'000));
    ca_file_ = config.string("ca_file").value_or("");
    remote::HttpSettings settings;
    settings.ca_file = ca_file_;
    settings.timeout_ms = timeout_.count();
    jobs_.emplace(host.data_directory() / "remotes.json");
    durations_.emplace(host.data_directory() / "durations.json");
    spool_directory_ = host.data_directory();
    files_file_ = host.data_directory() / "files.json";
    files_ = remote::read_json_object(files_file_).value_or(json::object{});
    // Healthy: it answers for its queue.
    return upstream_.start(host, settings, "/queue");
  }

  void stop() override { upstream_.stop(); }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<GenerationEngine, PrivacyParticipant>(this, name);
  }

  EngineCapabilities describe() override { return capabilities_; }

  Outcome run(const GenerationRequest& request, GenerationSink& sink) override {
    if (sink.cancel_requested()) return Outcome::failure(Status::canceled, "canceled");
    const auto workflow = workflows_.find(request.model);
    if (workflow == workflows_.end()) return Outcome::failure(Status::invalid_argument, "no workflow for model " + request.model);
    if (request.has_input_image && !workflow->second.takes_image()) {
      return Outcome::failure(Status::invalid_argument, "the workflow of " + request.model + " takes no input image ({{image}})");
    }
    const auto started = std::chrono::steady_clock::now();
    const auto stop_asked = [&] { return sink.cancel_requested() || jobs_->asked_to_stop(request.job_id); };

    // Who the prompt is and where it goes, kept before it is submitted; a prompt that was not
    // submitted yet may go to another server than last time.
    std::string prompt_id = sink.recall("prompt_id").value_or("");
    std::string base = sink.recall("base").value_or("");
    const bool submitted = sink.recall("submitted").has_value() && !base.empty();
    if (prompt_id.empty()) {
      prompt_id = new_uuid();
      if (auto kept = sink.remember("prompt_id", prompt_id); !kept) return kept;
    }
    if (!submitted) {
      base = upstream_.bases().in_turn().front();
      if (auto kept = sink.remember("base", base); !kept) return kept;
    }
    const std::string client_id = "framehouse-" + request.job_id;
    jobs_->track(request.job_id, json::object{{"base", base}, {"prompt_id", prompt_id}, {"owner", request.owner}});

    gen_comfyui::Feed feed(base, client_id, ca_file_, std::min(timeout_, std::chrono::milliseconds(10'000)));
    feed.open();  // before submitting, so that no message is missed
    if (!submitted) {
      if (auto queued = submit(request, sink, workflow->second, base, prompt_id, client_id); !queued) {
        forget(request.job_id);
        return queued;
      }
    }

    Progress progress;
    progress.nodes = std::max<std::size_t>(1, workflow->second.node_count());
    auto next_poll = std::chrono::steady_clock::now();
    auto next_reconnect = std::chrono::steady_clock::now() + kReconnect;
    auto next_presence = std::chrono::steady_clock::now() + kPollUp;
    auto last_answer = std::chrono::steady_clock::now();
    json::object entry;
    for (;;) {
      if (stop_asked()) {
        cancel_remote(base, prompt_id);
        clean_up_after(request.owner, request.job_id);
        forget(request.job_id);
        return Outcome::failure(Status::canceled, "canceled");
      }
      if (feed.connected()) {
        for (const auto& message : feed.receive(remote::kCancelCheck)) progress.apply(message, prompt_id);
      } else {
        std::this_thread::sleep_for(remote::kCancelCheck);
        if (std::chrono::steady_clock::now() >= next_reconnect) {
          feed.open();
          next_reconnect = std::chrono::steady_clock::now() + kReconnect;
        }
      }
      if (progress.error) return fail(request, base, prompt_id, *progress.error);
      if (progress.interrupted && !stop_asked()) return fail(request, base, prompt_id, "interrupted on the ComfyUI server");
      // The nodes' progress once the socket told any; until then, the clock's estimate.
      if (feed.connected() || progress.shown > 0) {
        sink.progress(progress.percent());
      } else {
        progress.shown = durations_->percent(request.model, request.seconds, std::chrono::steady_clock::now() - started);
        sink.progress(progress.shown);
      }
      const auto now = std::chrono::steady_clock::now();
      if (!progress.ended && now < next_poll) continue;
      next_poll = now + (feed.connected() ? kPollUp : kPollDown);
      const remote::Answer history = call("GET", base + "/history/" + prompt_id);
      if (!history.ok()) {
        if (history.status != 0 && history.status < 500) {
          return fail(request, base, prompt_id, "reading the prompt's history: " + history.describe());
        }
        // The server is restarting, or gone: the video waits (and this job reattaches when it
        // runs again) rather than holding a worker.
        if (now - last_answer > kUnreachable) return Outcome::failure(Status::unavailable, history.describe());
        continue;
      }
      last_answer = now;
      boost::system::error_code ec;
      const auto parsed = json::parse(history.body, ec);
      const auto* found = !ec && parsed.is_object() ? parsed.as_object().if_contains(prompt_id) : nullptr;
      if (found != nullptr && found->is_object()) {
        entry = found->as_object();
        break;
      }
      progress.ended = false;
      if (now < next_presence) continue;
      next_presence = now + kPollUp;
      // Not finished: is it still queued or running, or did the server forget it?
      if (auto present = in_queue(base, prompt_id); !present || *present) continue;
      if (sink.recall("resubmitted")) return fail(request, base, prompt_id, "the ComfyUI server lost the prompt twice");
      logger_->warn("the ComfyUI server lost a prompt; submitted again with the same seed (job " + request.job_id + ")");
      if (auto kept = sink.remember("resubmitted", "1"); !kept) return kept;
      if (!feed.connected()) feed.open();
      if (auto again = submit(request, sink, workflow->second, base, prompt_id, client_id); !again) {
        forget(request.job_id);
        return again;
      }
    }

    // Finished: success, or the error in its status messages.
    const auto* status = entry.if_contains("status");
    if (status != nullptr && status->is_object() && text_of(status->as_object(), "status_str") == "error") {
      return fail(request, base, prompt_id, error_in_history(status->as_object()));
    }
    const auto* outputs = entry.if_contains("outputs");
    std::string instead;
    const auto video = outputs != nullptr && outputs->is_object() ? video_output(outputs->as_object(), instead) : std::nullopt;
    if (!video) {
      return fail(request, base, prompt_id,
                  instead.empty() ? "the workflow produced no video (use SaveVideo, or VideoHelperSuite's Video Combine)"
                                  : "the workflow's output " + instead + " is not an MP4 (set the save node's format to mp4)");
    }
    note_file(request, base, *video);
    const std::string view = base + "/view?filename=" + remote::query_escaped(video->filename) +
                             "&subfolder=" + remote::query_escaped(video->subfolder) +
                             "&type=" + remote::query_escaped(video->type.empty() ? "output" : video->type);
    auto fetched = remote::download(upstream_.http(), view, sink, "video", "video/mp4", &spool_directory_);
    if (!fetched) return fetched.outcome();
    // ComfyUI makes no thumbnail: one from the video's first picture.
    if (auto made = remote::commit_thumbnail_of(*fetched.value(), sink); !made) logger_->warn("no thumbnail for a video: " + made.message());
    (void)call("POST", base + "/history", json::serialize(json::object{{"delete", json::array{json::value(prompt_id)}}}));
    clean_up_after(request.owner, request.job_id);
    durations_->record(request.model, request.seconds, std::chrono::steady_clock::now() - started);
    forget(request.job_id);
    sink.progress(100);
    return {};
  }

  Outcome cancel(std::string_view job_id) override {
    jobs_->ask_to_stop(std::string(job_id));
    return {};
  }

  Outcome purge(std::string_view job_id) override {
    const auto entry = jobs_->find(std::string(job_id));
    if (!entry) return {};
    const std::string base = text_of(*entry, "base");
    const std::string prompt_id = text_of(*entry, "prompt_id");
    cancel_remote(base, prompt_id);
    const remote::Answer forgotten = call("POST", base + "/history", json::serialize(json::object{{"delete", json::array{json::value(prompt_id)}}}));
    if (!forgotten.ok()) {
      return Outcome::failure(Status::unavailable, "could not delete the prompt's history on the ComfyUI server: " + forgotten.describe());
    }
    clean_up_after(text_of(*entry, "owner"), std::string(job_id));
    forget(std::string(job_id));
    return {};
  }

  // --- privacy: the prompts under way, and the files ComfyUI wrote for each person ---

  // One record per file ComfyUI keeps on its disk for the person.
  Outcome export_subject(const framehouse::sdk::Subject& subject, framehouse::sdk::ExportSink& sink) override {
    json::array files;
    {
      std::lock_guard lock(mutex_);
      const auto* listed = files_.if_contains(subject.user_id);
      if (subject.user_id.empty() || listed == nullptr || !listed->is_array()) return {};
      files = listed->as_array();
    }
    for (const auto& file : files) {
      if (auto written = sink.record("comfyui_files", json::serialize(file)); !written) return written;
    }
    return {};
  }

  Result<framehouse::sdk::ErasureReport> erase_subject(const framehouse::sdk::Subject& subject) override {
    std::vector<std::string> ignored;
    return erase_subject_with_exceptions(subject, ignored);
  }

  // Prompts under way are stopped and their history deleted. The files stay on the server's
  // disk (ComfyUI has no API to delete them): the cleanup command removes them, or they are
  // named as not removed. Either way the list of them is dropped, with the person's id.
  Result<framehouse::sdk::ErasureReport> erase_subject_with_exceptions(const framehouse::sdk::Subject& subject,
                                                                        std::vector<std::string>& not_removed) override {
    framehouse::sdk::ErasureReport report;
    if (subject.user_id.empty()) return report;
    for (const auto& job : jobs_->of_owner(subject.user_id)) {
      if (auto purged = purge(job); !purged) return purged;
      ++report.records_removed;
    }
    json::array files;
    {
      std::lock_guard lock(mutex_);
      if (const auto* listed = files_.if_contains(subject.user_id); listed != nullptr && listed->is_array()) files = listed->as_array();
    }
    std::map<std::string, int> left;  // base URL → files not removed
    for (const auto& item : files) {
      if (!item.is_object()) continue;
      const ComfyFile file = ComfyFile::from_json(item.as_object());
      const std::string base = text_of(item.as_object(), "base");
      if (run_cleanup(base, file)) {
        ++report.files_removed;
      } else {
        ++left[base];
      }
    }
    for (const auto& [base, count] : left) {
      not_removed.push_back(std::to_string(count) + " file" + (count == 1 ? "" : "s") + " on the ComfyUI server at " + base +
                            (cleanup_command_.empty() ? ": ComfyUI has no API to delete files, and no cleanup_command is configured"
                                                      : ": the cleanup_command failed"));
    }
    {
      std::lock_guard lock(mutex_);
      files_.erase(subject.user_id);
      remote::write_json_atomically(files_file_, files_);
    }
    report.detail = std::to_string(report.records_removed) + " prompts deleted, " + std::to_string(report.files_removed) +
                    " files removed by the cleanup command";
    return report;
  }
  Outcome rectify(const framehouse::sdk::Subject&, const framehouse::sdk::Rectification&) override { return {}; }
  Outcome apply_opt_out(const framehouse::sdk::Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const framehouse::sdk::Subject&, std::string_view) override { return {}; }

 private:
  void forget(const std::string& job_id) { jobs_->forget(job_id); }

  remote::Answer call(const std::string& method, const std::string& url, std::optional<std::string> body = std::nullopt,
                      framehouse::sdk::OutputStream* output = nullptr) {
    remote::Request request{method, url};
    request.body = std::move(body);
    request.output = output;
    return upstream_.http().send(request);
  }

  // Uploads the input image (once) and submits the prompt under its id.
  Outcome submit(const GenerationRequest& request, GenerationSink& sink, const Workflow& workflow, const std::string& base,
                 const std::string& prompt_id, const std::string& client_id) {
    gen_comfyui::JobValues values{request.prompt, negative_prompt_, request.seed, request.width, request.height,
                                  request.seconds, request.fps > 0 ? request.fps : fps_, "", "framehouse/" + request.job_id};
    if (request.has_input_image) {
      auto image = remote::fitted_input_image(sink, request, image_fit_, spool_directory_);
      if (!image) return image.outcome();
      remote::Request upload{"POST", base + "/upload/image"};
      upload.form = {{"image", image.value(), "framehouse-" + request.job_id + ".jpg", "image/jpeg"},
                     {"type", "input"},
                     {"overwrite", "true"}};
      const remote::Answer uploaded = upstream_.http().send(upload);
      if (!uploaded.ok()) return Outcome::failure(Status::unavailable, "uploading the input image: " + uploaded.describe());
      boost::system::error_code ec;
      const auto answer = json::parse(uploaded.body, ec);
      if (ec || !answer.is_object() || text_of(answer.as_object(), "name").empty()) {
        return Outcome::failure(Status::unavailable, "the ComfyUI server's answer to the upload has no name");
      }
      const ComfyFile stored{text_of(answer.as_object(), "name"), text_of(answer.as_object(), "subfolder"), "input"};
      note_file(request, base, stored);
      values.image = stored.subfolder.empty() ? stored.filename : stored.subfolder + "/" + stored.filename;
    }
    const json::object body{{"prompt", workflow.fill(values)}, {"client_id", client_id}, {"prompt_id", prompt_id}};
    const remote::Answer queued = call("POST", base + "/prompt", json::serialize(body));
    boost::system::error_code ec;
    const auto answer = json::parse(queued.body, ec);
    const json::object* fields = !ec && answer.is_object() ? &answer.as_object() : nullptr;
    const auto* errors = fields != nullptr ? fields->if_contains("node_errors") : nullptr;
    const std::string nodes = errors != nullptr ? node_errors_text(*errors) : "";
    // A 400, or a 200 with node errors (some outputs were queued, not ours): the workflow failed.
    if (queued.status == 400 || (queued.ok() && !nodes.empty())) {
      std::string why = "the ComfyUI server refused the workflow";
      if (const auto* error = fields != nullptr ? fields->if_contains("error") : nullptr; error != nullptr && error->is_object()) {
        why += ": " + text_of(error->as_object(), "message");
      }
      if (!nodes.empty()) why += " — " + nodes;
      if (queued.ok()) withdraw(base, prompt_id);
      return Outcome::failure(Status::invalid_argument, why);
    }
    if (!queued.ok()) {
      upstream_.bases().rest(base);
      return Outcome::failure(Status::unavailable, queued.describe());
    }
    return sink.remember("submitted", "1");
  }

  // Whether the prompt is running or pending; nothing when the queue cannot be read.
  std::optional<bool> in_queue(const std::string& base, const std::string& prompt_id) {
    const remote::Answer queue = call("GET", base + "/queue");
    if (!queue.ok()) return std::nullopt;
    boost::system::error_code ec;
    const auto parsed = json::parse(queue.body, ec);
    if (ec || !parsed.is_object()) return std::nullopt;
    for (const char* list : {"queue_running", "queue_pending"}) {
      const auto* items = parsed.as_object().if_contains(list);
      if (items == nullptr || !items->is_array()) continue;
      for (const auto& item : items->as_array()) {
        // [number, prompt_id, prompt, extra_data, outputs_to_execute]
        if (item.is_array() && item.as_array().size() > 1 && item.as_array()[1].is_string() &&
            item.as_array()[1].as_string() == prompt_id) {
          return true;
        }
      }
    }
    return false;
  }

  void cancel_remote(const std::string& base, const std::string& prompt_id) {
    const remote::Answer canceled = call("POST", base + "/api/jobs/" + prompt_id + "/cancel", std::string("{}"));
    if (canceled.ok()) return;
    // An older server: interrupt it if it is the running one, and take it off the queue if not.
    (void)call("POST", base + "/interrupt", json::serialize(json::object{{"prompt_id", prompt_id}}));
    (void)call("POST", base + "/queue", json::serialize(json::object{{"delete", json::array{json::value(prompt_id)}}}));
  }

  // Takes back a prompt ComfyUI queued in part (the outputs that validated): stops it, waits
  // (at most timeout_ms) until it is off the queue, and deletes its history, which holds the
  // prompt.
  void withdraw(const std::string& base, const std::string& prompt_id) {
    cancel_remote(base, prompt_id);
    const auto until = std::chrono::steady_clock::now() + timeout_;
    while (in_queue(base, prompt_id).value_or(false) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(remote::kCancelCheck);
    }
    (void)call("POST", base + "/history", json::serialize(json::object{{"delete", json::array{json::value(prompt_id)}}}));
  }

  // A failed prompt: its history (which holds the prompt) goes, and the job with it.
  Outcome fail(const GenerationRequest& request, const std::string& base, const std::string& prompt_id, const std::string& why) {
    (void)call("POST", base + "/history", json::serialize(json::object{{"delete", json::array{json::value(prompt_id)}}}));
    clean_up_after(request.owner, request.job_id);
    forget(request.job_id);
    return Outcome::failure(Status::internal, "ComfyUI: " + why);
  }

  // The last execution_error among a history entry's status messages ([type, data] pairs).
  static std::string error_in_history(const json::object& status) {
    std::string why = "the prompt failed";
    const auto* messages = status.if_contains("messages");
    if (messages == nullptr || !messages->is_array()) return why;
    for (const auto& message : messages->as_array()) {
      if (!message.is_array() || message.as_array().size() < 2 || !message.as_array()[1].is_object()) continue;
      const auto& data = message.as_array()[1].as_object();
      if (message.as_array()[0] == "execution_error") {
        why = text_of(data, "node_type") + " (node " + text_of(data, "node_id") + "): " + text_of(data, "exception_message");
      } else if (message.as_array()[0] == "execution_interrupted") {
        why = "interrupted on the ComfyUI server";
      }
    }
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return why;
  }

  // A file the server now keeps for the person, listed until it is removed or their erasure.
  void note_file(const GenerationRequest& request, const std::string& base, const ComfyFile& file) {
    if (request.owner.empty()) return;
    std::lock_guard lock(mutex_);
    auto& listed = files_[request.owner];
    if (!listed.is_array()) listed = json::array();
    json::object item = file.to_json();
    item["base"] = base;
    item["job"] = request.job_id;
    for (const auto& known : listed.as_array()) {
      if (known == item) return;
    }
    listed.as_array().push_back(std::move(item));
    remote::write_json_atomically(files_file_, files_);
  }

  // Once a job's files are of no use (downloaded, or the job ended without a video), the cleanup
  // command removes them; what it cannot remove stays listed for the person's erasure.
  void clean_up_after(const std::string& owner, const std::string& job_id) {
    if (cleanup_command_.empty() || owner.empty()) return;
    json::array files;
    {
      std::lock_guard lock(mutex_);
      if (const auto* listed = files_.if_contains(owner); listed != nullptr && listed->is_array()) files = listed->as_array();
    }
    json::array removed;
    for (const auto& item : files) {
      if (!item.is_object() || text_of(item.as_object(), "job") != job_id) continue;
      if (run_cleanup(text_of(item.as_object(), "base"), ComfyFile::from_json(item.as_object()))) removed.push_back(item);
    }
    if (removed.empty()) return;
    std::lock_guard lock(mutex_);
    auto* listed = files_.if_contains(owner);
    if (listed == nullptr || !listed->is_array()) return;
    json::array kept;
    for (const auto& item : listed->as_array()) {
      if (std::find(removed.begin(), removed.end(), item) == removed.end()) kept.push_back(item);
    }
    if (kept.empty()) {
      files_.erase(owner);
    } else {
      *listed = std::move(kept);
    }
    remote::write_json_atomically(files_file_, files_);
  }

  // Runs the admin's cleanup command with the server's base URL and the file's type, subfolder
  // and name as its last four arguments; exit status 0 means the file is gone.
  bool run_cleanup(const std::string& base, const ComfyFile& file) {
    if (cleanup_command_.empty()) return false;
    std::vector<std::string> arguments = cleanup_command_;
    for (const std::string& extra : {base, file.type, file.subfolder, file.filename}) arguments.push_back(extra);
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      logger_->warn("the cleanup_command could not be started");
      return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const bool removed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!removed) logger_->warn("the cleanup_command failed for a file on " + base);
    return removed;
  }

  framehouse::sdk::Logger* logger_ = nullptr;
  EngineCapabilities capabilities_;
  std::map<std::string, Workflow> workflows_;  // model → workflow
  int fps_ = 16;
  framehouse::media::Fit image_fit_ = framehouse::media::Fit::crop;
  std::string negative_prompt_, ca_file_;
  std::vector<std::string> cleanup_command_;
  std::chrono::milliseconds timeout_{30'000};
  remote::Upstream upstream_;
  std::optional<remote::RemoteJobs> jobs_;
  std::optional<remote::DurationHistory> durations_;
  std::filesystem::path spool_directory_;  // the video's private copy, for its thumbnail
  std::filesystem::path files_file_;
  std::mutex mutex_;     // guards files_
  json::object files_;  // owner → [{filename, subfolder, type, base, job}]
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(ComfyUi)
