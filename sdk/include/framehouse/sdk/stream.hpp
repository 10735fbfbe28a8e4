// Framehouse SDK — byte streams. Object bodies, exports and generated media move through these
// in chunks, so neither side ever holds a whole file in memory.
//
// Ownership: the side that creates a stream owns it; the other side only borrows it for the
// duration of the call it was passed to.
#pragma once

#include <cstddef>
#include <span>

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

}  // namespace framehouse::sdk
