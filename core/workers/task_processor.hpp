// A fixed set of threads with a bounded queue in front (userver's "task processor"): where work
// that may block — SQL, plugin calls, password hashing — runs, so that the HTTP I/O threads
// only do I/O. A full queue refuses new work at once instead of growing without bound; the
// caller answers 503 with Retry-After.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "workers/blocking.hpp"

namespace framehouse::workers {

class TaskProcessor {
 public:
  // `name` names the threads' log lines and metrics ("handlers", "cpu").
  TaskProcessor(std::string name, int threads, std::size_t queue_capacity);
  ~TaskProcessor();  // drains, see stop()
  TaskProcessor(const TaskProcessor&) = delete;
  TaskProcessor& operator=(const TaskProcessor&) = delete;

  // Queues `task` unless the queue is full (or the processor stopped): false then, and the task
  // is not run. A task that throws is logged and does not end its thread.
  bool try_post(std::function<void()> task);

  // Runs `fn` on one of the threads and waits for its result (or rethrows its exception): for
  // CPU-heavy work called from a thread that may block, so that such work never takes more
  // than this processor's threads. Waits for a place in the queue rather than refusing.
  template <class Fn>
  auto run(Fn fn) -> std::invoke_result_t<Fn> {
    about_to_block();
    using R = std::invoke_result_t<Fn>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    auto result = task->get_future();
    post_waiting([task] { (*task)(); });
    return result.get();
  }

  // Stops taking work, lets the queued and running tasks finish, joins the threads.
  void stop();

  // The processor whose thread calls this, or nullptr (an I/O thread, main, a worker).
  static const TaskProcessor* current();

  const std::string& name() const { return name_; }
  int threads() const { return static_cast<int>(threads_.size()); }
  std::size_t capacity() const { return capacity_; }
  std::size_t queued() const;
  int busy() const { return busy_.load(); }
  // Whether the queue is full: new work would be refused (readiness reports this).
  bool saturated() const;
  std::uint64_t rejected() const { return rejected_.load(); }

 private:
  void post_waiting(std::function<void()> task);
  void loop();

  std::string name_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_free_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<int> busy_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::vector<std::thread> threads_;
};

}  // namespace framehouse::workers
