// Change notifications: a committed change wakes whoever waits for it (job workers, Server-Sent
// Events) instead of each of them polling SQL. In this process a notice arrives at once; on
// PostgreSQL it also reaches every other process through LISTEN/NOTIFY, so a job finished on
// another node wakes this node's listeners. Waiters still poll slowly as a fallback: notices
// sent while the listening connection reconnects are lost (it then wakes everyone once).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace framehouse::db {

class ChangeFeed {
 public:
  using Subscription = std::uint64_t;
  // The PostgreSQL channel every process LISTENs on; the payload is the topic.
  static constexpr const char* kChannel = "framehouse_changes";

  // `postgres_connect` is empty for SQLite: notices then stay in the process.
  explicit ChangeFeed(std::string postgres_connect);
  ~ChangeFeed();  // stops listening
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // `on_change` runs on the publishing (or listening) thread, so it must only wake something:
  // poke a worker pool, bump a counter. Subscribers live as long as they are subscribed.
  Subscription subscribe(std::string topic, std::function<void()> on_change);
  void unsubscribe(Subscription subscription);
  // Wakes this process's subscribers of `topic` (other processes hear of it through NOTIFY,
  // sent by the transaction that made the change: see WriteTransaction::notify).
  void publish(const std::string& topic);
  // For a change already committed outside a transaction (an autocommitted UPDATE): wakes this
  // process's subscribers at once and, on PostgreSQL, every other process's through the
  // listening connection (no pooled connection is taken).
  void announce(const std::string& topic);

  // On PostgreSQL: a connection of its own LISTENs on kChannel until stop(). Nothing on SQLite.
  void listen();
  void stop();

 private:
  void listen_loop();
  void publish_all();

  std::string postgres_connect_;
  std::mutex mutex_;
  std::multimap<std::string, std::pair<Subscription, std::function<void()>>> subscribers_;
  Subscription next_ = 1;
  std::atomic<bool> stopping_{false};
  std::set<std::string> outgoing_;  // topics to NOTIFY, under mutex_
  int wake_pipe_[2] = {-1, -1};     // wakes the listener to send them
  std::thread listener_;
};

}  // namespace framehouse::db
