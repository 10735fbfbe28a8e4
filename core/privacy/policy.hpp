// The deployment's privacy policy (policy §7): a Markdown file named in the configuration. Its
// version is the "Last Updated" date it declares plus a hash of its text, so any edit is a new
// version. When the version changes, people who signed up under an earlier one are mailed once
// (account category) and asked to acknowledge it; acknowledgements are kept and exported.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "accounts/accounts.hpp"
#include "audit/audit_log.hpp"
#include "db/database.hpp"
#include "mail/mailer.hpp"

namespace framehouse::privacy {

struct PolicyDocument {
  std::string text;          // Markdown
  std::string last_updated;  // as declared in the text
  std::string version;       // "<last_updated>+<first 16 hex of SHA-256 of the text>"
};

// The document, or why it cannot be used.
std::variant<PolicyDocument, std::string> parse_policy(const std::string& text);

// The line every privacy-related mail ends with: whom to ask (policy contact).
std::string privacy_contact_line(const std::string& contact);

class Policy {
 public:
  Policy(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer, audit::AuditLog& audit,
         PolicyDocument document, std::string contact, std::string public_url);

  const PolicyDocument& document() const { return document_; }
  const std::string& contact() const { return contact_; }
  // Whether the person still has to acknowledge the current version: they signed up before it
  // took effect and have not acknowledged it.
  bool update_pending(const accounts::User& user);
  void acknowledge(const std::string& user_id);
  // Mails everyone who has to be told about the current version and was not yet. Returns how many.
  int send_notices();

 private:
  db::Database& database_;
  accounts::Accounts& accounts_;
  mail::Mailer& mailer_;
  audit::AuditLog& audit_;
  PolicyDocument document_;
  std::string contact_;
  std::string public_url_;
  std::int64_t effective_since_ = 0;  // when this server first saw the version
};

}  // namespace framehouse::privacy
