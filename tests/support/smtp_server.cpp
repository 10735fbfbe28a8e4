#include "support/smtp_server.hpp"

#include <algorithm>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/certificates.hpp"

namespace framehouse::testing {

namespace fs = std::filesystem;

SmtpServer::SmtpServer(fs::path dir) : dir_(std::move(dir)) {
  make_certificates(dir_, "test-ca");
  fs::create_directories(dir_ / "received");
}

std::uint16_t SmtpServer::start(const std::string& mode, std::uint16_t port) {
  const fs::path script = fs::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/smtp_server/server.py";
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "/usr/bin/python3", script.string(), "--folder", (dir_ / "received").string(), "--cert", (dir_ / "server.pem").string(),
      "--key", (dir_ / "server.key").string(), "--mode", mode, "--user", kUser, "--password", kPassword, "--port",
      std::to_string(port)});
  const std::string line = process_->wait_for_stdout_line("listening on", std::chrono::seconds(20));
  EXPECT_FALSE(line.empty()) << process_->stderr_text();
  return line.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(' ') + 1)));
}

std::vector<fs::path> SmtpServer::messages() const {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_ / "received")) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> SmtpServer::messages_to(const std::string& to, std::size_t count, std::chrono::seconds within) const {
  const auto until = std::chrono::steady_clock::now() + within;
  for (;;) {
    std::vector<std::string> found;
    for (const auto& message : messages()) {
      if (envelope_of(message).at("rcpt_tos").as_array().front().as_string() == to) found.push_back(read_file(message));
    }
    if (found.size() >= count || std::chrono::steady_clock::now() > until) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

boost::json::object SmtpServer::envelope_of(const fs::path& message) {
  auto meta = message;
  return boost::json::parse(read_file(meta.replace_extension(".json"))).as_object();
}

}  // namespace framehouse::testing
