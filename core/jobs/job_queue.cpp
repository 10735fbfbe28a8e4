#include "jobs/job_queue.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"

namespace framehouse::jobs {

using observability::Log;

std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::ready: return "ready";
    case JobState::running: return "running";
    case JobState::done: return "done";
    case JobState::dead: return "dead";
  }
  return "ready";
}

std::optional<JobState> job_state_from(std::string_view text) {
  for (const auto state : {JobState::ready, JobState::running, JobState::done, JobState::dead}) {
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

JobQueue::JobQueue(db::Database& database, observability::Metrics& metrics, QueueOptions options, MillisecondClock clock)
    : database_(database), metrics_(metrics), options_(std::move(options)), now_ms_(std::move(clock)) {
  // Jobs of this queue in `state`: due now (`due` true), waiting for a later time (false), or
  // either (nullopt).
  const auto depth = [this](const char* state, std::optional<bool> due) {
    return [this, state, due] {
      soci::session sql(database_.pool());
      long long count = 0;
      const long long now = now_ms_();
      const std::string state_text = state;
      const std::string timing = !due ? "" : *due ? " AND run_at_ms <= :n" : " AND run_at_ms > :n";
      soci::details::prepare_temp_type query =
          (sql.prepare << "SELECT COUNT(*) FROM jobs WHERE queue = :q AND state = :s" + timing, soci::use(options_.name),
           soci::use(state_text), soci::into(count));
      if (due) query, soci::use(now);
      soci::statement statement(query);
      statement.execute(true);
      return static_cast<double>(count);
    };
  };
  metrics_.add_gauge("framehouse_jobs_due", "Jobs waiting for a worker now, by queue.", "queue", options_.name,
                     depth("ready", true));
  metrics_.add_gauge("framehouse_jobs_scheduled", "Jobs waiting for their retry time, by queue.", "queue", options_.name,
                     depth("ready", false));
  metrics_.add_gauge("framehouse_jobs_running", "Jobs a worker holds the lease of, by queue.", "queue", options_.name,
                     depth("running", std::nullopt));
  metrics_.add_gauge("framehouse_jobs_dead", "Jobs that failed for good, kept for operators, by queue.", "queue",
                     options_.name, depth("dead", std::nullopt));
}

std::string JobQueue::new_id() { return crypto::random_id("job_", 16); }

void JobQueue::count(const char* name, const char* help) { metrics_.count(name, help, "queue", options_.name); }

std::string JobQueue::enqueue(db::WriteTransaction& transaction, const std::string& payload, const std::string& subject_id,
                              const std::string& label, std::optional<std::string> id, std::int64_t not_before_ms) {
  const std::string job_id = id.value_or(new_id());
  const long long now = now_ms_();
  const long long due = std::max<long long>(now, not_before_ms);
  soci::indicator subject_indicator = subject_id.empty() ? soci::i_null : soci::i_ok;
  transaction.session() << "INSERT INTO jobs (id, queue, state, subject_id, label, payload, attempts, run_at_ms, created_at_ms)"
                           " VALUES (:id, :q, 'ready', :s, :l, :p, 0, :r, :c) ON CONFLICT (id) DO NOTHING",
      soci::use(job_id), soci::use(options_.name), soci::use(subject_id, subject_indicator), soci::use(label),
      soci::use(payload), soci::use(due), soci::use(now);
  transaction.notify(options_.name);
  return job_id;
}

void JobQueue::drop_waiting(db::WriteTransaction& transaction, const std::string& id) {
  transaction.session() << "DELETE FROM jobs WHERE id = :id AND queue = :q AND state = 'ready'", soci::use(id),
      soci::use(options_.name);
}

std::optional<Job> JobQueue::claim(const std::string& worker) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  const long long now = now_ms_();
  Job job;
  std::string state, previous_owner;
  soci::indicator subject_indicator = soci::i_null, owner_indicator = soci::i_null, payload_indicator = soci::i_null;
  // Due jobs, or jobs whose worker stopped renewing its lease (it crashed or hangs).
  sql << "SELECT id, state, subject_id, payload, attempts, run_at_ms, lease_owner FROM jobs WHERE queue = :q AND"
         " ((state = 'ready' AND run_at_ms <= :n) OR (state = 'running' AND lease_expires_at_ms < :n2))"
         " ORDER BY run_at_ms, id LIMIT 1" + database_.dialect().skip_locked(),
      soci::use(options_.name), soci::use(now), soci::use(now), soci::into(job.id), soci::into(state),
      soci::into(job.subject_id, subject_indicator), soci::into(job.payload, payload_indicator), soci::into(job.attempt),
      soci::into(job.run_at_ms), soci::into(previous_owner, owner_indicator);
  if (!sql.got_data()) return std::nullopt;
  if (subject_indicator != soci::i_ok) job.subject_id.clear();
  if (payload_indicator != soci::i_ok) job.payload.clear();
  ++job.attempt;
  job.worker = worker;
  const long long lease = now + std::chrono::milliseconds(options_.lease).count();
  sql << "UPDATE jobs SET state = 'running', attempts = :a, lease_owner = :w, lease_expires_at_ms = :l,"
         " started_at_ms = :n WHERE id = :id",
      soci::use(job.attempt), soci::use(worker), soci::use(lease), soci::use(now), soci::use(job.id);
  transaction.commit();
  if (state == "running") {
    // Its worker's process died or hangs: the job runs again, which its handler must tolerate.
    count("framehouse_jobs_taken_over_total", "Jobs taken over after their worker stopped renewing the lease, by queue.");
    Log::warn("jobs", "job taken over after its lease ran out",
              {{"queue", options_.name}, {"job", job.id}, {"previous_worker", previous_owner}, {"attempt", std::to_string(job.attempt)}});
  }
  metrics_.observe("framehouse_job_wait_seconds", "From when a job was due to when a worker took it, by queue.", "queue",
                   options_.name, static_cast<double>(std::max<long long>(0, now - job.run_at_ms)) / 1000.0);
  return job;
}

bool JobQueue::renew(const Job& job) {
  soci::session sql(database_.pool());
  const long long lease = now_ms_() + std::chrono::milliseconds(options_.lease).count();
  soci::statement update = (sql.prepare << "UPDATE jobs SET lease_expires_at_ms = :l WHERE id = :id AND state = 'running'"
                                           " AND lease_owner = :w",
                            soci::use(lease), soci::use(job.id), soci::use(job.worker));
  update.execute(true);
  return update.get_affected_rows() == 1;
}

std::chrono::milliseconds JobQueue::backoff(int attempt) const {
  const auto doubled = options_.first_retry * (1LL << std::min(attempt - 1, 20));
  return std::min<std::chrono::milliseconds>(doubled, options_.longest_retry);
}

void JobQueue::settle(const Job& job, const JobResult& result) {
  const bool last_run = result.kind == JobResult::Kind::done || result.kind == JobResult::Kind::dead ||
                        (result.kind == JobResult::Kind::retry && job.attempt >= options_.max_attempts);
  if (result.flush_log && last_run) {
    {
      soci::session sql(database_.pool());
      sql << "UPDATE jobs SET payload = NULL WHERE id = :id AND lease_owner = :w", soci::use(job.id), soci::use(job.worker);
    }
    bool flushed = false;
    for (int attempt = 0; attempt < 3 && !flushed; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      flushed = database_.flush_deleted_rows().complete;
    }
    // The next erasure's flush, or the engine's own checkpoint, overwrites it later.
    if (!flushed) Log::warn("jobs", "the database log still holds a settled job's payload", {{"queue", options_.name}, {"job", job.id}});
  }
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  const long long now = now_ms_();
  long long started = now;
  sql << "SELECT started_at_ms FROM jobs WHERE id = :id", soci::use(job.id), soci::into(started);
  // Only the lease owner settles: a worker that lost its lease (it hung past it) and finished
  // after the job was taken over leaves the new owner's state alone.
  const auto owned = [&](const std::string& assignments, auto... bindings) {
    soci::details::prepare_temp_type prepared =
        (sql.prepare << "UPDATE jobs SET " + assignments + ", lease_owner = NULL, lease_expires_at_ms = NULL"
                        " WHERE id = :id AND state = 'running' AND lease_owner = :w");
    ((prepared, bindings), ...);
    prepared, soci::use(job.id), soci::use(job.worker);
    soci::statement update(prepared);
    update.execute(true);
    return update.get_affected_rows() == 1;
  };
  bool settled = false;
  JobResult::Kind kind = result.kind;
  switch (result.kind) {
    case JobResult::Kind::done:
      settled = owned("state = 'done', payload = NULL, last_error = NULL, result = :r, finished_at_ms = :n",
                      soci::use(result.reason), soci::use(now));
      break;
    case JobResult::Kind::released: {
      const int attempts = job.attempt - 1;
      settled = owned("state = 'ready', attempts = :a", soci::use(attempts));
      break;
    }
    case JobResult::Kind::deferred: {
      const int attempts = job.attempt - 1;
      const long long next = now + result.delay.count();
      settled = owned("state = 'ready', attempts = :a, run_at_ms = :r", soci::use(attempts), soci::use(next));
      break;
    }
    case JobResult::Kind::retry:
      if (job.attempt < options_.max_attempts) {
        const long long next = now + backoff(job.attempt).count();
        settled = owned("state = 'ready', last_error = :e, run_at_ms = :r", soci::use(result.reason), soci::use(next));
        break;
      }
      kind = JobResult::Kind::dead;  // out of attempts
      [[fallthrough]];
    case JobResult::Kind::dead:
      settled = owned("state = 'dead', payload = NULL, last_error = :e, finished_at_ms = :n", soci::use(result.reason),
                      soci::use(now));
      break;
  }
  transaction.commit();
  if (!settled) {
    Log::warn("jobs", "a job's result came after it was taken over or erased; it is dropped",
              {{"queue", options_.name}, {"job", job.id}, {"worker", job.worker}});
    return;
  }
  metrics_.observe("framehouse_job_run_seconds", "How long one run of a job took, by queue.", "queue", options_.name,
                   static_cast<double>(std::max<long long>(0, now - started)) / 1000.0);
  switch (kind) {
    case JobResult::Kind::done:
      count("framehouse_jobs_done_total", "Jobs finished, by queue.");
      break;
    case JobResult::Kind::released:
      count("framehouse_jobs_released_total", "Jobs given back unrun at shutdown, by queue.");
      break;
    case JobResult::Kind::deferred:
      count("framehouse_jobs_deferred_total", "Runs of jobs put off because the work they wait for was not done yet, by queue.");
      break;
    case JobResult::Kind::retry:
      count("framehouse_jobs_retried_total", "Runs of jobs that failed for now and will be retried, by queue.");
      Log::info("jobs", "a job failed for now; it will be retried",
                {{"queue", options_.name}, {"job", job.id}, {"attempt", std::to_string(job.attempt)}, {"reason", result.reason}});
      break;
    case JobResult::Kind::dead:
      count("framehouse_jobs_dead_total", "Jobs that failed for good (alert on any), by queue.");
      Log::error("jobs", "a job failed for good",
                 {{"queue", options_.name}, {"job", job.id}, {"attempts", std::to_string(job.attempt)}, {"reason", result.reason}});
      break;
  }
}

namespace {

constexpr const char* kRecordColumns =
    "SELECT id, state, label, attempts, last_error, result, created_at_ms, run_at_ms, finished_at_ms FROM jobs ";

// The columns of kRecordColumns, bound once and read row by row.
struct RecordRow {
  JobRecord record;
  std::string state, error, result;
  long long finished = 0;
  soci::indicator error_indicator = soci::i_null, result_indicator = soci::i_null, finished_indicator = soci::i_null;

  void bind(soci::details::prepare_temp_type& statement) {
    statement, soci::into(record.id), soci::into(state), soci::into(record.label), soci::into(record.attempts),
        soci::into(error, error_indicator), soci::into(result, result_indicator), soci::into(record.created_at_ms),
        soci::into(record.run_at_ms), soci::into(finished, finished_indicator);
  }
  JobRecord get(const std::string& queue) const {
    JobRecord out = record;
    out.queue = queue;
    out.state = job_state_from(state).value_or(JobState::ready);
    out.last_error = error_indicator == soci::i_ok ? error : "";
    out.result = result_indicator == soci::i_ok ? result : "";
    out.finished_at_ms = finished_indicator == soci::i_ok ? std::optional<std::int64_t>(finished) : std::nullopt;
    return out;
  }
};

}  // namespace

std::optional<JobRecord> JobQueue::find(const std::string& id) {
  soci::session sql(database_.pool());
  RecordRow row;
  soci::details::prepare_temp_type prepared =
      (sql.prepare << std::string(kRecordColumns) + "WHERE id = :id AND queue = :q", soci::use(id), soci::use(options_.name));
  row.bind(prepared);
  soci::statement select(prepared);
  select.execute();
  if (!select.fetch()) return std::nullopt;
  return row.get(options_.name);
}

std::vector<JobRecord> JobQueue::list(JobState state, int limit) {
  soci::session sql(database_.pool());
  const std::string state_text{to_string(state)};
  RecordRow row;
  soci::details::prepare_temp_type prepared =
      (sql.prepare << std::string(kRecordColumns) + "WHERE queue = :q AND state = :s ORDER BY created_at_ms DESC, id LIMIT :l",
       soci::use(options_.name), soci::use(state_text), soci::use(limit));
  row.bind(prepared);
  soci::statement select(prepared);
  select.execute();
  std::vector<JobRecord> records;
  while (select.fetch()) records.push_back(row.get(options_.name));
  return records;
}

std::int64_t JobQueue::purge_settled(std::chrono::seconds age) {
  soci::session sql(database_.pool());
  const long long before = now_ms_() - std::chrono::milliseconds(age).count();
  soci::statement purge = (sql.prepare << "DELETE FROM jobs WHERE queue = :q AND state IN ('done', 'dead') AND finished_at_ms < :b",
                           soci::use(options_.name), soci::use(before));
  purge.execute(true);
  return purge.get_affected_rows();
}

}  // namespace framehouse::jobs
