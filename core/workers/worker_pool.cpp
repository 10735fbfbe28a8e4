#include "workers/worker_pool.hpp"

#include "crypto/crypto.hpp"
#include "observability/log.hpp"

namespace framehouse::workers {

WorkerPool::WorkerPool(std::string component, std::chrono::milliseconds idle)
    : component_(std::move(component)), idle_(idle) {}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start(int count, const std::string& prefix, Step step) {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  const std::string process = crypto::random_id(prefix, 6);
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, step, name = process + "_" + std::to_string(i)] { loop(name, step); });
  }
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void WorkerPool::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

void WorkerPool::loop(const std::string& worker, const Step& step) {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    bool worked = false;
    try {
      worked = step(worker);
    } catch (const std::exception& error) {
      observability::Log::error(component_, "worker step failed", {{"worker", worker}, {"error", error.what()}});
    }
    if (!worked) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, idle_, [this] { return stopping_ || poked_; });
      poked_ = false;
    }
  }
}

}  // namespace framehouse::workers
