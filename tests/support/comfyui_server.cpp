#include "support/comfyui_server.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/http_client.hpp"

namespace framehouse::testing {

std::uint16_t ComfyUiServer::start(bool cancel_route, std::uint16_t port) {
  const auto script = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/comfyui_server/server.py";
  std::vector<std::string> command{"/usr/bin/python3", script.string(), "--root", root_.string(), "--port",
                                   std::to_string(port != 0 ? port : port_)};
  if (!cancel_route) command.push_back("--no-cancel-route");
  process_ = std::make_unique<ChildProcess>(command);
  const std::string line = process_->wait_for_stdout_line("listening on", std::chrono::seconds(20));
  EXPECT_FALSE(line.empty()) << process_->stderr_text();
  port_ = line.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(' ') + 1)));
  return port_;
}

void ComfyUiServer::inject(const std::string& faults_json) const {
  const auto answer = http_request(port_, "POST", "/_standin/faults", faults_json, {{"Content-Type", "application/json"}});
  EXPECT_EQ(answer.status, 200) << answer.body;
}

boost::json::object ComfyUiServer::stats() const {
  return boost::json::parse(http_request(port_, "GET", "/_standin/stats").body).as_object();
}

}  // namespace framehouse::testing
