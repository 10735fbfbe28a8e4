// Videos and their generation jobs. Each video runs on one engine (a generation plugin; the
// model asked for says which, video/models.hpp), and each engine has a job queue of its own in
// the core's job mechanism (queue "video:<engine>", the job's id is the video's) with its own
// workers — a GPU server runs so many jobs at once — and its own queue positions. The queues
// survive restarts (a job whose worker died is taken over when its lease runs out, and that is
// logged), let several processes share them on PostgreSQL without running a job twice, and get
// a running job's lease back at shutdown. A job whose engine is unavailable waits, with the
// reason in the video's status_reason, and fails only after [engines.<name>] max_wait_minutes.
// Workers store the outputs through the storage plugin; cancel, delete, download with byte
// ranges, and retention of the outputs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clock/clock.hpp"
#include "db/database.hpp"
#include "framehouse/sdk/generation.hpp"
#include "framehouse/sdk/storage.hpp"
#include "jobs/job_runner.hpp"
#include "personal_data/store.hpp"
#include "plugins/host.hpp"
#include "storage/object_store.hpp"
#include "video/models.hpp"

namespace framehouse::video {

// How this process runs one engine's jobs ([engines.<name>]).
struct EngineSettings {
  std::string name;  // the generation plugin
  int workers = 1;
  std::int64_t max_wait_seconds = 0;  // a video whose engine is unavailable fails after this; 0: it waits
};

struct VideoConfig {
  int workers = 1;
  int fps = 24;
  std::int64_t lease_seconds = 30;                 // a silent worker loses its job after this
  // A job whose run stopped its worker this often (the process died each time) fails.
  int max_attempts = 3;
  std::int64_t max_run_seconds = 600;              // one engine run, at most
  // An input image whose aspect ratio is more than this much wider or taller than the video's
  // is refused (a crop would cut too much, a letterbox be mostly bars).
  int image_aspect_tolerance_percent = 100;
  std::string data_dir;                            // for outputs on their way to storage
  // Model names that clients of other video services send by default (an OpenAI client sends
  // "sora-2"); without [models] tables they name the first model.
  std::vector<std::string> accepted_models;
  // The engines, the first one the default; and the [models] tables.
  std::vector<EngineSettings> engines;
  std::vector<ModelSpec> models;
};

struct Video {
  std::string id;
  std::string owner;
  std::string status;  // queued, in_progress, completed, failed
  std::string model;   // as clients know it
  std::string engine;  // the plugin it runs on
  std::string engine_model;
  // Why a queued video waits, when it is not just its turn (its engine is unavailable).
  std::optional<std::string> status_reason;
  std::string prompt;
  int width = 0;
  int height = 0;
  int seconds = 0;
  std::uint64_t seed = 0;
  std::optional<std::string> input_image_id;
  std::optional<std::string> remixed_from;
  int progress = 0;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> completed_at;
  std::optional<std::int64_t> expires_at;
  bool watermark = false;
};

struct VideoRequest {
  std::string model;  // a model of the catalog (its id)
  std::string prompt;
  int width = 0;
  int height = 0;
  int seconds = 0;
  std::uint64_t seed = 0;
  std::optional<std::string> input_image_id;  // an upload of the same owner
  std::optional<std::string> remixed_from;
  // The user's plan when the video was asked for.
  bool watermark = false;
  std::int64_t retention_seconds = 7 * 24 * 3600;
  // The client's Idempotency-Key, and a fingerprint of the request it came with.
  std::optional<std::string> idempotency_key;
  std::string request_fingerprint;
};

// The video an earlier request with the same Idempotency-Key made.
struct EarlierSubmission {
  Video video;
  std::string request_fingerprint;
};

struct VideoPage {
  std::vector<Video> videos;
  bool has_more = false;
};

class Videos {
 public:
  // The engines of config.engines are looked up among the host's plugins (one that is not
  // loaded offers no models, and its queued videos wait); a [models] table that does not fit
  // its engine throws std::runtime_error naming the table and key.
  Videos(db::Database& database, plugins::PluginHost& host, storage::ObjectStore& objects, observability::Metrics& metrics,
         VideoConfig config, UnixClock clock = unix_now);
  // Goes up whenever a video changes (queued, claimed, progress, finished, canceled, deleted)
  // here or, on PostgreSQL, on another node (a change notice): a waiter such as an event stream
  // reads the database only when it moved, and now and then in case a notice was lost.
  std::uint64_t changes() const { return changes_.load(); }
  // The topic of those notices.
  static constexpr const char* kChangeTopic = "videos";
  // The job queue of an engine's generation runs.
  static std::string queue_name(std::string_view engine) { return "video:" + std::string(engine); }
  ~Videos();  // stops the workers

  // The models offered, and the engine of each.
  const ModelCatalog& catalog() const { return catalog_; }
  const VideoConfig& config() const { return config_; }

