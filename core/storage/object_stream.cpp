#include "storage/object_stream.hpp"

#include "observability/log.hpp"

namespace framehouse::storage {
namespace {

constexpr std::size_t kQueueLimit = 4 * 1024 * 1024;

}  // namespace

struct ObjectStream::Queue final : sdk::ByteSink {
  std::mutex mutex;
  std::condition_variable space;
  std::deque<std::string> chunks;
  std::size_t bytes = 0;
  bool finished = false;
  bool abandoned = false;

  sdk::Outcome write(std::span<const std::byte> data) override {
    std::unique_lock lock(mutex);
    space.wait(lock, [&] { return abandoned || bytes < kQueueLimit; });
    if (abandoned) return sdk::Outcome::failure(sdk::Status::unavailable, "the client went away");
    chunks.emplace_back(reinterpret_cast<const char*>(data.data()), data.size());
    bytes += data.size();
    return {};
  }
};

ObjectStream::ObjectStream(ObjectStore& objects, sdk::ObjectKey key, std::string person) : queue_(std::make_shared<Queue>()) {
  std::thread([&objects, key = std::move(key), person = std::move(person), queue = queue_] {
    const sdk::Outcome read = objects.get(key, {}, queue, person);
    if (!read && !queue->abandoned) observability::Log::warn("storage", "a download ended early", {{"error", read.message()}});
    std::lock_guard lock(queue->mutex);
    queue->finished = true;
  }).detach();
}

ObjectStream::~ObjectStream() {
  std::lock_guard lock(queue_->mutex);
  queue_->abandoned = true;
  queue_->space.notify_all();
}

http::StreamSource::Chunk ObjectStream::poll() {
  std::lock_guard lock(queue_->mutex);
  Chunk chunk;
  while (!queue_->chunks.empty() && chunk.data.size() < 1024 * 1024) {
    chunk.data += queue_->chunks.front();
    queue_->bytes -= queue_->chunks.front().size();
    queue_->chunks.pop_front();
  }
  chunk.done = queue_->finished && queue_->chunks.empty();
  queue_->space.notify_all();
  return chunk;
}

}  // namespace framehouse::storage
