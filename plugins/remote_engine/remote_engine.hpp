// What the bridges to remote inference servers share (gen_openai, gen_comfyui): HTTP calls
// (http_client.hpp) with one connection cache per engine, base URLs that take turns and are health-checked,
// the jobs under way upstream kept in a file (so that a purge or an erasure after a restart still
// finds them), and progress made from the durations an engine measured. Compiled into each
// plugin, so that a plugin stays one file that depends only on the SDK and system libraries.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>
#include <framehouse/sdk/generation.hpp>
#include <framehouse/sdk/outcome.hpp>
#include <framehouse/sdk/plugin.hpp>

#include "http_client.hpp"
#include "media.hpp"

namespace framehouse::remote_engine {

// How often a run looks whether it was canceled while it waits.
inline constexpr auto kCancelCheck = std::chrono::milliseconds(100);

using http_client::Answer;
using http_client::FormPart;
using http_client::HttpClient;
using http_client::HttpSettings;
using http_client::lower;
using http_client::normalise_base_urls;
using http_client::query_escaped;
using http_client::Request;

// The JSON object in a file of the plugin's, if there is one.
std::optional<boost::json::object> read_json_object(const std::filesystem::path& file);
// Replaces the file whole or not at all (a crash leaves the old one).
void write_json_atomically(const std::filesystem::path& file, const boost::json::object& value);

// Base URLs that take turns. One that failed is passed over for a while (unless every one is),
// and a background check marks each healthy or not every `interval`.
class BaseUrls {
 public:
  static constexpr auto kResting = std::chrono::seconds(30);

  explicit BaseUrls(std::vector<std::string> bases);
  ~BaseUrls();
  BaseUrls(const BaseUrls&) = delete;
  BaseUrls& operator=(const BaseUrls&) = delete;

  // `healthy` is called on the check's own thread, for one base URL at a time; the log says when
  // a base URL turns unhealthy or healthy again. `logger` outlives this.
  void start_health_checks(std::function<bool(const std::string& base)> healthy, sdk::Logger& logger,
                           std::chrono::seconds interval);
  void stop_health_checks();
  // In the order to try them: the next in turn first, resting ones last.
  std::vector<std::string> in_turn();
  void rest(const std::string& base);

 private:
  std::vector<std::string> bases_;
  std::atomic<std::size_t> next_{0};
  std::mutex mutex_;
  std::condition_variable stopping_;
  bool stop_ = false;
  std::map<std::string, std::chrono::steady_clock::time_point> resting_until_;
  std::map<std::string, bool> healthy_;  // by the last check
  std::thread checker_;
};

// An engine's way to its servers: libcurl started for the plugin's life, one HttpClient and the
// base URLs (config key base_url) with their health checks, torn down in that order's reverse.
class Upstream {
 public:
  Upstream() = default;
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Reads and checks base_url, starts libcurl, and checks each base URL every 15 s with a GET of
  // `health_path` (a 2xx answer is healthy).
  sdk::Outcome start(sdk::HostServices& host, HttpSettings settings, std::string health_path);
  // Ends the health checks (they log through the host's logger, valid until Plugin::stop()
  // returns): call it from Plugin::stop().
  void stop();
  // After a successful start().
  HttpClient& http() { return *http_; }
  BaseUrls& bases() { return *bases_; }

 private:
  bool curl_started_ = false;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<BaseUrls> bases_;
};

// The jobs under way upstream, by our job id: where they run and whose they are (no content),
// kept in a file so that a purge or an erasure after a restart still finds them.
class RemoteJobs {
 public:
  explicit RemoteJobs(std::filesystem::path file);
  // `entry` holds what the plugin needs to reach the job; "owner" is the person's user id.
  void track(const std::string& job, boost::json::object entry);
  std::optional<boost::json::object> find(const std::string& job);
  // Forgets the job, and that it was asked to stop.
  void forget(const std::string& job);
  std::vector<std::string> of_owner(const std::string& owner);
  // GenerationEngine::cancel(): the job's run sees it within kCancelCheck (in memory only: a
  // canceled job's run ends before a restart would matter).
  void ask_to_stop(const std::string& job);
  bool asked_to_stop(const std::string& job);

 private:
  void save() const;  // with mutex_ held
  std::filesystem::path file_;
  std::mutex mutex_;
  std::map<std::string, boost::json::object> jobs_;
  std::set<std::string> stopping_;
};

// Render seconds per video second, per model: a moving average, kept in a file.
class DurationHistory {
 public:
  explicit DurationHistory(std::filesystem::path file);
  // How far a job is by the clock alone: at most 95 before the end; a guess of 30 s per video
  // second until something was measured.
  int percent(const std::string& model, double video_seconds, std::chrono::steady_clock::duration elapsed);
  void record(const std::string& model, double video_seconds, std::chrono::steady_clock::duration took);

 private:
  std::filesystem::path file_;
  std::mutex mutex_;
  std::map<std::string, double> seconds_per_second_;
};

// A private copy of a download: an unnamed file (O_TMPFILE) in the plugin's data directory, gone
// when closed and never visible by name — the video, for its thumbnail.
class SpoolFile {
 public:
  static sdk::Result<std::unique_ptr<SpoolFile>> create(const std::filesystem::path& directory);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  sdk::Outcome write(std::span<const std::byte> data);
  // A path libav can open while this lives.
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  explicit SpoolFile(int fd) : fd_(fd) {}
  int fd_;
};

// Downloads `url` into the job's `variant` output, retrying a broken transfer (a failed download
// never renders again). An answer of 4xx (but 429) is Status::not_found, at once; others are
// retried, then Status::unavailable. With `spool_directory`, returns a private copy of it.
sdk::Result<std::unique_ptr<SpoolFile>> download(const HttpClient& http, const std::string& url, sdk::GenerationSink& sink,
                                                 std::string_view variant, std::string_view content_type,
                                                 const std::filesystem::path* spool_directory = nullptr);

// Commits a JPEG thumbnail made from the video's first picture (at most 1280 px a side).
sdk::Outcome commit_thumbnail_of(const SpoolFile& video, sdk::GenerationSink& sink);

// The input image of a job as a JPEG of exactly the video's size, fitted without distortion
// (`fit`), whole (a server takes it in one request).
sdk::Result<std::string> fitted_input_image(sdk::GenerationSink& sink, const sdk::GenerationRequest& request, media::Fit fit,
                                            const std::filesystem::path& spool_directory);
// The config key image_fit ("crop", the default, or "letterbox").
sdk::Result<media::Fit> image_fit_of(const sdk::ConfigSection& config);


// Sleeps `duration`, waking early once `stop_asked()` is true.
void sleep_unless(std::chrono::steady_clock::duration duration, const std::function<bool()>& stop_asked);

}  // namespace framehouse::remote_engine
