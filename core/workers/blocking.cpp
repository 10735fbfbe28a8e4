#include "workers/blocking.hpp"

namespace framehouse::workers {
namespace {

thread_local bool memory_only = false;

}  // namespace

void about_to_block() {
  if (memory_only) throw WouldBlock{};
}

MemoryOnly::MemoryOnly() : outer_(memory_only) { memory_only = true; }

MemoryOnly::~MemoryOnly() { memory_only = outer_; }

}  // namespace framehouse::workers
