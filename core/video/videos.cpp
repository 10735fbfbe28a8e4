#include "video/videos.hpp"

#include "storage/file_source.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <soci/soci.h>
#include <sodium.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"

namespace framehouse::video {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using observability::Log;

// A video whose engine is unavailable is tried again this often (it waits, its attempts untouched).
constexpr auto kEngineRetry = std::chrono::seconds(5);

constexpr const char* kColumns =
    "SELECT id, owner_id, status, model, prompt, width, height, seconds, seed, input_image_id, remixed_from, progress,"
    " error_code, error_message, created_at, completed_at, expires_at, watermark, engine, engine_model, status_reason"
    " FROM videos ";

// One row of kColumns, bound to a statement.
struct VideoRow {
  Video video;
  long long seed = 0, created = 0, completed = 0, expires = 0;
  int watermark = 0;
  std::string input_image, remixed, error_code, error_message, engine, engine_model, reason;
  soci::indicator input_indicator = soci::i_null, remixed_indicator = soci::i_null, code_indicator = soci::i_null,
                  message_indicator = soci::i_null, completed_indicator = soci::i_null, expires_indicator = soci::i_null,
                  engine_indicator = soci::i_null, engine_model_indicator = soci::i_null, reason_indicator = soci::i_null;

  void bind(soci::details::prepare_temp_type& statement) {
    statement, soci::into(video.id), soci::into(video.owner), soci::into(video.status), soci::into(video.model),
        soci::into(video.prompt), soci::into(video.width), soci::into(video.height), soci::into(video.seconds),
        soci::into(seed), soci::into(input_image, input_indicator), soci::into(remixed, remixed_indicator),
        soci::into(video.progress), soci::into(error_code, code_indicator), soci::into(error_message, message_indicator),
        soci::into(created), soci::into(completed, completed_indicator), soci::into(expires, expires_indicator),
        soci::into(watermark), soci::into(engine, engine_indicator), soci::into(engine_model, engine_model_indicator),
        soci::into(reason, reason_indicator);
  }
  Video get() const {
    Video out = video;
    out.seed = static_cast<std::uint64_t>(seed);
    out.created_at = created;
    const auto text = [](const std::string& value, soci::indicator indicator) {
      return indicator == soci::i_ok ? std::optional<std::string>(value) : std::nullopt;
    };
    const auto number = [](long long value, soci::indicator indicator) {
      return indicator == soci::i_ok ? std::optional<std::int64_t>(value) : std::nullopt;
    };
    out.input_image_id = text(input_image, input_indicator);
    out.remixed_from = text(remixed, remixed_indicator);
    out.error_code = text(error_code, code_indicator);
    out.error_message = text(error_message, message_indicator);
    out.completed_at = number(completed, completed_indicator);
    out.expires_at = number(expires, expires_indicator);
    out.watermark = watermark != 0;
    // A video from before engines were recorded runs on the default engine, as `model`.
    out.engine = text(engine, engine_indicator).value_or("");
    out.engine_model = text(engine_model, engine_model_indicator).value_or(out.model);
    out.status_reason = text(reason, reason_indicator);
    return out;
  }
};

// How an engine says a run ended because it was canceled: Status::canceled since generation
// 1.1; before, Status::conflict with the message "canceled" (accepted only from such engines).
bool canceled_since_1_1(const sdk::Outcome& outcome) { return outcome.status() == sdk::Status::canceled; }
bool canceled_in_1_0(const sdk::Outcome& outcome) {
  return outcome.status() == sdk::Status::conflict && outcome.message() == "canceled";
}
plugins::PluginHost::ExpectedFailure cancel_outcome_of(const plugins::LoadedPlugin* engine) {
  const bool since_1_1 = engine != nullptr && engine->interface_minor(sdk::GenerationEngine::kInterfaceName) >= 1;
  return since_1_1 ? &canceled_since_1_1 : &canceled_in_1_0;
}

}  // namespace

struct Videos::Engine {
  EngineSettings settings;
  std::shared_ptr<plugins::LoadedPlugin> plugin;  // null: not loaded in this process
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<jobs::JobRunner> runner;
};

// What a running job hands the engine: progress into the database (throttled), cancel from
// the database or from the server shutting down, the input image from storage, outputs through
// a local file into storage.
class Videos::JobSink final : public sdk::GenerationSink {
 public:
  // Reads what an earlier run of the job remembered.
  JobSink(Videos& videos, Video video, std::stop_token stopping)
      : videos_(videos), video_(std::move(video)), stopping_(std::move(stopping)) {
    load_remembered();
  }

