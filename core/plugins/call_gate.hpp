// The slots of one plugin's calls: at most `concurrency` calls run at once, each on one of the
// plugin's own threads. A call that cannot get a slot by its deadline fails as a timeout; a
// call abandoned at its deadline keeps its slot until the plugin returns, so a hung plugin
// holds at most `concurrency` threads and never makes the host start more. At most as many
// calls wait for a slot as there are slots; further ones are refused at once (busy), so that
// the callers of a hung plugin — each a handler thread — are bounded too: 2 × concurrency.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace framehouse::plugins {

class CallGate {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;  // nullopt: none

  explicit CallGate(int concurrency) : concurrency_(concurrency < 1 ? 1 : concurrency) {}

  enum class Admission { granted, timed_out, busy, closed };
  // A slot, waiting for one until the deadline unless `concurrency` calls wait already (busy);
  // closed: the plugin is stopping.
  Admission acquire(Deadline deadline);
  void release();
  // No new call gets a slot from now on.
  void close();
  // Waits until no call holds a slot, or the deadline passes: false then.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

  int concurrency() const { return concurrency_; }
  int in_flight() const;
  int waiting() const;

 private:
  const int concurrency_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
  int waiting_ = 0;
  bool closed_ = false;
};

}  // namespace framehouse::plugins
