// Threads that each run a step over and over until stopped: the video job workers and the
// privacy request workers. A step that found nothing to do waits until poke() (new work) or
// until the idle interval passes (work another process queued, leases that ran out).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace framehouse::workers {

class WorkerPool {
 public:
  // True when the step did some work; the worker then steps again at once.
  using Step = std::function<bool(const std::string& worker)>;

  // `component` names the pool in the log lines of steps that throw.
  WorkerPool(std::string component, std::chrono::milliseconds idle);
  ~WorkerPool();  // stops
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // `count` threads named "<prefix><random>_<n>": unique across processes, for leases.
  void start(int count, const std::string& prefix, Step step);
  // Wakes every worker and waits for each to finish its step.
  void stop();
  // New work: idle workers look at once instead of at their next interval.
  void poke();

 private:
  void loop(const std::string& worker, const Step& step);

  std::string component_;
  std::chrono::milliseconds idle_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace framehouse::workers