  void progress(int percent) override {
    const auto now = std::chrono::steady_clock::now();
    if (percent < 100 && now - last_persisted_ < std::chrono::milliseconds(250)) return;
    last_persisted_ = now;
    int cancel = 0;
    soci::session sql(videos_.database_.pool());
    sql << "UPDATE videos SET progress = :p WHERE id = :id RETURNING cancel_requested", soci::use(percent),
        soci::use(video_.id), soci::into(cancel);
    videos_.changed();
    if (cancel != 0) canceled_ = true;
  }
  bool cancel_requested() const override { return canceled_.load() || stopping_.stop_requested(); }
  // The user canceled (not the server stopping).
  bool canceled_by_user() const { return canceled_.load(); }

  sdk::Outcome remember(std::string_view key, std::string_view value) override {
    const bool valid_key = !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
    if (!valid_key) return sdk::Outcome::failure(sdk::Status::invalid_argument, "a key is 1-64 characters of [a-z0-9_.-]");
    if (value.size() > 4096) return sdk::Outcome::failure(sdk::Status::invalid_argument, "a value is at most 4096 bytes");
    std::lock_guard lock(remembered_mutex_);
    if (!remembered_.contains(key) && remembered_.size() >= 16) {
      return sdk::Outcome::failure(sdk::Status::invalid_argument, "at most 16 keys per job");
    }
    remembered_[key] = value;
    const std::string text = json::serialize(remembered_);
    soci::session sql(videos_.database_.pool());
    sql << "UPDATE videos SET engine_state = :s WHERE id = :id", soci::use(text), soci::use(video_.id);
    return {};
  }
  std::optional<std::string> recall(std::string_view key) const override {
    std::lock_guard lock(remembered_mutex_);
    const auto* value = remembered_.if_contains(key);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return std::string(value->as_string());
  }

  sdk::Result<std::unique_ptr<sdk::ByteSource>> open_input_image() override {
    if (!video_.input_image_id) return sdk::Outcome::failure(sdk::Status::not_found, "the job has no input image");
    auto sink = std::make_shared<sdk::BufferSink>();
    const sdk::ObjectKey key{video_.owner, *video_.input_image_id};
    const sdk::Outcome read = videos_.objects_.get(key, {}, sink);
    if (!read) return read;
    return std::unique_ptr<sdk::ByteSource>(std::make_unique<sdk::BufferSource>(std::move(sink->bytes)));
  }

  sdk::Result<std::unique_ptr<sdk::OutputStream>> open_output(std::string_view variant, std::string_view) override {
    if (variant != "video" && variant != "thumbnail") {
      return sdk::Outcome::failure(sdk::Status::invalid_argument, "unknown output variant");
    }
    return std::unique_ptr<sdk::OutputStream>(std::make_unique<Output>(*this, std::string(variant)));
  }

 private:
  void load_remembered() {
    std::string text;
    soci::indicator indicator = soci::i_null;
    soci::session sql(videos_.database_.pool());
    sql << "SELECT engine_state FROM videos WHERE id = :id", soci::use(video_.id), soci::into(text, indicator);
    if (indicator != soci::i_ok) return;
    boost::system::error_code ec;
    auto parsed = json::parse(text, ec);
    if (!ec && parsed.is_object()) remembered_ = std::move(parsed.as_object());
  }

  class Output final : public sdk::OutputStream {
   public:
    Output(JobSink& sink, std::string variant)
        : sink_(sink),
          variant_(std::move(variant)),
          file_(fs::path(sink.videos_.config_.data_dir) / "outputs" / (Videos::object_id(sink.video_.id, variant_) + ".part")),
          out_(file_, std::ios::binary | std::ios::trunc) {}
    ~Output() override {
      out_.close();
      fs::remove(file_, ignored_);
    }
    sdk::Outcome write(std::span<const std::byte> data) override {
      out_.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
      return out_ ? sdk::Outcome{} : sdk::Outcome::failure(sdk::Status::unavailable, "cannot write an output file");
    }
    sdk::Outcome commit() override {
      out_.close();
      if (!out_) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot write an output file");
      const sdk::ObjectKey key{sink_.video_.owner, Videos::object_id(sink_.video_.id, variant_)};
      return sink_.videos_.objects_.put(key, std::make_unique<storage::FileSource>(file_));
    }

