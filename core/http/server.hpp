// The HTTP/1.1 server (Boost.Beast): async I/O on a pool of threads, keep-alive, limits on
// header and body size, read and idle timeouts, optional TLS, and a graceful stop on
// SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to a grace period), close
// idle connections, return from run().
//
// Beast stays inside server.cpp; the rest of the core sees only Request and Response.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "http/router.hpp"
#include "workers/task_processor.hpp"

namespace framehouse::http {

struct TlsFiles {
  std::filesystem::path certificate_chain;
  std::filesystem::path private_key;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  int threads = 2;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30'000};  // to receive a request once it started
  std::chrono::milliseconds idle_timeout{60'000};  // between requests on a kept-alive connection
  std::chrono::milliseconds shutdown_grace{10'000};
  // Open connections at most; more are answered 503 and closed, so that idle or slow clients
  // cannot take every file descriptor the database and plugins need.
  std::size_t max_connections = 1024;
  std::optional<TlsFiles> tls;
};

class Server {
 public:
  // Handlers that may block run on `handlers` (borrowed; it must outlive run()), the I/O threads
  // only read, write and route; a full queue is answered 503 with Retry-After. Without one,
  // every handler runs on the I/O thread (tools and tests that need nothing more).
  Server(ServerOptions options, const Router& router, workers::TaskProcessor* handlers = nullptr);
  ~Server();

  // Binds and listens. Throws std::runtime_error naming the address or TLS file at fault.
  void listen();
  std::uint16_t port() const;
  // "http://127.0.0.1:8080" (or https), with the port actually bound.
  std::string url() const;
  // Serves until SIGINT/SIGTERM or stop(), then drains and returns.
  void run();
  // Starts the same graceful stop as a signal. Thread-safe.
  void stop();

  struct Impl;  // public only so that server.cpp's sessions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace framehouse::http
