// Outgoing mail: builds complete RFC 5322 messages from plain-text templates and hands them
// to the configured email plugin. Recipient addresses never appear in logs.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framehouse/sdk/outcome.hpp"
#include "plugins/host.hpp"

namespace framehouse::mail {

// A file sent with a message, e.g. a signed receipt. Sent base64-encoded, so that the content
// arrives byte for byte whatever its line lengths.
struct Attachment {
  std::string filename;      // ASCII letters, digits, '.', '-', '_'
  std::string content_type;  // e.g. "application/json"
  std::string content;
};

struct Message {
  std::string to;
  std::string subject;  // ASCII: template text, never user input
  std::string body;     // UTF-8 plain text; LF or CRLF line ends
  std::string category = "account";
  std::string user_id;  // whom it is about, for the provider's export and erasure
  // Extra header fields (e.g. List-Unsubscribe); names and values are ASCII, one line each.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<Attachment> attachments;  // none: a single text/plain body
};

// Builds the RFC 5322 text: CRLF line ends, lines folded under 998 characters, Date and
// Message-ID generated, UTF-8 body; with attachments, a multipart/mixed message (RFC 2046)
// whose first part is the body.
std::string build_rfc5322(const Message& message, const std::string& from, const std::string& message_id_domain);

class Mailer {
 public:
  // Without a provider (command-line tools) every send fails with Status::unsupported: not a
  // failure worth retrying.
  Mailer(plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> provider, std::string from);

  sdk::Outcome send(const Message& message);

 private:
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> provider_;
  std::string from_;
  std::string envelope_from_;
  std::string domain_;
};

}  // namespace framehouse::mail