   private:
    JobSink& sink_;
    std::string variant_;
    fs::path file_;
    std::ofstream out_;
    std::error_code ignored_;
  };

  Videos& videos_;
  Video video_;
  std::stop_token stopping_;
  std::atomic<bool> canceled_{false};
  mutable std::mutex remembered_mutex_;
  json::object remembered_;
  std::chrono::steady_clock::time_point last_persisted_{};
};

Videos::Videos(db::Database& database, plugins::PluginHost& host, storage::ObjectStore& objects,
               observability::Metrics& metrics, VideoConfig config, UnixClock clock)
    : database_(database), host_(host), objects_(objects), config_(std::move(config)), now_(std::move(clock)) {
  change_subscription_ = database_.changes().subscribe(kChangeTopic, [this] { ++changes_; });
  content_link_key_ = db::server_secret(database_, "content_link_key");
  // Outputs pass through here on their way to storage; leftovers of a crash go now.
  std::error_code ec;
  fs::remove_all(fs::path(config_.data_dir) / "outputs", ec);
  fs::create_directories(fs::path(config_.data_dir) / "outputs", ec);

  std::vector<EngineModels> described;
  for (const auto& settings : config_.engines) {
    auto engine = std::make_unique<Engine>();
    engine->settings = settings;
    engine->plugin = host_.find(settings.name);
    engine->queue = std::make_unique<jobs::JobQueue>(
        database_, metrics, jobs::QueueOptions{queue_name(settings.name), std::chrono::seconds(config_.lease_seconds), config_.max_attempts});
    Engine* running = engine.get();
    engine->runner = std::make_unique<jobs::JobRunner>(
        *engine->queue, database_,
        [this, running](const jobs::Job& job, std::stop_token stopping) { return run_job(*running, job, stopping); },
        std::chrono::seconds(5));
    if (engine->plugin) {
      auto capabilities = host_.call<sdk::GenerationEngine>(engine->plugin, "describe", [](sdk::GenerationEngine& generation) {
        return sdk::Result<sdk::EngineCapabilities>(generation.describe());
      });
      if (capabilities) described.push_back({settings.name, capabilities.value()});
    }
    engines_.push_back(std::move(engine));
  }
  // A model of an engine that is not running here (it failed to load, and is not required) is
  // not offered; every other misfit stops the start.
  std::vector<ModelSpec> offered;
  for (const auto& spec : config_.models) {
    const bool running = std::any_of(described.begin(), described.end(), [&](const auto& engine) { return engine.engine == spec.engine; });
    if (running) {
      offered.push_back(spec);
    } else {
      Log::warn("video", "a model's engine is not running; the model is not offered", {{"model", spec.id}, {"engine", spec.engine}});
    }
  }
  std::vector<std::string> errors;
  catalog_ = ModelCatalog::build(described, offered, config_.accepted_models, now_(), errors);
  if (!errors.empty()) {
    std::string message = "the [models] tables do not fit their engines:";
    for (const auto& error : errors) message += "\n  " + error;
    throw std::runtime_error(message);
  }
  if (!engines_.empty()) {
    // Videos and jobs from before engines were recorded belong to the default engine.
    soci::session sql(database_.pool());
    const std::string engine = engines_.front()->settings.name;
    const std::string queue = queue_name(engine);
    sql << "UPDATE videos SET engine = :e, engine_model = model WHERE engine IS NULL", soci::use(engine);
    sql << "UPDATE jobs SET queue = :q WHERE queue = 'video'", soci::use(queue);
  }
}

Videos::~Videos() {
  stop_workers();
  database_.changes().unsubscribe(change_subscription_);
}

std::string Videos::object_id(const std::string& video_id, const std::string& variant) {
  return video_id + (variant == "thumbnail" ? ".jpg" : ".mp4");
}

Videos::Engine* Videos::engine_named(const std::string& name) const {
  for (const auto& engine : engines_) {
    if (engine->settings.name == name) return engine.get();
  }
  return nullptr;
}

