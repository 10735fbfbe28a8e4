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
#include "jobs/job_runner.hpp"
#include "mail/mailer.hpp"
#include "plugins/host.hpp"

namespace framehouse::privacy {

inline constexpr std::string_view kMailCategories[] = {"account", "product_updates", "marketing"};

// An announcement is queued work: one job that goes through every person and queues a message
// for each who may receive it. Each message's outbox id comes from the announcement and the
// person, so a run taken over after a crash queues nobody twice.
inline constexpr const char* kAnnouncementQueue = "announcements";

enum class AnnouncementStatus { queued, sending, done, failed };
std::string_view to_string(AnnouncementStatus status);

struct Announcement {
  std::string id;
  AnnouncementStatus status = AnnouncementStatus::queued;
  std::string about;  // "<category>: <subject>"
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> finished_at_ms;
  // Once done: messages queued, and people not to be mailed (opted out, unverified, suppressed).
  int queued = 0;
  int skipped = 0;
};

struct Unsubscribe {
  std::string user_id;
  std::string category;
};

class Communications {
 public:
  Communications(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer, jobs::JobQueue& announcements,
                 plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> email_provider, std::string public_url,
                 std::string contact);

  bool may_mail(const accounts::User& user, const std::string& category);
  // Queues an announcement to every person who may receive mail of `category`, each message
  // with its own unsubscribe link. Returns its id.
  std::string announce(const std::string& category, const std::string& subject, const std::string& body);
  std::optional<Announcement> announcement(const std::string& id);
  void start_workers();
  void stop_workers();
  // The person and category of an unsubscribe link; nothing for a forged or unknown one.
  std::optional<Unsubscribe> resolve(const std::string& token);
  // The opaque link token for (person, category): an HMAC under a server secret, so it is the
  // same in every mail, unguessable, and reveals nothing; only its hash is stored.
  std::string unsubscribe_token(const std::string& user_id, const std::string& category);

 private:
  jobs::JobResult send_announcement(const jobs::Job& job, std::stop_token stopping);

  db::Database& database_;
  accounts::Accounts& accounts_;
  mail::Mailer& mailer_;
  jobs::JobQueue& announcements_;
  jobs::JobRunner announcement_workers_;
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> email_provider_;
  std::string public_url_;
  std::string contact_;
  std::string token_key_;
};

}  // namespace framehouse::privacy
