// Test support: read mail from the email_outbox plugin's folder, as a user reads their inbox.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace framehouse::testing {

struct OutboxMessage {
  std::string to;
  std::string subject;
  std::string text;  // the whole message
  std::filesystem::path file;
};

// Messages in the folder, oldest first (by file time, then name).
std::vector<OutboxMessage> outbox_messages(const std::filesystem::path& folder);
// Messages to one address (exact, lower case), oldest first.
std::vector<OutboxMessage> messages_to(const std::filesystem::path& folder, const std::string& address);
// The value of the first "token=" in the text, or "".
std::string token_in(const std::string& text);

}  // namespace framehouse::testing
