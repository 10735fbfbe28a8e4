#include "remote_engine.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <span>

#include <boost/json.hpp>
#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include "media.hpp"

namespace framehouse::remote_engine {

namespace json = boost::json;
using sdk::Outcome;
using sdk::Status;

std::optional<json::object> read_json_object(const std::filesystem::path& file) {
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.as_object());
}

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

BaseUrls::BaseUrls(std::vector<std::string> bases) : bases_(std::move(bases)) {}

BaseUrls::~BaseUrls() { stop_health_checks(); }

void BaseUrls::stop_health_checks() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopping_.notify_all();
  if (checker_.joinable()) checker_.join();
}

void BaseUrls::start_health_checks(std::function<bool(const std::string&)> healthy, sdk::Logger& logger,
                                   std::chrono::seconds interval) {
  checker_ = std::thread([this, healthy = std::move(healthy), &logger, interval] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      std::map<std::string, bool> verdicts;
      for (const auto& base : bases_) verdicts[base] = healthy(base);
      lock.lock();
      const auto now = std::chrono::steady_clock::now();
      for (const auto& [base, fine] : verdicts) {
        if (fine) {
          resting_until_.erase(base);
        } else {
          resting_until_[base] = now + kResting;
        }
        const auto known = healthy_.find(base);
        if (!fine && (known == healthy_.end() || known->second)) {
          logger.warn("an upstream failed its health check; passed over while it does: " + base);
        } else if (fine && known != healthy_.end() && !known->second) {
          logger.info("an upstream passes its health check again: " + base);
        }
        healthy_[base] = fine;
      }
      stopping_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

std::vector<std::string> BaseUrls::in_turn() {
  const std::size_t first = next_.fetch_add(1) % bases_.size();
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

void BaseUrls::rest(const std::string& base) {
  std::lock_guard lock(mutex_);
  resting_until_[base] = std::chrono::steady_clock::now() + kResting;
}

Upstream::~Upstream() {
  stop();
  http_.reset();
  if (curl_started_) curl_global_cleanup();
}

void Upstream::stop() {
  if (bases_) bases_->stop_health_checks();
}

Outcome Upstream::start(sdk::HostServices& host, HttpSettings settings, std::string health_path) {
  auto bases = host.config().strings("base_url").value_or(std::vector<std::string>{});
  if (auto checked = normalise_base_urls(bases); !checked) return checked;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Outcome::failure(Status::internal, "libcurl failed to start");
  curl_started_ = true;
  http_ = std::make_unique<HttpClient>(std::move(settings));
  bases_ = std::make_unique<BaseUrls>(std::move(bases));
  bases_->start_health_checks(
      [this, health_path = std::move(health_path)](const std::string& base) { return http_->send({"GET", base + health_path}).ok(); },
      host.logger(), std::chrono::seconds(15));
  return {};
}

RemoteJobs::RemoteJobs(std::filesystem::path file) : file_(std::move(file)) {
  const auto saved = read_json_object(file_);
  if (!saved) return;
  for (const auto& [job, entry] : *saved) {
    if (entry.is_object()) jobs_[std::string(job)] = entry.as_object();
  }
}

void RemoteJobs::track(const std::string& job, json::object entry) {
  std::lock_guard lock(mutex_);
  jobs_[job] = std::move(entry);
  save();
}

std::optional<json::object> RemoteJobs::find(const std::string& job) {
  std::lock_guard lock(mutex_);
  const auto found = jobs_.find(job);
  if (found == jobs_.end()) return std::nullopt;
  return found->second;
}

void RemoteJobs::forget(const std::string& job) {
  std::lock_guard lock(mutex_);
  stopping_.erase(job);
  if (jobs_.erase(job) > 0) save();
}

void RemoteJobs::ask_to_stop(const std::string& job) {
  std::lock_guard lock(mutex_);
  stopping_.insert(job);
}

bool RemoteJobs::asked_to_stop(const std::string& job) {
  std::lock_guard lock(mutex_);
  return stopping_.count(job) > 0;
}

std::vector<std::string> RemoteJobs::of_owner(const std::string& owner) {
  std::vector<std::string> jobs;
  std::lock_guard lock(mutex_);
  for (const auto& [job, entry] : jobs_) {
    const auto* value = entry.if_contains("owner");
    if (!owner.empty() && value != nullptr && value->is_string() && value->as_string() == owner) jobs.push_back(job);
  }
  return jobs;
}

void RemoteJobs::save() const {
  json::object saved;
  for (const auto& [job, entry] : jobs_) saved[job] = entry;
  write_json_atomically(file_, saved);
}

DurationHistory::DurationHistory(std::filesystem::path file) : file_(std::move(file)) {
  const auto saved = read_json_object(file_);
  if (!saved) return;
  for (const auto& [model, value] : *saved) {
    if (value.is_number()) seconds_per_second_[std::string(model)] = value.to_number<double>();
  }
}

int DurationHistory::percent(const std::string& model, double video_seconds, std::chrono::steady_clock::duration elapsed) {
  double expected = 0;
  {
    std::lock_guard lock(mutex_);
    const auto found = seconds_per_second_.find(model);
    expected = found == seconds_per_second_.end() ? 0 : found->second * std::max(1.0, video_seconds);
  }
  if (expected <= 0) expected = 30.0 * std::max(1.0, video_seconds);
  return static_cast<int>(std::min(95.0, 100.0 * std::chrono::duration<double>(elapsed).count() / expected));
}

void DurationHistory::record(const std::string& model, double video_seconds, std::chrono::steady_clock::duration took) {
  const double per_second = std::chrono::duration<double>(took).count() / std::max(1.0, video_seconds);
  std::lock_guard lock(mutex_);
  auto& average = seconds_per_second_[model];
  average = average <= 0 ? per_second : 0.8 * average + 0.2 * per_second;
  json::object saved;
  for (const auto& [name, value] : seconds_per_second_) saved[name] = value;
  write_json_atomically(file_, saved);
}

sdk::Result<std::unique_ptr<SpoolFile>> SpoolFile::create(const std::filesystem::path& directory) {
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string name = (directory / "spool-XXXXXX").string();
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd < 0) return Outcome::failure(Status::internal, "cannot make a private copy in the plugin's directory");
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd));
}

