#include "app/periodic_task.hpp"

#include "observability/log.hpp"

namespace framehouse::app {

PeriodicTask::PeriodicTask(std::string name, std::chrono::seconds interval, std::function<void()> task)
    : name_(std::move(name)), interval_(interval), task_(std::move(task)), thread_([this] { loop(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicTask::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      task_();
    } catch (const std::exception& error) {
      observability::Log::error("maintenance", "periodic task failed", {{"task", name_}, {"error", error.what()}});
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace framehouse::app
