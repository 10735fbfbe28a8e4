#include "jobs/job_runner.hpp"

#include <typeinfo>

#include <boost/core/demangle.hpp>

#include "observability/log.hpp"

namespace framehouse::jobs {

JobRunner::JobRunner(JobQueue& queue, db::Database& database, Handler handler, std::chrono::milliseconds idle)
    : queue_(queue), database_(database), handler_(std::move(handler)), pool_("jobs", idle) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start(int workers) {
  if (workers <= 0 || keeper_.joinable()) return;
  stopping_ = std::stop_source();
  keeper_stopping_ = false;
  subscription_ = database_.changes().subscribe(queue_.options().name, [this] { pool_.poke(); });
  keeper_ = std::thread([this] { keep_leases(); });
  pool_.start(workers, queue_.options().name + "_", [this](const std::string& worker) { return run_one(worker); });
}

void JobRunner::stop() {
  if (!keeper_.joinable()) return;
  database_.changes().unsubscribe(subscription_);
  stopping_.request_stop();
  pool_.stop();
  {
    std::lock_guard lock(mutex_);
    keeper_stopping_ = true;
  }
  keeper_wake_.notify_all();
  keeper_.join();
}

bool JobRunner::run_one(const std::string& worker) {
  if (stopping_.stop_requested()) return false;
  auto job = queue_.claim(worker);
  if (!job) return false;
  if (job->payload.empty()) {
    // Its payload was cleared as it finished (JobResult::flush_log) and then its process died:
    // it ran; only the record is missing.
    queue_.settle(*job, JobResult::finished());
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    running_[worker] = *job;
  }
  JobResult result;
  try {
    result = handler_(*job, stopping_.get_token());
  } catch (const std::exception& error) {
    // Not its text: a database error can quote the values bound to a statement.
    observability::Log::error("jobs", "a job's handler threw",
                              {{"queue", queue_.options().name}, {"job", job->id}, {"error_type", boost::core::demangle(typeid(error).name())}});
    result = JobResult::retry_later("internal error");
  }
  {
    std::lock_guard lock(mutex_);
    running_.erase(worker);
  }
  queue_.settle(*job, result);
  return true;
}

void JobRunner::keep_leases() {
  const auto period = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(200), queue_.options().lease / 3);
  std::unique_lock lock(mutex_);
  while (!keeper_wake_.wait_for(lock, period, [this] { return keeper_stopping_; })) {
    std::vector<Job> held;
    for (const auto& [worker, job] : running_) held.push_back(job);
    lock.unlock();
    for (const auto& job : held) {
      try {
        if (!queue_.renew(job)) {
          observability::Log::warn("jobs", "a running job's lease was lost", {{"queue", queue_.options().name}, {"job", job.id}});
        }
      } catch (const std::exception&) {
        // The database is away: the next round tries again; if every round fails the lease
        // lapses and another worker runs the job again.
      }
    }
    lock.lock();
  }
}

}  // namespace framehouse::jobs
