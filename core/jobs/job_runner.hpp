// The workers of one job queue: each claims a due job, runs its handler and settles the result,
// woken by the queue's change notices (a job enqueued here or on another node) and otherwise
// looking every `idle` for jobs whose retry time came or whose lease ran out. One keeper thread
// renews the leases of every job the workers hold, so a long job is not taken over while it
// runs and a dead process's jobs are.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "jobs/job_queue.hpp"
#include "workers/worker_pool.hpp"

namespace framehouse::jobs {

class JobRunner {
 public:
  // Runs one job. `stopping` is requested at shutdown: a long handler returns
  // JobResult::released() then, so that its lease goes back at once; a short one just finishes.
  // An exception counts as a failure for now (retried).
  using Handler = std::function<JobResult(const Job& job, std::stop_token stopping)>;

  JobRunner(JobQueue& queue, db::Database& database, Handler handler, std::chrono::milliseconds idle = std::chrono::seconds(5));
  ~JobRunner();  // stops
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void start(int workers);
  // Asks running handlers to stop, waits for them, then stops renewing leases.
  void stop();
  // Claims one due job, runs it on the calling thread and settles it (what each worker does
  // over and over); false when none was due.
  bool run_one(const std::string& worker);

 private:
  void keep_leases();

  JobQueue& queue_;
  db::Database& database_;
  Handler handler_;
  workers::WorkerPool pool_;
  db::ChangeFeed::Subscription subscription_ = 0;
  std::stop_source stopping_;

  std::mutex mutex_;
  std::condition_variable keeper_wake_;
  bool keeper_stopping_ = false;
  std::map<std::string, Job> running_;  // by worker
  std::thread keeper_;
};

}  // namespace framehouse::jobs
