// Test support: read mail from the email_outbox plugin's folder, as a user reads their inbox.
#pragma once

#include <cstdint>
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

// Waits (up to 10 s) until the server on `port` has no mail or announcement due or running —
// every message a request queued has reached the email plugin — as its /metrics say.
void wait_for_queues(std::uint16_t port);

}  // namespace framehouse::testing
