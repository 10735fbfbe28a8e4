// Outgoing mail: builds complete RFC 5322 messages from plain-text templates and queues them in
// the outbox, in the transaction of the change that causes them; the outbox's workers hand
// them to the email plugin (mail/delivery.hpp). Recipient addresses never appear in logs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "db/database.hpp"
#include "framehouse/sdk/outcome.hpp"
#include "jobs/job_queue.hpp"

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
  // Its outbox id (and so its Message-ID), for a caller that may queue the same message twice:
  // the second is dropped. Empty: a new one.
  std::string outbox_id;
  // To a person whose data is erased (their receipt): once it is sent no copy of it may stay
  // readable in the database's files (see JobResult::flush_log).
  bool to_erased_person = false;
};

// Builds the RFC 5322 text: CRLF line ends, lines folded under 998 characters, Date generated,
// UTF-8 body; with attachments, a multipart/mixed message (RFC 2046) whose first part is the
// body. `message_id` is the Message-ID without its angle brackets.
std::string build_rfc5322(const Message& message, const std::string& from, const std::string& message_id);

// The outbox queue's name and the payload of one of its jobs.
inline constexpr const char* kOutboxQueue = "mail";

class Mailer {
 public:
  Mailer(db::Database& database, jobs::JobQueue& outbox, std::string from);

  // Queues the message in the caller's transaction: it is sent once that commits and not at
  // all if it rolls back. Its outbox id is its Message-ID, so a message sent again after a
  // crash between the provider's answer and our record of it is recognisable as the same one.
  // Fails (Status::invalid_argument) only for a header with a line break.
  sdk::Outcome queue(db::WriteTransaction& transaction, const Message& message);
  // The same in a transaction of its own, on a pooled session (the caller holds none).
  sdk::Outcome send(const Message& message);

 private:
  db::Database& database_;
  jobs::JobQueue& outbox_;
  std::string from_;
  std::string envelope_from_;
  std::string domain_;
};

}  // namespace framehouse::mail