SpoolFile::~SpoolFile() { ::close(fd_); }

Outcome SpoolFile::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd_, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return Outcome::failure(Status::internal, "cannot write the private copy");
    data = data.subspan(static_cast<std::size_t>(written));
  }
  return {};
}

namespace {

// Writes through to the job's output and into the copy.
class CopyingOutput final : public sdk::OutputStream {
 public:
  CopyingOutput(sdk::OutputStream& output, SpoolFile& copy) : output_(output), copy_(copy) {}
  Outcome write(std::span<const std::byte> data) override {
    if (auto written = copy_.write(data); !written) return written;
    return output_.write(data);
  }
  Outcome commit() override { return output_.commit(); }

 private:
  sdk::OutputStream& output_;
  SpoolFile& copy_;
};

}  // namespace

sdk::Result<std::unique_ptr<SpoolFile>> download(const HttpClient& http, const std::string& url, sdk::GenerationSink& sink,
                                                 std::string_view variant, std::string_view content_type,
                                                 const std::filesystem::path* spool_directory) {
  constexpr int kAttempts = 3;
  Outcome last = Outcome::failure(Status::unavailable, "not tried");
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    auto output = sink.open_output(variant, content_type);
    if (!output) return output.outcome();
    std::unique_ptr<SpoolFile> copy;
    if (spool_directory != nullptr) {
      auto made = SpoolFile::create(*spool_directory);
      if (!made) return made.outcome();
      copy = std::move(made.value());
    }
    std::optional<CopyingOutput> copying;
    if (copy) copying.emplace(*output.value(), *copy);
    Request request{"GET", url};
    request.output = copying ? static_cast<sdk::OutputStream*>(&*copying) : output.value().get();
    const Answer fetched = http.send(request);
    if (fetched.ok() && fetched.output_failure.ok()) {
      if (auto committed = output.value()->commit(); !committed) return committed;
      return copy;
    }
    if (!fetched.output_failure) return fetched.output_failure;
    const std::string why = "downloading the " + std::string(variant) + ": " + fetched.describe();
    if (fetched.status >= 400 && fetched.status < 500 && fetched.status != 429) return Outcome::failure(Status::not_found, why);
    last = Outcome::failure(Status::unavailable, why);
    std::this_thread::sleep_for(std::chrono::milliseconds(250 * attempt));
  }
  return last;
}

Outcome commit_thumbnail_of(const SpoolFile& video, sdk::GenerationSink& sink) {
  std::vector<std::uint8_t> jpeg;
  try {
    jpeg = media::encode_jpeg(media::decode_first_picture(video.path(), 1280, 1280));
  } catch (const std::exception& error) {
    return Outcome::failure(Status::internal, std::string("making the thumbnail: ") + error.what());
  }
  auto output = sink.open_output("thumbnail", "image/jpeg");
  if (!output) return output.outcome();
  if (auto written = output.value()->write(std::as_bytes(std::span(jpeg))); !written) return written;
  return output.value()->commit();
}

sdk::Result<std::string> fitted_input_image(sdk::GenerationSink& sink, const sdk::GenerationRequest& request, media::Fit fit,
                                            const std::filesystem::path& spool_directory) {
  auto source = sink.open_input_image();
  if (!source) return source.outcome();
  // libav reads it from a private unnamed file.
  auto copy = SpoolFile::create(spool_directory);
  if (!copy) return copy.outcome();
  if (auto read = sdk::drain(*source.value(), [&](std::span<const std::byte> chunk) { return copy.value()->write(chunk); }); !read) {
    return read;
  }
  try {
    const auto picture = media::decode_first_picture(copy.value()->path(), 4096, 4096);
    const auto jpeg = media::encode_jpeg(media::fitted(picture, request.width & ~1, request.height & ~1, fit));
    return std::string(jpeg.begin(), jpeg.end());
  } catch (const std::exception& error) {
    return Outcome::failure(Status::invalid_argument, std::string("the input image: ") + error.what());
  }
}

sdk::Result<media::Fit> image_fit_of(const sdk::ConfigSection& config) {
  const std::string fit = config.string("image_fit").value_or("crop");
  if (fit == "crop") return media::Fit::crop;
  if (fit == "letterbox") return media::Fit::letterbox;
  return Outcome::failure(Status::invalid_argument, "image_fit must be crop or letterbox, not " + fit);
}

void sleep_unless(std::chrono::steady_clock::duration duration, const std::function<bool()>& stop_asked) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until && !stop_asked()) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kCancelCheck, until - std::chrono::steady_clock::now()));
  }
}

}  // namespace framehouse::remote_engine