  // A new queued job; with an Idempotency-Key already used by the owner (a concurrent retry),
  // the video the other request made.
  Video create(const std::string& owner, const VideoRequest& request);
  std::optional<EarlierSubmission> find_by_idempotency_key(const std::string& owner, const std::string& key);
  std::optional<Video> find(const std::string& owner, const std::string& id);
  // What a gallery narrows a list to: words of the prompt (case ignored), a time range of
  // creation (Unix seconds, from inclusive, to exclusive) and a status.
  struct ListFilter {
    std::string prompt_contains;
    std::optional<std::int64_t> created_from, created_to;
    std::optional<std::string> status;
  };
  VideoPage list(const std::string& owner, const std::string& after, std::size_t limit, bool newest_first,
                 const ListFilter& filter = {});
  // Jobs queued before this one on its engine; 0 when it is not queued.
  int queue_position(const Video& video);
  // The owner's videos queued or rendering now, and created since `since` (unix seconds).
  int active_jobs(const std::string& owner);
  int created_since(const std::string& owner, std::int64_t since);
  // When the owner's oldest video created since `since` was created; nothing when none was.
  std::optional<std::int64_t> oldest_created_since(const std::string& owner, std::int64_t since);
  // Status::not_found for another's video; Status::conflict when it already ended.
  sdk::Outcome cancel(const std::string& owner, const std::string& id);
  // Cancels every queued or running job of the owner (erasure stops processing first).
  int cancel_all(const std::string& owner);
  // The same from a process that runs no engine (the command line): queued jobs end, running
  // ones are told through the database and their worker, wherever it runs, ends them.
  static int cancel_all(db::Database& database, const std::string& owner, std::int64_t now);
  // Cancels if running, deletes the stored files, then the record. Status::not_found as above.
  sdk::Outcome remove(const std::string& owner, const std::string& id);
  // The size of the stored "video" or "thumbnail"; Status::not_found for another's video,
  // Status::conflict while it is not completed.
  sdk::Result<std::uint64_t> content_size(const std::string& owner, const std::string& id, const std::string& variant);
  // The stored bytes in `range`, with the same checks.
  sdk::Result<std::string> content(const std::string& owner, const std::string& id, const std::string& variant,
                                   const sdk::ByteRange& range);

  // A link to the content that works without a credential, for a few minutes, for this video
  // and variant only (so that a <video> element can play a private video): the path with
  // `expires` and `signature` (a keyed hash of owner, video, variant and expiry) in its query.
  struct ContentLink {
    std::string path;
    std::int64_t expires_at = 0;
  };
  static constexpr std::int64_t kContentLinkSeconds = 10 * 60;
  ContentLink content_link(const std::string& owner, const std::string& id, const std::string& variant);
  // The owner, if the link's signature is this video's and it has not expired.
  std::optional<std::string> content_link_owner(const std::string& id, const std::string& variant,
                                                const std::string& expires, const std::string& signature);

  void start_workers();
  // A running job's engine is told to stop; the job goes back to the queue for another node.
  void stop_workers();
  // Claims and runs one job (of any engine) on the calling thread; false when none is due.
  bool run_one(const std::string& worker);
  // Deletes videos past their expiry with their stored files. Returns how many.
  std::int64_t purge_expired();
  // Drops the records of generation jobs settled longer ago than `keep`; returns how many.
  std::int64_t purge_settled_jobs(std::chrono::seconds keep);

  static std::string object_id(const std::string& video_id, const std::string& variant);

 private:
  class JobSink;
  struct Engine;
  Engine* engine_named(const std::string& name) const;
  jobs::JobResult run_job(Engine& engine, const jobs::Job& job, std::stop_token stopping);
  // An engine that could not take the job now: the video waits (status_reason says why), or
  // fails once it has waited longer than the engine's max_wait_seconds.
  jobs::JobResult wait_for_engine(const Engine& engine, const Video& video, const sdk::Outcome& outcome);
  void finish(const Video& video, const sdk::Outcome& outcome);
  sdk::Outcome remove_objects(const std::string& owner, const std::string& id);
  static void request_cancel(db::Database& database, const std::string& id, std::int64_t now);
  static std::vector<std::string> active_jobs_of(db::Database& database, const std::string& owner);

  db::Database& database_;
  plugins::PluginHost& host_;
  storage::ObjectStore& objects_;
  VideoConfig config_;
  UnixClock now_;
  std::vector<std::unique_ptr<Engine>> engines_;  // config order; the first is the default
  ModelCatalog catalog_;
  std::string content_link_key_;
  std::string content_link_signature(const std::string& owner, const std::string& id, const std::string& variant,
                                     std::int64_t expires_at) const;

  // After a committed change: every node's waiters look again.
  void changed() { database_.changes().announce(kChangeTopic); }

  std::atomic<std::uint64_t> changes_{0};
  db::ChangeFeed::Subscription change_subscription_ = 0;
};

// The videos table as a privacy participant: prompts and job records. The rendered files are
// exported and erased by the storage plugin's participant (same owner id).
// The video records (prompts, settings, outcomes); an erasure first stops the person's jobs.
class VideosParticipant final : public personal_data::TableStore {
 public:
  VideosParticipant(db::Database& database, Videos& videos)
      : TableStore(database, "videos", "owner_id", "video records"), videos_(videos) {}
  std::string_view name() const override { return "videos"; }
  std::vector<std::string> categories() const override { return {"user_content", "usage"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) override;

 private:
  Videos& videos_;
};

}  // namespace framehouse::video