Video Videos::create(const std::string& owner, const VideoRequest& request) {
  const Model* model = catalog_.find(request.model);
  Engine* engine = model == nullptr ? nullptr : engine_named(model->engine);
  if (engine == nullptr) throw std::invalid_argument("no engine runs the model " + request.model);
  Video video;
  video.engine = model->engine;
  video.engine_model = model->engine_model;
  video.id = crypto::time_ordered_id("video_");
  video.owner = owner;
  video.status = "queued";
  video.model = request.model;
  video.prompt = request.prompt;
  video.width = request.width;
  video.height = request.height;
  video.seconds = request.seconds;
  video.seed = request.seed;
  video.input_image_id = request.input_image_id;
  video.remixed_from = request.remixed_from;
  video.created_at = now_();
  const long long seed = static_cast<long long>(request.seed);
  const long long created = video.created_at;
  const std::string input = request.input_image_id.value_or("");
  const std::string remixed = request.remixed_from.value_or("");
  soci::indicator input_indicator = request.input_image_id ? soci::i_ok : soci::i_null;
  soci::indicator remixed_indicator = request.remixed_from ? soci::i_ok : soci::i_null;
  const long long retention = request.retention_seconds;
  const int watermark = request.watermark ? 1 : 0;
  const std::string key = request.idempotency_key.value_or("");
  soci::indicator key_indicator = request.idempotency_key ? soci::i_ok : soci::i_null;
  try {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    sql << "INSERT INTO videos (id, owner_id, status, model, engine, engine_model, prompt, width, height, seconds, fps, seed,"
           " input_image_id, remixed_from, progress, cancel_requested, attempts, created_at, retention_seconds, watermark,"
           " idempotency_key, request_fingerprint)"
           " VALUES (:id, :o, 'queued', :m, :e, :em, :p, :w, :h, :s, :f, :seed, :i, :r, 0, 0, 0, :c, :ret, :wm, :k, :fp)",
        soci::use(video.id), soci::use(owner), soci::use(video.model), soci::use(video.engine), soci::use(video.engine_model),
        soci::use(video.prompt), soci::use(video.width),
        soci::use(video.height), soci::use(video.seconds), soci::use(config_.fps), soci::use(seed),
        soci::use(input, input_indicator), soci::use(remixed, remixed_indicator), soci::use(created), soci::use(retention),
        soci::use(watermark), soci::use(key, key_indicator), soci::use(request.request_fingerprint, key_indicator);
    engine->queue->enqueue(transaction, json::serialize(json::object{{"video_id", video.id}}), owner, "video: generation", video.id);
    transaction.commit();
  } catch (const soci::soci_error&) {
    // A concurrent request with the same key won the unique index.
    if (!request.idempotency_key) throw;
    auto earlier = find_by_idempotency_key(owner, key);
    if (!earlier) throw;
    return std::move(earlier->video);
  }
  changed();
  return video;
}

std::optional<EarlierSubmission> Videos::find_by_idempotency_key(const std::string& owner, const std::string& key) {
  std::string id, fingerprint;
  {
    soci::session sql(database_.pool());
    sql << "SELECT id, request_fingerprint FROM videos WHERE owner_id = :o AND idempotency_key = :k", soci::use(owner),
        soci::use(key), soci::into(id), soci::into(fingerprint);
    if (!sql.got_data()) return std::nullopt;
  }
  auto video = find(owner, id);
  if (!video) return std::nullopt;
  return EarlierSubmission{std::move(*video), std::move(fingerprint)};
}

std::optional<Video> Videos::find(const std::string& owner, const std::string& id) {
  soci::session sql(database_.pool());
  VideoRow row;
  soci::details::prepare_temp_type statement = (sql.prepare << std::string(kColumns) + "WHERE owner_id = :o AND id = :id",
                                                soci::use(owner), soci::use(id));
  row.bind(statement);
  soci::statement st(statement);
  st.execute();
  if (!st.fetch()) return std::nullopt;
  return row.get();
}

