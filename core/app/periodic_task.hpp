// Runs a function now and then every `interval` on a thread of its own, until destroyed.
// For housekeeping (retention purges); exceptions are logged, never fatal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace framehouse::app {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::seconds interval, std::function<void()> task);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void loop();

  std::string name_;
  std::chrono::seconds interval_;
  std::function<void()> task_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace framehouse::app
