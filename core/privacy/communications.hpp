// Mail that is not about the account itself (product updates, marketing): who may receive it,
// announcements to a category, and the one-click unsubscribe (RFC 8058) every such mail
// carries. `account` mail (security, legal, policy changes) always goes; the others reach only
// someone who opted in, did not opt out since, exists (erased people are gone), and is not on
// the email provider's suppression list.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "accounts/accounts.hpp"
#include "db/database.hpp"
#include "mail/mailer.hpp"
#include "plugins/host.hpp"

namespace framehouse::privacy {

inline constexpr std::string_view kMailCategories[] = {"account", "product_updates", "marketing"};

struct AnnouncementResult {
  int sent = 0;
  int skipped = 0;  // not to be mailed: opted out, unverified, suppressed
  int failed = 0;
};

struct Unsubscribe {
  std::string user_id;
  std::string category;
};

class Communications {
 public:
  Communications(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer, plugins::PluginHost& host,
                 std::shared_ptr<plugins::LoadedPlugin> email_provider, std::string public_url, std::string contact);

  bool may_mail(const accounts::User& user, const std::string& category);
  // To every person who may receive mail of `category`, each with their own unsubscribe link.
  AnnouncementResult announce(const std::string& category, const std::string& subject, const std::string& body);
  // The person and category of an unsubscribe link; nothing for a forged or unknown one.
  std::optional<Unsubscribe> resolve(const std::string& token);
  // The opaque link token for (person, category): an HMAC under a server secret, so it is the
  // same in every mail, unguessable, and reveals nothing; only its hash is stored.
  std::string unsubscribe_token(const std::string& user_id, const std::string& category);

 private:
  db::Database& database_;
  accounts::Accounts& accounts_;
  mail::Mailer& mailer_;
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> email_provider_;
  std::string public_url_;
  std::string contact_;
  std::string token_key_;
};

}  // namespace framehouse::privacy