VideoPage Videos::list(const std::string& owner, const std::string& after, std::size_t limit, bool newest_first,
                       const ListFilter& filter) {
  long long cursor_time = newest_first ? std::numeric_limits<long long>::max() : std::numeric_limits<long long>::min();
  std::string cursor_id = newest_first ? "\x7f" : "";
  if (!after.empty()) {
    if (auto anchor = find(owner, after)) {
      cursor_time = anchor->created_at;
      cursor_id = anchor->id;
    }
  }
  soci::session sql(database_.pool());
  const int fetch = static_cast<int>(limit) + 1;
  const std::string order = newest_first ? "DESC" : "ASC";
  const std::string compare = newest_first ? "<" : ">";
  // An absent filter binds values that match every row, so that the statement is always the
  // same shape.
  const std::string pattern = db::containment_pattern(filter.prompt_contains);
  const long long from = filter.created_from.value_or(std::numeric_limits<long long>::min());
  const long long to = filter.created_to.value_or(std::numeric_limits<long long>::max());
  const std::string status = filter.status.value_or("");
  const int any_status = filter.status ? 0 : 1;
  VideoRow row;
  soci::details::prepare_temp_type statement =
      (sql.prepare << std::string(kColumns) + "WHERE owner_id = :o AND (created_at " + compare + " :t OR (created_at = :t2 AND id " +
                          compare + " :cid)) AND prompt" + database_.dialect().like_ignoring_case() +
                          ":p ESCAPE '\\' AND created_at >= :f AND created_at < :to AND (:any = 1 OR status = :s)"
                          " ORDER BY created_at " + order + ", id " + order + " LIMIT :n",
       soci::use(owner), soci::use(cursor_time), soci::use(cursor_time), soci::use(cursor_id), soci::use(pattern),
       soci::use(from), soci::use(to), soci::use(any_status), soci::use(status), soci::use(fetch));
  row.bind(statement);
  soci::statement st(statement);
  st.execute();
  VideoPage page;
  while (st.fetch()) page.videos.push_back(row.get());
  if (page.videos.size() > limit) {
    page.videos.resize(limit);
    page.has_more = true;
  }
  return page;
}

int Videos::queue_position(const Video& video) {
  if (video.status != "queued") return 0;
  soci::session sql(database_.pool());
  int ahead = 0;
  const long long created = video.created_at;
  sql << "SELECT COUNT(*) FROM videos WHERE status = 'queued' AND engine = :e AND (created_at < :c OR (created_at = :c2 AND id < :id))",
      soci::use(video.engine), soci::use(created), soci::use(created), soci::use(video.id), soci::into(ahead);
  return ahead + 1;
}

int Videos::active_jobs(const std::string& owner) {
  soci::session sql(database_.pool());
  int count = 0;
  sql << "SELECT COUNT(*) FROM videos WHERE owner_id = :o AND status IN ('queued', 'in_progress')", soci::use(owner),
      soci::into(count);
  return count;
}

int Videos::created_since(const std::string& owner, std::int64_t since) {
  soci::session sql(database_.pool());
  int count = 0;
  const long long bound = since;
  sql << "SELECT COUNT(*) FROM videos WHERE owner_id = :o AND created_at >= :s", soci::use(owner), soci::use(bound),
      soci::into(count);
  return count;
}

std::optional<std::int64_t> Videos::oldest_created_since(const std::string& owner, std::int64_t since) {
  soci::session sql(database_.pool());
  long long oldest = 0;
  soci::indicator indicator = soci::i_null;
  const long long bound = since;
  sql << "SELECT MIN(created_at) FROM videos WHERE owner_id = :o AND created_at >= :s", soci::use(owner), soci::use(bound),
      soci::into(oldest, indicator);
  if (indicator != soci::i_ok) return std::nullopt;
  return oldest;
}

sdk::Outcome Videos::cancel(const std::string& owner, const std::string& id) {
  const auto video = find(owner, id);
  if (!video) return sdk::Outcome::failure(sdk::Status::not_found, "no such video");
  if (video->status != "queued" && video->status != "in_progress") {
    return sdk::Outcome::failure(sdk::Status::conflict, "the video is already " + video->status);
  }
  request_cancel(database_, id, now_());
  // Best effort: the worker also sees cancel_requested at its next progress report.
  if (const Engine* engine = engine_named(video->engine); engine != nullptr && engine->plugin) {
    (void)host_.call<sdk::GenerationEngine>(engine->plugin, "cancel", [id](sdk::GenerationEngine& generation) { return generation.cancel(id); });
  }
  return {};
}

void Videos::request_cancel(db::Database& database, const std::string& id, std::int64_t now_seconds) {
  {
    soci::session sql(database.pool());
    db::WriteTransaction transaction(sql, database);
    const long long now = now_seconds;
    // A queued job ends here (its queue entry with it); a running one is told, and its worker
    // ends it.
    sql << "UPDATE videos SET status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END,"
           " error_code = CASE WHEN status = 'queued' THEN 'canceled' ELSE error_code END,"
           " error_message = CASE WHEN status = 'queued' THEN 'The job was canceled.' ELSE error_message END,"
           " completed_at = CASE WHEN status = 'queued' THEN :n ELSE completed_at END,"
           " cancel_requested = 1 WHERE id = :id",
        soci::use(now), soci::use(id);
    const std::string queues = queue_name("%");  // whichever engine's
    sql << "DELETE FROM jobs WHERE id = :id AND queue LIKE :q AND state = 'ready'", soci::use(id), soci::use(queues);
    transaction.commit();
  }
  database.changes().announce(kChangeTopic);  // every node's waiters look again
}

