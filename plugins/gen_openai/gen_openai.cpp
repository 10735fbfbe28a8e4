// gen_openai: renders on an upstream that speaks OpenAI's Videos API (`/v1/videos`) — vLLM-Omni,
// SGLang diffusion, FastVideo, a LiteLLM gateway, or another Framehouse in front of GPU nodes.
//
// Built for the weakest upstream, which keeps jobs in memory, reports progress as 0 or 100 and
// knows no cancel:
//   * create: multipart, with the input image as a file part; the job's seed goes along
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
//   * the content (and the thumbnail, where offered) is downloaded with retries of its own — a
//     failed download never renders again — and the upstream copy deleted afterwards and on
//     purge;
//   * several base URLs take turns; one that failed a submission is passed over for a while
//     (kResting), and a submission goes to the next one when one is down.
// Kept here, under the plugin's data directory: the upstream jobs under way (remotes.json: job,
// base URL, upstream id, owner — no content), so that a purge or an erasure after a restart still
// finds their upstream copies; and the measured durations per model (durations.json).
// An upstream that cannot be reached at all is Status::unavailable: the core keeps the video
// queued (saying why) and tries again, and this engine then reattaches to what it remembered.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <curl/curl.h>
#include <framehouse/sdk/generation.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>

namespace {

namespace json = boost::json;
using framehouse::sdk::EngineCapabilities;
using framehouse::sdk::GenerationRequest;
using framehouse::sdk::GenerationSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;

constexpr auto kCancelCheck = std::chrono::milliseconds(100);
constexpr int kDownloadAttempts = 3;
// How long a base URL that failed a submission is passed over (unless every one is resting).
constexpr auto kResting = std::chrono::seconds(30);

struct Answer {
  long status = 0;  // 0: no HTTP answer
  std::string body;
  std::string error;  // libcurl's, when status is 0
  std::map<std::string, std::string> headers;  // lower-case names
  bool ok() const { return status >= 200 && status < 300; }
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Where a response body goes: into memory, or (a download) into an output, unless the answer
// is an error.
struct BodyTarget {
  Answer* answer;
  framehouse::sdk::OutputStream* output = nullptr;
  Outcome failure;
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* target = static_cast<BodyTarget*>(user);
  const std::size_t n = size * count;
  if (target->output != nullptr && target->answer->status >= 200 && target->answer->status < 300) {
    if (auto written = target->output->write(std::as_bytes(std::span(data, n))); !written) {
      target->failure = written;
      return 0;
    }
    return n;
  }
  if (target->answer->body.size() < (1u << 20)) target->answer->body.append(data, n);
  return n;
}

// Each header line: the status line sets the status (and starts a new set of headers, after a
// 100 Continue or a redirect); the others are kept by lower-case name.
std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  Answer& answer = *static_cast<BodyTarget*>(user)->answer;
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    answer.headers.clear();
    const auto space = line.find(' ');
    answer.status = space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
  } else if (const auto colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    answer.headers[lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

bool loopback_http(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return false;
  std::string host = url.substr(7, url.find_first_of(":/", 7) - 7);
  if (host == "localhost") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

std::string error_message_of(const Answer& answer) {
  if (answer.status == 0) return "the upstream did not answer: " + answer.error;
  boost::system::error_code ec;
  const auto parsed = json::parse(answer.body, ec);
  std::string message;
  if (!ec && parsed.is_object()) {
    const auto* error = parsed.as_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      if (const auto* text = error->as_object().if_contains("message"); text != nullptr && text->is_string()) {
        message = std::string(text->as_string());
      }
    }
  }
  return "the upstream answered " + std::to_string(answer.status) + (message.empty() ? "" : ": " + message);
}

// The JSON object in a file of this plugin's, if there is one.
std::optional<json::object> read_json_object(const std::filesystem::path& file) {
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.as_object());
}

// Replaces the file whole or not at all (a crash leaves the old one).
void write_json_atomically(const std::filesystem::path& file, const json::object& value) {
  const auto temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json::serialize(value);
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
}

// Where one job runs upstream, and whose it is.
struct Remote {
  std::string base;
  std::string id;
  std::string owner;
};

class OpenAiVideos final : public framehouse::sdk::Plugin,
                           public framehouse::sdk::GenerationEngine,
                           public framehouse::sdk::PrivacyParticipant {
 public:
  ~OpenAiVideos() override {
    if (curl_started_) curl_global_cleanup();
  }

  Outcome start(framehouse::sdk::HostServices& host) override {
    logger_ = &host.logger();
    const auto& config = host.config();
    bases_ = config.strings("base_url").value_or(std::vector<std::string>{});
    if (bases_.empty()) return Outcome::failure(Status::invalid_argument, "base_url needs at least one URL");
    for (auto& base : bases_) {
      while (!base.empty() && base.back() == '/') base.pop_back();
      if (base.rfind("https://", 0) != 0 && !loopback_http(base)) {
        return Outcome::failure(Status::invalid_argument, "base_url must be https:// (http:// only to a loopback address): " + base);
      }
    }
    api_key_ = config.string("api_key").value_or("");
    ca_file_ = config.string("ca_file").value_or("");
    timeout_ms_ = config.integer("timeout_ms").value_or(30'000);
    send_seed_ = config.boolean("send_seed").value_or(true);
    capabilities_.models = config.strings("models").value_or(std::vector<std::string>{});
    capabilities_.sizes = config.strings("sizes").value_or(std::vector<std::string>{});
    capabilities_.max_seconds = static_cast<int>(config.integer("max_seconds").value_or(8));
    capabilities_.image_input = config.boolean("image_input").value_or(true);
    capabilities_.seeded = send_seed_;
    if (capabilities_.models.empty()) return Outcome::failure(Status::invalid_argument, "models needs at least one upstream model");
    if (capabilities_.sizes.empty()) return Outcome::failure(Status::invalid_argument, "sizes needs at least one WxH");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Outcome::failure(Status::internal, "libcurl failed to start");
    curl_started_ = true;
    durations_file_ = host.data_directory() / "durations.json";
    remotes_file_ = host.data_directory() / "remotes.json";
    load_durations();
    load_remotes();
    return {};
  }

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
      remote = {*base, *id, request.owner};  // an earlier run submitted it: reattach
    } else {
      auto submitted = submit(request, sink, 1);
      if (!submitted) return submitted.outcome();
      remote = submitted.value();
      if (auto kept = remember(sink, remote); !kept) return kept;
    }
    track(request.job_id, remote);

    int shown = 0;
    const auto stop_asked = [&] { return sink.cancel_requested() || canceled(request.job_id); };
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
        track(request.job_id, remote);
        continue;
      }
      if (!polled.ok()) return Outcome::failure(Status::unavailable, error_message_of(polled));
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
      shown = std::max(shown, progress_of(upstream, request, started));
      sink.progress(shown);
      wait_before_poll(polled, stop_asked);
    }

