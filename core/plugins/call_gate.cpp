#include "plugins/call_gate.hpp"

namespace framehouse::plugins {

CallGate::Admission CallGate::acquire(Deadline deadline) {
  std::unique_lock lock(mutex_);
  if (closed_) return Admission::closed;
  if (in_flight_ >= concurrency_ && waiting_ >= concurrency_) return Admission::busy;
  ++waiting_;
  const auto free = [this] { return closed_ || in_flight_ < concurrency_; };
  const bool got = deadline ? changed_.wait_until(lock, *deadline, free) : (changed_.wait(lock, free), true);
  --waiting_;
  if (closed_) return Admission::closed;
  if (!got) return Admission::timed_out;
  ++in_flight_;
  return Admission::granted;
}

void CallGate::release() {
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  changed_.notify_all();
}

void CallGate::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool CallGate::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [this] { return in_flight_ == 0; });
}

int CallGate::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

int CallGate::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

}  // namespace framehouse::plugins
