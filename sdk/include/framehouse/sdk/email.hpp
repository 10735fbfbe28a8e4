// Framehouse SDK — email provider interface ("email", version in version.hpp).
//
// The core builds the whole RFC 5322 message (headers, List-Unsubscribe, body) and decides
// whether a person may be mailed at all; a provider only delivers it and keeps its own
// suppression list (addresses that must never be mailed again, e.g. after hard bounces or an
// opt-out pushed through the privacy participant).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "framehouse/sdk/outcome.hpp"

namespace framehouse::sdk {

struct EmailMessage {
  std::string envelope_from;
  std::vector<std::string> recipients;
  // "account" (security, legal, policy notices: always sent), "product_updates", "marketing".
  std::string category;
  // Internal id of the person the message is about, so the provider can export/erase what it
  // stored for them. Empty for messages that are about no one.
  std::string subject_user_id;
  std::string rfc5322;  // the complete message, CRLF line endings
#if FRAMEHOUSE_SINCE(EMAIL, 1)
  // email 1.1. The host's id of the message, also in its Message-ID header: the same on every
  // retry of one message, so a provider that keeps delivery records (or takes an idempotency
  // key) recognises a repeat after a crash between its answer and the host's record of it.
  std::string message_id;
#endif
};

class EmailProvider {
 public:
  static constexpr std::string_view kInterfaceName = "email";

  // Returns the provider's message id. A suppressed recipient is Status::conflict.
  virtual Result<std::string> send(const EmailMessage& message) = 0;
  virtual Outcome suppress(std::string_view address, std::string_view reason) = 0;
  virtual Result<bool> is_suppressed(std::string_view address) = 0;

 protected:
  ~EmailProvider() = default;
};

}  // namespace framehouse::sdk
