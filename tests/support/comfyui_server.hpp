// Test support: the ComfyUI stand-in (tests/compat/comfyui_server/server.py, aiohttp) on
// loopback, with its files under a directory of the test's, its faults and what it counted.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "support/process.hpp"

namespace framehouse::testing {

class ComfyUiServer {
 public:
  explicit ComfyUiServer(std::filesystem::path root) : root_(std::move(root)) {}
  // On `port`, or a free one (its port is kept for a restart). Returns the port.
  std::uint16_t start(bool cancel_route = true, std::uint16_t port = 0);
  // Like a ComfyUI process that died: the queue and history (in memory) are gone, the files stay.
  void stop() { process_.reset(); }
  std::uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& root() const { return root_; }
  // POST /_standin/faults.
  void inject(const std::string& faults_json) const;
  // GET /_standin/stats: submissions, uploads, interrupts, cancels, history_deletes, queue_deletes, views.
  boost::json::object stats() const;
  std::string log() const { return process_ ? process_->stderr_text() : ""; }

 private:
  std::filesystem::path root_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace framehouse::testing
