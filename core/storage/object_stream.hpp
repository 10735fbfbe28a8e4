// An HTTP response body streamed out of storage: a reader thread pulls the (opened) object
// through ObjectStore::get into a bounded queue that the connection drains, so a download of
// any size holds at most a few chunks in memory. A closed connection stops the reader.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "http/message.hpp"
#include "storage/object_store.hpp"

namespace framehouse::storage {

class ObjectStream final : public http::StreamSource {
 public:
  ObjectStream(ObjectStore& objects, sdk::ObjectKey key, std::string person);
  ~ObjectStream() override;
  Chunk poll() override;

 private:
  struct Queue;
  std::shared_ptr<Queue> queue_;
};

}  // namespace framehouse::storage
