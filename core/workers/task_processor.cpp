#include "workers/task_processor.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <stdexcept>

#include <boost/core/demangle.hpp>

#include "observability/log.hpp"

namespace framehouse::workers {
namespace {

thread_local const TaskProcessor* running_on = nullptr;

}  // namespace

const TaskProcessor* TaskProcessor::current() { return running_on; }

TaskProcessor::TaskProcessor(std::string name, int threads, std::size_t queue_capacity)
    : name_(std::move(name)), capacity_(std::max<std::size_t>(1, queue_capacity)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { loop(); });
}

TaskProcessor::~TaskProcessor() { stop(); }

bool TaskProcessor::try_post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity_) {
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  work_ready_.notify_one();
  return true;
}

void TaskProcessor::post_waiting(std::function<void()> task) {
  {
    std::unique_lock lock(mutex_);
    space_free_.wait(lock, [this] { return stopping_ || queue_.size() < capacity_; });
    if (stopping_) throw std::runtime_error("the " + name_ + " task processor has stopped");
    queue_.push_back(std::move(task));
  }
  work_ready_.notify_one();
}

void TaskProcessor::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  work_ready_.notify_all();
  space_free_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

std::size_t TaskProcessor::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool TaskProcessor::saturated() const {
  std::lock_guard lock(mutex_);
  return queue_.size() >= capacity_;
}

void TaskProcessor::loop() {
  running_on = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      // Queued work is finished even while stopping: a stop drains.
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    space_free_.notify_one();
    ++busy_;
    try {
      task();
    } catch (...) {
      const std::type_info* type = abi::__cxa_current_exception_type();
      observability::Log::error("workers", "a task failed",
                                {{"processor", name_}, {"error_type", type != nullptr ? boost::core::demangle(type->name()) : "unknown"}});
    }
    --busy_;
  }
}

}  // namespace framehouse::workers
