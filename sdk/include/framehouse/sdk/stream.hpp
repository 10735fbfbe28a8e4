// Framehouse SDK — byte streams. Object bodies, exports and generated media move through these
// in chunks, so neither side ever holds a whole file in memory.
//
// Ownership: the side that creates a stream owns it; the other side only borrows it for the
// duration of the call it was passed to.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "framehouse/sdk/outcome.hpp"

namespace framehouse::sdk {

// Pull side: the reader asks for the next chunk.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to buffer.size() bytes and returns how many were written; 0 means end of stream.
  virtual Result<std::size_t> read(std::span<std::byte> buffer) = 0;
};

// Push side: the writer hands over the next chunk.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Outcome write(std::span<const std::byte> data) = 0;
};

// Reads `source` to its end, handing each chunk to `consume(std::span<const std::byte>)`,
// which returns an Outcome; stops at the first failure on either side.
template <class Consume>
Outcome drain(ByteSource& source, Consume&& consume, std::size_t chunk_size = 64 * 1024) {
  std::vector<std::byte> buffer(chunk_size);
  for (;;) {
    auto got = source.read(buffer);
    if (!got) return got.outcome();
    if (got.value() == 0) return {};
    if (Outcome consumed = consume(std::span<const std::byte>(buffer.data(), got.value())); !consumed) {
      return consumed;
    }
  }
}

// A source over bytes held in memory (small things: a message, a record).
class BufferSource final : public ByteSource {
 public:
  explicit BufferSource(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> read(std::span<std::byte> buffer) override {
    const std::size_t n = std::min(buffer.size(), data_.size() - offset_);
    std::memcpy(buffer.data(), data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

// A sink that keeps what it is given in memory (small things, or what a test inspects).
class BufferSink final : public ByteSink {
 public:
  Outcome write(std::span<const std::byte> data) override {
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  std::string bytes;
};

}  // namespace framehouse::sdk
