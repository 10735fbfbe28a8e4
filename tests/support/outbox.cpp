#include "support/outbox.hpp"

#include <algorithm>
#include <regex>

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

}  // namespace framehouse::testing