    if (auto fetched = download(remote, "video", "video/mp4", sink, true); !fetched) return fetched;
    (void)download(remote, "thumbnail", "image/jpeg", sink, false);
    (void)call("DELETE", remote.base + "/videos/" + remote.id);
    record_duration(request, std::chrono::steady_clock::now() - started);
    forget(request.job_id);
    sink.progress(100);
    return {};
  }

  Outcome cancel(std::string_view job_id) override {
    // run() sees it within kCancelCheck, deletes the remote job and returns.
    std::lock_guard lock(mutex_);
    canceled_.insert(std::string(job_id));
    return {};
  }

  Outcome purge(std::string_view job_id) override {
    Remote remote;
    {
      std::lock_guard lock(mutex_);
      const auto found = remotes_.find(std::string(job_id));
      if (found == remotes_.end()) return {};
      remote = found->second;
    }
    const Answer deleted = call("DELETE", remote.base + "/videos/" + remote.id);
    if (!deleted.ok() && deleted.status != 404) {
      // Kept, so that the next purge (the host's, or an erasure's) tries again.
      return Outcome::failure(Status::unavailable, "could not delete the upstream copy: " + error_message_of(deleted));
    }
    forget(std::string(job_id));
    return {};
  }

  // --- privacy: nothing is kept here but the upstream copies of jobs under way ---

  Outcome export_subject(const framehouse::sdk::Subject&, framehouse::sdk::ExportSink&) override { return {}; }

  // The person's jobs were stopped first (the core's erasure ends processing): what is still
  // upstream goes.
  Result<framehouse::sdk::ErasureReport> erase_subject(const framehouse::sdk::Subject& subject) override {
    std::vector<std::string> jobs;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [job, remote] : remotes_) {
        if (!subject.user_id.empty() && remote.owner == subject.user_id) jobs.push_back(job);
      }
    }
    framehouse::sdk::ErasureReport report;
    for (const auto& job : jobs) {
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
  Outcome remember(GenerationSink& sink, const Remote& remote) {
    if (auto kept = sink.remember("upstream_base", remote.base); !kept) return kept;
    return sink.remember("upstream_id", remote.id);
  }
  void track(const std::string& job_id, const Remote& remote) {
    std::lock_guard lock(mutex_);
    remotes_[job_id] = remote;
    save_remotes();
  }
  bool canceled(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    return canceled_.count(job_id) > 0;
  }
  void forget(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    remotes_.erase(job_id);
    canceled_.erase(job_id);
    save_remotes();
  }

  // The upstream jobs under way are kept on disk too, so that a purge or an erasure after a
  // restart still finds their upstream copies. Called with mutex_ held.
  void save_remotes() const {
    json::object saved;
    for (const auto& [job, remote] : remotes_) {
      saved[job] = json::object{{"base", remote.base}, {"id", remote.id}, {"owner", remote.owner}};
    }
    write_json_atomically(remotes_file_, saved);
  }

  void load_remotes() {
    const auto saved = read_json_object(remotes_file_);
    if (!saved) return;
    for (const auto& [job, entry] : *saved) {
      if (!entry.is_object()) continue;
      const auto& fields = entry.as_object();
      const auto text_of = [&](const char* key) {
        const auto* value = fields.if_contains(key);
        return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
      };
      remotes_[std::string(job)] = {text_of("base"), text_of("id"), text_of("owner")};
    }
  }

  // Submits to the first base URL that takes it; `submission` numbers the times this job was.
  Result<Remote> submit(const GenerationRequest& request, GenerationSink& sink, int submission) {
    std::string image;
    if (request.has_input_image) {
      auto source = sink.open_input_image();
      if (!source) return source.outcome();
      if (auto read = framehouse::sdk::drain(*source.value(), [&](std::span<const std::byte> chunk) {
            image.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
            return Outcome{};
          });
          !read) {
        return read;
      }
    }
    std::string last_error = "no base URL";
    for (const std::string& base : bases_in_turn()) {
      const Answer created = create(base, request, image, "framehouse-" + request.job_id + "-" + std::to_string(submission));
      if (created.ok()) {
        boost::system::error_code ec;
        const auto parsed = json::parse(created.body, ec);
        if (ec || !parsed.is_object() || !parsed.as_object().contains("id") || !parsed.as_object().at("id").is_string()) {
          return Outcome::failure(Status::unavailable, "the upstream's answer to create has no id");
        }
        return Remote{base, std::string(parsed.as_object().at("id").as_string()), request.owner};
      }
      if (created.status >= 400 && created.status < 500 && created.status != 429) {
        // The upstream refused this request; another upstream would refuse it too.
        return Outcome::failure(Status::invalid_argument, error_message_of(created));
      }
      last_error = error_message_of(created);
      {
        std::lock_guard lock(mutex_);
        resting_until_[base] = std::chrono::steady_clock::now() + kResting;
      }
      logger_->warn("an upstream did not take a job; trying the next (" + last_error + ")");
    }
    return Outcome::failure(Status::unavailable, last_error);
  }

  // The base URLs in the order to try them: taking turns, resting ones last.
  std::vector<std::string> bases_in_turn() {
    const std::size_t first = next_base_.fetch_add(1) % bases_.size();
    std::vector<std::string> ready, resting;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < bases_.size(); ++i) {
      const std::string& base = bases_[(first + i) % bases_.size()];
      const auto until = resting_until_.find(base);
      (until != resting_until_.end() && until->second > now ? resting : ready).push_back(base);
    }
    ready.insert(ready.end(), resting.begin(), resting.end());
    return ready;
  }

  Answer create(const std::string& base, const GenerationRequest& request, const std::string& image,
               const std::string& idempotency_key) {
    auto handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>(curl_easy_init(), &curl_easy_cleanup);
    curl_mime* form = curl_mime_init(handle.get());
    std::unique_ptr<curl_mime, decltype(&curl_mime_free)> form_owner(form, &curl_mime_free);
    const auto field = [&](const char* name, const std::string& value) {
      curl_mimepart* part = curl_mime_addpart(form);
      curl_mime_name(part, name);
      curl_mime_data(part, value.data(), value.size());
    };
    field("prompt", request.prompt);
    field("model", request.model);
    field("seconds", std::to_string(static_cast<int>(std::lround(request.seconds))));
    field("size", std::to_string(request.width) + "x" + std::to_string(request.height));
    if (send_seed_) field("seed", std::to_string(request.seed));
    if (!image.empty()) {
      curl_mimepart* part = curl_mime_addpart(form);
      curl_mime_name(part, "input_reference");
      curl_mime_data(part, image.data(), image.size());
      curl_mime_filename(part, "input.png");
      curl_mime_type(part, image.rfind("\xFF\xD8", 0) == 0 ? "image/jpeg" : image.rfind("RIFF", 0) == 0 ? "image/webp" : "image/png");
    }
    curl_easy_setopt(handle.get(), CURLOPT_MIMEPOST, form);
    return perform(handle.get(), base + "/videos", nullptr, nullptr, {"Idempotency-Key: " + idempotency_key});
  }

  Answer call(const std::string& method, const std::string& url, framehouse::sdk::OutputStream* output = nullptr,
              Outcome* output_failure = nullptr) {
    auto handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>(curl_easy_init(), &curl_easy_cleanup);
    if (method == "DELETE") curl_easy_setopt(handle.get(), CURLOPT_CUSTOMREQUEST, "DELETE");
    return perform(handle.get(), url, output, output_failure);
  }

  Answer perform(CURL* curl, const std::string& url, framehouse::sdk::OutputStream* output, Outcome* output_failure = nullptr,
                 const std::vector<std::string>& extra_headers = {}) {
    Answer answer;
    BodyTarget target{&answer, output, {}};
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
    for (const auto& header : extra_headers) headers.reset(curl_slist_append(headers.release(), header.c_str()));
    if (!api_key_.empty()) headers.reset(curl_slist_append(headers.release(), ("Authorization: Bearer " + api_key_).c_str()));
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<std::int64_t>(timeout_ms_, 10'000)));
    // A download may take long; a call that moves nothing for timeout_ms is abandoned.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max<long>(1, static_cast<long>(timeout_ms_ / 1000)));
    if (output == nullptr) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &target);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &target);
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      answer.error = std::string(curl_easy_strerror(code)) + (error[0] != '\0' ? std::string(": ") + error : "");
      if (!target.failure.ok() && output_failure != nullptr) *output_failure = target.failure;
      answer.status = 0;
    }
    return answer;
  }

  // Sleeps what the upstream asked (openai-poll-after-ms, 200 ms to 10 s), waking for a cancel.
  template <class StopAsked>
  void wait_before_poll(const Answer& polled, StopAsked&& stop_asked) {
    long wait_ms = 1000;
    if (const auto hint = polled.headers.find("openai-poll-after-ms"); hint != polled.headers.end()) {
      wait_ms = std::clamp(std::strtol(hint->second.c_str(), nullptr, 10), 200L, 10'000L);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (std::chrono::steady_clock::now() < until && !stop_asked()) std::this_thread::sleep_for(kCancelCheck);
  }

  // Downloads one variant into the job's output, retrying a broken transfer (never re-rendering).
  Outcome download(const Remote& remote, const std::string& variant, const std::string& type, GenerationSink& sink,
                   bool required) {
    const std::string url = remote.base + "/videos/" + remote.id + "/content" + (variant == "video" ? "" : "?variant=" + variant);
    Outcome last = Outcome::failure(Status::unavailable, "not tried");
    for (int attempt = 1; attempt <= kDownloadAttempts; ++attempt) {
      auto output = sink.open_output(variant, type);
      if (!output) return output.outcome();
      Outcome written;
      const Answer fetched = call("GET", url, output.value().get(), &written);
      if (fetched.ok()) return output.value()->commit();
      if (!written) return written;
      if (!required && fetched.status >= 400 && fetched.status < 500) return Outcome::failure(Status::not_found, "not offered");
      last = Outcome::failure(Status::unavailable, "downloading the " + variant + ": " + error_message_of(fetched));
      if (fetched.status >= 400 && fetched.status < 500 && fetched.status != 429) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250 * attempt));
    }
    return last;
  }

  // What to show: the upstream's own percentage when it has one between 0 and 100, else one
  // made from how long this model's jobs took here before (at most 95 before the end).
  int progress_of(int upstream, const GenerationRequest& request, std::chrono::steady_clock::time_point started) {
    if (upstream > 0 && upstream < 100) return upstream;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double expected = 0;
    {
      std::lock_guard lock(mutex_);
      const auto found = seconds_per_second_.find(request.model);
      expected = found == seconds_per_second_.end() ? 0 : found->second * std::max(1.0, request.seconds);
    }
    if (expected <= 0) expected = 30.0 * std::max(1.0, request.seconds);  // no history yet: a guess
    return static_cast<int>(std::min(95.0, 100.0 * elapsed / expected));
  }

  void record_duration(const GenerationRequest& request, std::chrono::steady_clock::duration took) {
    const double per_second = std::chrono::duration<double>(took).count() / std::max(1.0, request.seconds);
    std::lock_guard lock(mutex_);
    auto& average = seconds_per_second_[request.model];
    average = average <= 0 ? per_second : 0.8 * average + 0.2 * per_second;  // a moving average
    json::object saved;
    for (const auto& [model, value] : seconds_per_second_) saved[model] = value;
    write_json_atomically(durations_file_, saved);
  }

  void load_durations() {
    const auto saved = read_json_object(durations_file_);
    if (!saved) return;
    for (const auto& [model, value] : *saved) {
      if (value.is_number()) seconds_per_second_[std::string(model)] = value.to_number<double>();
    }
  }

  framehouse::sdk::Logger* logger_ = nullptr;
  std::vector<std::string> bases_;
  std::atomic<std::size_t> next_base_{0};
  std::string api_key_, ca_file_;
  std::int64_t timeout_ms_ = 30'000;
  bool send_seed_ = true;
  bool curl_started_ = false;
  EngineCapabilities capabilities_;
  std::filesystem::path durations_file_, remotes_file_;
  std::mutex mutex_;
  std::map<std::string, Remote> remotes_;  // job id → where it runs, while it is ours
  std::map<std::string, std::chrono::steady_clock::time_point> resting_until_;  // base URL → passed over until
  std::set<std::string> canceled_;
  std::map<std::string, double> seconds_per_second_;  // model → render seconds per video second
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(OpenAiVideos)
