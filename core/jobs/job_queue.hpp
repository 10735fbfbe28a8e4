// One durable job mechanism for work that must happen even if the process dies: a row per job
// in `jobs`, claimed under a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so several nodes
// share a queue; one writer at a time on SQLite), renewed while it runs, retried with
// exponential backoff, dead-lettered after its last attempt. A job whose worker died is taken
// over when its lease runs out, and that is logged and counted; at shutdown a worker gives its
// lease back so another node takes the job at once.
//
// A job is enqueued inside the caller's write transaction, so it exists exactly when the state
// change that causes it does (the outbox pattern). Its handler must be idempotent or recognise
// a repeat (a job can run again after a crash between its effect and its settlement).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.hpp"
#include "observability/metrics.hpp"

namespace framehouse::jobs {

enum class JobState { ready, running, done, dead };
std::string_view to_string(JobState state);
std::optional<JobState> job_state_from(std::string_view text);

// Milliseconds since the epoch.
using MillisecondClock = std::function<std::int64_t()>;
std::int64_t system_now_ms();

struct QueueOptions {
  std::string name;  // e.g. "mail"; also the topic its workers are woken by
  std::chrono::seconds lease{60};
  int max_attempts = 12;
  std::chrono::milliseconds first_retry{2000};  // doubled per attempt
  std::chrono::milliseconds longest_retry{std::chrono::minutes(30)};
};

struct Job {
  std::string id;
  std::string subject_id;  // whom the work is about ("" for no one)
  std::string payload;  // "" once cleared: the job ran, and its process died before recording it
  int attempt = 0;      // 1 for the first run
  std::int64_t run_at_ms = 0;
  std::string worker;  // the lease owner
};

// What became of one run of a job.
struct JobResult {
  enum class Kind {
    done,       // finished
    retry,      // failed for now (a provider down): run again after a backoff
    dead,       // failed for good (a permanent refusal): kept for an operator, never run again
    released,   // not run (shutting down): the lease goes back, the attempt does not count
    deferred,   // not run yet (it waits for other work): again after `delay`, the attempt does not count
  };
  Kind kind = Kind::done;
  // For done: what the job reports (JSON, kept with its record); for retry and dead: why.
  // Never personal data.
  std::string reason;
  // The payload held data of a person who was erased (their receipt): once it is cleared, the
  // database's log is flushed too, before the job counts as settled — as the erasure itself
  // was, so that no copy of it stays readable in the database's files.
  bool flush_log = false;
  std::chrono::milliseconds delay{0};  // for deferred
  static JobResult finished(std::string report = {}) { return {Kind::done, std::move(report)}; }
  static JobResult retry_later(std::string why) { return {Kind::retry, std::move(why)}; }
  static JobResult failed_for_good(std::string why) { return {Kind::dead, std::move(why)}; }
  static JobResult released() { return {Kind::released, {}}; }
  static JobResult deferred(std::chrono::milliseconds delay) {
    JobResult result{Kind::deferred, {}};
    result.delay = delay;
    return result;
  }
};

// A job as an operator sees it (never the payload).
struct JobRecord {
  std::string id;
  std::string queue;
  JobState state = JobState::ready;
  std::string label;
  int attempts = 0;
  std::string last_error;
  std::string result;  // a done job's report
  std::int64_t created_at_ms = 0;
  std::int64_t run_at_ms = 0;
  std::optional<std::int64_t> finished_at_ms;
};

class JobQueue {
 public:
  JobQueue(db::Database& database, observability::Metrics& metrics, QueueOptions options,
           MillisecondClock clock = system_now_ms);

  const QueueOptions& options() const { return options_; }

  // Adds a job in the caller's transaction; its workers are woken when that commits. `label`
  // says what it is for operators (template text, never personal data). Returns its id. With
  // `id` given (a caller that must know it beforehand, or that may enqueue the same work twice)
  // a job of that id already there is left as it is. It is due at once, or not before
  // `not_before_ms` when that is later.
  std::string enqueue(db::WriteTransaction& transaction, const std::string& payload, const std::string& subject_id,
                      const std::string& label, std::optional<std::string> id = std::nullopt, std::int64_t not_before_ms = 0);
  // Calls off a job that has not started, in the caller's transaction; a running one finishes.
  void drop_waiting(db::WriteTransaction& transaction, const std::string& id);
  // A new job id, for enqueue().
  static std::string new_id();

  // The next due job, leased to `worker`; nullopt when none is due.
  std::optional<Job> claim(const std::string& worker);
  // Extends the lease of a running job; false if the job is no longer this worker's.
  bool renew(const Job& job);
  // Records the result. A settled job's payload is cleared: it may hold personal data (a
  // message and its address) that nothing needs any more — an erased person's last receipt
  // among them. What stays (label, attempts, reason, times) says what happened.
  void settle(const Job& job, const JobResult& result);

  // Operators' view: one job of this queue, or the newest `limit` in `state`.
  std::optional<JobRecord> find(const std::string& id);
  // How long a job that failed on `attempt` waits before the next one.
  std::chrono::milliseconds backoff(int attempt) const;
  std::vector<JobRecord> list(JobState state, int limit);
  // Settled jobs older than `age` go; returns how many.
  std::int64_t purge_settled(std::chrono::seconds age);

 private:
  void count(const char* name, const char* help);

  db::Database& database_;
  observability::Metrics& metrics_;
  QueueOptions options_;
  MillisecondClock now_ms_;
};

}  // namespace framehouse::jobs
