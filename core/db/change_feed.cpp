#include "db/change_feed.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <libpq-fe.h>

#include "observability/log.hpp"

namespace framehouse::db {

using observability::Log;

ChangeFeed::ChangeFeed(std::string postgres_connect) : postgres_connect_(std::move(postgres_connect)) {}

ChangeFeed::~ChangeFeed() {
  stop();
  for (int& end : wake_pipe_) {
    if (end >= 0) ::close(end);
  }
}

ChangeFeed::Subscription ChangeFeed::subscribe(std::string topic, std::function<void()> on_change) {
  std::lock_guard lock(mutex_);
  const Subscription id = next_++;
  subscribers_.emplace(std::move(topic), std::make_pair(id, std::move(on_change)));
  return id;
}

void ChangeFeed::unsubscribe(Subscription subscription) {
  std::lock_guard lock(mutex_);
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if (it->second.first == subscription) {
      subscribers_.erase(it);
      return;
    }
  }
}

void ChangeFeed::publish(const std::string& topic) {
  std::lock_guard lock(mutex_);  // held while waking: unsubscribe() cannot free a callback in use
  const auto [first, last] = subscribers_.equal_range(topic);
  for (auto it = first; it != last; ++it) it->second.second();
}

void ChangeFeed::announce(const std::string& topic) {
  publish(topic);
  if (postgres_connect_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (!listener_.joinable()) return;
    outgoing_.insert(topic);
  }
  const char byte = 1;
  (void)!::write(wake_pipe_[1], &byte, 1);  // a full pipe means a wake-up is pending anyway
}

void ChangeFeed::publish_all() {
  std::lock_guard lock(mutex_);
  for (auto& [topic, subscriber] : subscribers_) subscriber.second();
}

void ChangeFeed::listen() {
  if (postgres_connect_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (listener_.joinable()) return;
  }
  if (wake_pipe_[0] < 0 && ::pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    Log::warn("database", "change notifications unavailable; listeners poll");
    return;
  }
  stopping_ = false;
  std::lock_guard lock(mutex_);
  listener_ = std::thread([this] { listen_loop(); });
}

void ChangeFeed::stop() {
  stopping_ = true;
  std::thread listener;
  {
    std::lock_guard lock(mutex_);
    listener.swap(listener_);
  }
  if (listener.joinable()) listener.join();
}

void ChangeFeed::listen_loop() {
  using namespace std::chrono_literals;
  auto backoff = 100ms;
  bool warned = false;  // once per outage
  while (!stopping_) {
    PGconn* connection = PQconnectdb(postgres_connect_.c_str());
    PGresult* listening = PQstatus(connection) == CONNECTION_OK
                              ? PQexec(connection, (std::string("LISTEN ") + kChannel).c_str())
                              : nullptr;
    const bool ready = listening && PQresultStatus(listening) == PGRES_COMMAND_OK;
    if (listening) PQclear(listening);
    if (!ready) {
      // libpq's message can quote the connection string: only say that it failed.
      if (!warned) Log::warn("database", "change notifications unavailable; listeners poll until the connection is back");
      warned = true;
      PQfinish(connection);
      for (auto waited = 0ms; waited < backoff && !stopping_; waited += 50ms) std::this_thread::sleep_for(50ms);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = 100ms;
    if (warned) Log::info("database", "change notifications are back");
    warned = false;
    publish_all();  // whatever changed while nobody listened
    bool connected = true;
    while (!stopping_ && connected) {
      pollfd descriptors[2] = {{PQsocket(connection), POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
      if (poll(descriptors, 2, 200) < 0) break;
      if (descriptors[1].revents & POLLIN) {
        char drained[64];
        while (::read(wake_pipe_[0], drained, sizeof drained) > 0) {
        }
      }
      std::set<std::string> topics;
      {
        std::lock_guard lock(mutex_);
        topics.swap(outgoing_);
      }
      for (const auto& topic : topics) {
        char* literal = PQescapeLiteral(connection, topic.c_str(), topic.size());
        if (literal == nullptr) continue;
        PGresult* sent = PQexec(connection, (std::string("NOTIFY ") + kChannel + ", " + literal).c_str());
        PQfreemem(literal);
        connected = sent != nullptr && PQresultStatus(sent) == PGRES_COMMAND_OK;
        if (sent) PQclear(sent);
      }
      if (PQconsumeInput(connection) == 0) break;  // the connection is gone: reconnect
      while (PGnotify* notice = PQnotifies(connection)) {
        publish(notice->extra);
        PQfreemem(notice);
      }
    }
    PQfinish(connection);
  }
}

}  // namespace framehouse::db