std::vector<std::string> Videos::active_jobs_of(db::Database& database, const std::string& owner) {
  std::vector<std::string> active;
  soci::session sql(database.pool());
  std::string id;
  soci::statement statement = (sql.prepare << "SELECT id FROM videos WHERE owner_id = :o AND status IN ('queued', 'in_progress')",
                               soci::use(owner), soci::into(id));
  statement.execute();
  while (statement.fetch()) active.push_back(id);
  return active;
}

int Videos::cancel_all(const std::string& owner) {
  int canceled = 0;
  for (const auto& id : active_jobs_of(database_, owner)) canceled += cancel(owner, id) ? 1 : 0;
  return canceled;
}

int Videos::cancel_all(db::Database& database, const std::string& owner, std::int64_t now) {
  const auto active = active_jobs_of(database, owner);
  for (const auto& id : active) request_cancel(database, id, now);
  return static_cast<int>(active.size());
}

sdk::Outcome Videos::remove_objects(const std::string& owner, const std::string& id) {
  for (const char* variant : {"video", "thumbnail"}) {
    const sdk::ObjectKey key{owner, object_id(id, variant)};
    const sdk::Outcome removed = objects_.remove(key);
    if (!removed) return removed;
  }
  return {};
}

sdk::Outcome Videos::remove(const std::string& owner, const std::string& id) {
  const auto video = find(owner, id);
  if (!video) return sdk::Outcome::failure(sdk::Status::not_found, "no such video");
  if (video->status == "queued" || video->status == "in_progress") (void)cancel(owner, id);
  if (auto removed = remove_objects(owner, id); !removed) return removed;
  // A failed purge is logged by the host; the engine purges its work files at start too.
  if (const Engine* engine = engine_named(video->engine); engine != nullptr && engine->plugin) {
    (void)host_.call<sdk::GenerationEngine>(engine->plugin, "purge", [id](sdk::GenerationEngine& generation) { return generation.purge(id); });
  }
  soci::session sql(database_.pool());
  sql << "DELETE FROM videos WHERE owner_id = :o AND id = :id", soci::use(owner), soci::use(id);
  changed();
  return {};
}

std::string Videos::content_link_signature(const std::string& owner, const std::string& id, const std::string& variant,
                                           std::int64_t expires_at) const {
  return crypto::keyed_hash(content_link_key_, "content|" + owner + "|" + id + "|" + variant + "|" + std::to_string(expires_at));
}

Videos::ContentLink Videos::content_link(const std::string& owner, const std::string& id, const std::string& variant) {
  const std::int64_t expires_at = now_() + kContentLinkSeconds;
  return {"/v1/videos/" + id + "/content?variant=" + variant + "&expires=" + std::to_string(expires_at) +
              "&signature=" + content_link_signature(owner, id, variant, expires_at),
          expires_at};
}

