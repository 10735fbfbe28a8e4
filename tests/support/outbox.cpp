#include "support/outbox.hpp"

#include <algorithm>
#include <regex>

#include <chrono>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace framehouse::testing {
namespace {

std::string header(const std::string& text, const std::string& name) {
  std::smatch match;
  if (std::regex_search(text, match, std::regex("(^|\r\n)" + name + ": ([^\r\n]*)"))) return match[2];
  return "";
}

}  // namespace

std::vector<OutboxMessage> outbox_messages(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    const auto ta = std::filesystem::last_write_time(a);
    const auto tb = std::filesystem::last_write_time(b);
    return ta != tb ? ta < tb : a < b;
  });
  std::vector<OutboxMessage> messages;
  for (const auto& file : files) {
    const std::string text = read_file(file);
    messages.push_back({header(text, "To"), header(text, "Subject"), text, file});
  }
  return messages;
}

std::vector<OutboxMessage> messages_to(const std::filesystem::path& folder, const std::string& address) {
  std::vector<OutboxMessage> out;
  for (auto& message : outbox_messages(folder)) {
    if (message.to == address) out.push_back(std::move(message));
  }
  return out;
}

std::string token_in(const std::string& text) {
  std::smatch match;
  if (std::regex_search(text, match, std::regex("token=([A-Za-z0-9_-]+)"))) return match[1];
  return "";
}

void wait_for_queues(std::uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto metrics = http_request(port, "GET", "/metrics", "", {});
    bool busy = metrics.status != 200;
    std::istringstream lines(metrics.body);
    for (std::string line; std::getline(lines, line);) {
      const bool queue_state = line.rfind("framehouse_jobs_due{", 0) == 0 || line.rfind("framehouse_jobs_running{", 0) == 0;
      const bool mail_queue = line.find("queue=\"mail\"") != std::string::npos || line.find("queue=\"announcements\"") != std::string::npos;
      if (!queue_state || !mail_queue) continue;
      busy = busy || line.substr(line.rfind(' ') + 1) != "0";
    }
    if (!busy) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace framehouse::testing
