// A request answered on an I/O thread when it can be answered from memory alone (a signed-in
// person's own profile, say, from the credentials and users read in the last second), and on
// the handler threads otherwise — without two copies of the handler. The I/O thread runs the
// ordinary handler inside a MemoryOnly scope; whatever would wait there (a pooled database
// session, a plugin call, password hashing) calls about_to_block() first, which throws
// WouldBlock, and the request is handed to the handler threads to run again from the start.
//
// A handler may be tried this way only if it changes nothing before its first blocking step
// (reads from memory are fine: they are simply done again).
#pragma once

namespace framehouse::workers {

// Not a std::exception, so that no handler's `catch (const std::exception&)` takes it for an
// error of its own.
struct WouldBlock {};

// Throws WouldBlock inside a MemoryOnly scope; does nothing elsewhere.
void about_to_block();

// While it lives, this thread must not wait.
class MemoryOnly {
 public:
  MemoryOnly();
  ~MemoryOnly();
  MemoryOnly(const MemoryOnly&) = delete;
  MemoryOnly& operator=(const MemoryOnly&) = delete;

 private:
  bool outer_;
};

}  // namespace framehouse::workers