std::optional<std::string> Videos::content_link_owner(const std::string& id, const std::string& variant,
                                                      const std::string& expires, const std::string& signature) {
  std::int64_t expires_at = 0;
  const auto [end, error] = std::from_chars(expires.data(), expires.data() + expires.size(), expires_at);
  if (error != std::errc() || end != expires.data() + expires.size() || expires_at <= now_()) return std::nullopt;
  std::string owner;
  {
    soci::session sql(database_.pool());
    sql << "SELECT owner_id FROM videos WHERE id = :id", soci::use(id), soci::into(owner);
    if (!sql.got_data()) return std::nullopt;
  }
  const std::string expected = content_link_signature(owner, id, variant, expires_at);
  if (signature.size() != expected.size() || sodium_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  return owner;
}

sdk::Result<std::uint64_t> Videos::content_size(const std::string& owner, const std::string& id,
                                                const std::string& variant) {
  const auto video = find(owner, id);
  if (!video) return sdk::Outcome::failure(sdk::Status::not_found, "no such video");
  if (video->status != "completed") return sdk::Outcome::failure(sdk::Status::conflict, "the video is " + video->status);
  const sdk::ObjectKey key{owner, object_id(id, variant)};
  return objects_.size(key);
}

sdk::Result<std::string> Videos::content(const std::string& owner, const std::string& id, const std::string& variant,
                                         const sdk::ByteRange& range) {
  const auto video = find(owner, id);
  if (!video) return sdk::Outcome::failure(sdk::Status::not_found, "no such video");
  if (video->status != "completed") return sdk::Outcome::failure(sdk::Status::conflict, "the video is " + video->status);
  const sdk::ObjectKey key{owner, object_id(id, variant)};
  auto sink = std::make_shared<sdk::BufferSink>();
  const sdk::Outcome read = objects_.get(key, range, sink);
  if (!read) return read;
  return std::move(sink->bytes);
}

void Videos::finish(const Video& video, const sdk::Outcome& outcome) {
  const long long now = now_();
  if (outcome) {
    soci::session sql(database_.pool());
    // Kept for the retention of the plan the video was made under.
    sql << "UPDATE videos SET status = 'completed', progress = 100, completed_at = :n, expires_at = :n2 + retention_seconds,"
           " engine_state = NULL WHERE id = :id",
        soci::use(now), soci::use(now), soci::use(video.id);
    changed();
    return;
  }
  const Engine* engine = engine_named(video.engine);
  const bool canceled = cancel_outcome_of(engine == nullptr ? nullptr : engine->plugin.get())(outcome);
  const std::string code = canceled                                               ? "canceled"
                           : outcome.status() == sdk::Status::invalid_argument   ? "invalid_request"
                           : outcome.status() == sdk::Status::unavailable        ? "engine_unavailable"
                                                                                  : "generation_failed";
  const std::string message = canceled ? "The job was canceled." : outcome.message();
  {
    soci::session sql(database_.pool());
    // A failed job's record (its prompt is personal data) expires like a finished video.
    sql << "UPDATE videos SET status = 'failed', error_code = :c, error_message = :m, completed_at = :n,"
           " expires_at = :n2 + retention_seconds, engine_state = NULL, status_reason = NULL WHERE id = :id",
        soci::use(code), soci::use(message), soci::use(now), soci::use(now), soci::use(video.id);
  }
  changed();
  // Whatever the engine stored before it failed is of no use to anyone; a failure here is
  // logged by the host and the objects go with the video's deletion or its owner's erasure.
  (void)remove_objects(video.owner, video.id);
}

jobs::JobResult Videos::wait_for_engine(const Engine& engine, const Video& video, const sdk::Outcome& outcome) {
  const std::int64_t waited = now_() - video.created_at;
  const std::int64_t most = engine.settings.max_wait_seconds;
  if (most > 0 && waited >= most) {
    finish(video, sdk::Outcome::failure(sdk::Status::unavailable,
                                        "The engine " + engine.settings.name + " was unavailable for " +
                                            std::to_string(waited / 60) + " minutes: " + outcome.message()));
    return jobs::JobResult::finished();
  }
  const std::string reason = "the engine " + engine.settings.name + " is unavailable (" + outcome.message() +
                             "); the video waits for it" +
                             (most > 0 ? " for up to " + std::to_string(most / 60) + " minutes" : std::string());
  {
    soci::session sql(database_.pool());
    sql << "UPDATE videos SET status = 'queued', progress = 0, status_reason = :r WHERE id = :id AND status = 'in_progress'",
        soci::use(reason), soci::use(video.id);
  }
  changed();
  (void)remove_objects(video.owner, video.id);
  Log::warn("video", "engine unavailable; the video waits", {{"video", video.id}, {"engine", engine.settings.name}});
  return jobs::JobResult::deferred(kEngineRetry);
}

jobs::JobResult Videos::run_job(Engine& engine, const jobs::Job& job, std::stop_token stopping) {
  const std::string id(json::parse(job.payload).at("video_id").as_string());
  auto video = find(job.subject_id, id);
  // Deleted, or canceled while it waited: nothing to run.
  if (!video || (video->status != "queued" && video->status != "in_progress")) return jobs::JobResult::finished();
  if (job.attempt > config_.max_attempts) {
    // Its run took the worker's process down each time: it is not tried again.
    finish(*video, sdk::Outcome::failure(sdk::Status::internal,
                                         "the job stopped its worker " + std::to_string(job.attempt - 1) + " times"));
    return jobs::JobResult::finished();
  }
  {
    soci::session sql(database_.pool());
    const long long now = now_();
    sql << "UPDATE videos SET status = 'in_progress', attempts = :a, started_at = COALESCE(started_at, :n), status_reason = NULL"
           " WHERE id = :id",
        soci::use(job.attempt), soci::use(now), soci::use(video->id);
  }
  changed();
  Log::info("video", "job started",
            {{"video", video->id}, {"engine", engine.settings.name}, {"worker", job.worker}, {"attempt", std::to_string(job.attempt)}});
  auto sink = std::make_shared<JobSink>(*this, *video, stopping);
  sdk::GenerationRequest request;
  request.job_id = video->id;
  request.owner = video->owner;
  request.model = video->engine_model;
  request.prompt = video->prompt;
  request.width = video->width;
  request.height = video->height;
  request.seconds = video->seconds;
  request.fps = config_.fps;
  request.seed = video->seed;
  request.has_input_image = video->input_image_id.has_value();
  request.watermark = video->watermark;
  // The engine's answer to a cancel is a normal outcome, not a plugin failure.
  const plugins::PluginHost::ExpectedFailure canceled = cancel_outcome_of(engine.plugin.get());
  const sdk::Outcome outcome = host_.call<sdk::GenerationEngine>(
      engine.plugin, "run", [sink, request](sdk::GenerationEngine& generation) { return generation.run(request, *sink); },
      std::chrono::seconds(config_.max_run_seconds), canceled);
  if (!outcome && stopping.stop_requested() && !sink->canceled_by_user()) {
    // Stopped for the shutdown, not by the user: back in the queue, for another node at once.
    soci::session sql(database_.pool());
    sql << "UPDATE videos SET status = 'queued', progress = 0 WHERE id = :id AND status = 'in_progress'", soci::use(video->id);
    changed();
    (void)remove_objects(video->owner, video->id);
    Log::info("video", "job given back at shutdown", {{"video", video->id}});
    return jobs::JobResult::released();
  }
  if (!outcome && outcome.status() == sdk::Status::unavailable && !canceled(outcome) && !sink->canceled_by_user()) {
    return wait_for_engine(engine, *video, outcome);
  }
  finish(*video, outcome);
  Log::info("video", "job ended", {{"video", video->id}, {"status", outcome ? "completed" : canceled(outcome) ? "canceled" : "failed"}});
  return jobs::JobResult::finished();
}

bool Videos::run_one(const std::string& worker) {
  for (const auto& engine : engines_) {
    if (engine->plugin && engine->runner->run_one(worker)) return true;
  }
  return false;
}

void Videos::start_workers() {
  for (const auto& engine : engines_) {
    if (engine->plugin) engine->runner->start(engine->settings.workers);
  }
}

void Videos::stop_workers() {
  for (const auto& engine : engines_) engine->runner->stop();
}

std::int64_t Videos::purge_settled_jobs(std::chrono::seconds keep) {
  std::int64_t purged = 0;
  for (const auto& engine : engines_) purged += engine->queue->purge_settled(keep);
  return purged;
}

std::int64_t Videos::purge_expired() {
  const long long now = now_();
  std::vector<std::pair<std::string, std::string>> expired;
  {
    soci::session sql(database_.pool());  // released before remove() takes sessions of its own
    std::string id, owner;
    soci::statement st = (sql.prepare << "SELECT id, owner_id FROM videos WHERE expires_at IS NOT NULL AND expires_at <= :n",
                          soci::use(now), soci::into(id), soci::into(owner));
    st.execute();
    while (st.fetch()) expired.emplace_back(owner, id);
  }
  std::int64_t removed = 0;
  for (const auto& [video_owner, video_id] : expired) removed += remove(video_owner, video_id) ? 1 : 0;
  return removed;
}

sdk::Outcome VideosParticipant::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  stopped.outcome["jobs_canceled"] = videos_.cancel_all(user_id);
  return {};
}

sdk::Outcome VideosParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  VideoRow row;
  soci::details::prepare_temp_type statement =
      (sql.prepare << std::string(kColumns) + "WHERE owner_id = :o ORDER BY created_at, id", soci::use(subject.user_id));
  row.bind(statement);
  soci::statement st(statement);
  st.execute();
  while (st.fetch()) {
    const Video video = row.get();
    const boost::json::object record{{"id", video.id},         {"status", video.status},
                                     {"model", video.model},   {"engine", video.engine},   {"prompt", video.prompt},
                                     {"width", video.width},   {"height", video.height},
                                     {"seconds", video.seconds}, {"seed", video.seed},
                                     {"created_at", video.created_at}};
    if (auto written = sink.record("videos", boost::json::serialize(record)); !written) return written;
  }
  return {};
}

}  // namespace framehouse::video
