#include "privacy/communications.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "framehouse/sdk/email.hpp"
#include "observability/log.hpp"
#include "privacy/policy.hpp"

namespace framehouse::privacy {

namespace json = boost::json;

std::string_view to_string(AnnouncementStatus status) {
  switch (status) {
    case AnnouncementStatus::queued: return "queued";
    case AnnouncementStatus::sending: return "sending";
    case AnnouncementStatus::done: return "done";
    case AnnouncementStatus::failed: return "failed";
  }
  return "queued";
}

Communications::Communications(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer,
                               jobs::JobQueue& announcements, plugins::PluginHost& host,
                               std::shared_ptr<plugins::LoadedPlugin> email_provider, std::string public_url, std::string contact)
    : database_(database),
      accounts_(accounts),
      mailer_(mailer),
      announcements_(announcements),
      announcement_workers_(announcements, database,
                            [this](const jobs::Job& job, std::stop_token stopping) { return send_announcement(job, stopping); }),
      host_(host),
      email_provider_(std::move(email_provider)),
      public_url_(std::move(public_url)),
      contact_(std::move(contact)),
      token_key_(db::server_secret(database, "unsubscribe_key")) {}

bool Communications::may_mail(const accounts::User& user, const std::string& category) {
  if (category == "account") return true;
  if (!user.email_verified) return false;
  const auto preferences = accounts_.preferences(user.id);
  const auto choice = preferences.find(category);
  if (choice == preferences.end() || !choice->second) return false;
  if (!email_provider_) return false;
  const std::string address = user.email;
  auto suppressed = host_.call<sdk::EmailProvider>(email_provider_, "is_suppressed", [address](sdk::EmailProvider& provider) {
    return provider.is_suppressed(address);
  });
  // When the provider cannot say, the mail does not go: a wrong "yes" is the worse mistake.
  return suppressed.ok() && !suppressed.value();
}

std::string Communications::unsubscribe_token(const std::string& user_id, const std::string& category) {
  const std::string token = "unsub_" + crypto::keyed_hash(token_key_, user_id + "\n" + category);
  const std::string hash = crypto::token_hash(token);
  const long long now = unix_now();
  soci::session sql(database_.pool());
  sql << "INSERT INTO unsubscribe_tokens (token_hash, user_id, category, created_at) VALUES (:h, :u, :c, :t)"
         " ON CONFLICT (token_hash) DO NOTHING",
      soci::use(hash), soci::use(user_id), soci::use(category), soci::use(now);
  return token;
}

std::optional<Unsubscribe> Communications::resolve(const std::string& token) {
  if (token.size() > 200) return std::nullopt;
  const std::string hash = crypto::token_hash(token);
  soci::session sql(database_.pool());
  Unsubscribe found;
  sql << "SELECT user_id, category FROM unsubscribe_tokens WHERE token_hash = :h", soci::use(hash), soci::into(found.user_id),
      soci::into(found.category);
  if (!sql.got_data()) return std::nullopt;
  return found;
}

std::string Communications::announce(const std::string& category, const std::string& subject, const std::string& body) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  const std::string id = announcements_.enqueue(
      transaction, json::serialize(json::object{{"category", category}, {"subject", subject}, {"body", body}}), "",
      category + ": " + subject);
  transaction.commit();
  return id;
}

std::optional<Announcement> Communications::announcement(const std::string& id) {
  const auto job = announcements_.find(id);
  if (!job) return std::nullopt;
  Announcement found{job->id, AnnouncementStatus::queued, job->label, job->created_at_ms, job->finished_at_ms};
  switch (job->state) {
    case jobs::JobState::ready: found.status = job->attempts == 0 ? AnnouncementStatus::queued : AnnouncementStatus::sending; break;
    case jobs::JobState::running: found.status = AnnouncementStatus::sending; break;
    case jobs::JobState::done: found.status = AnnouncementStatus::done; break;
    case jobs::JobState::dead: found.status = AnnouncementStatus::failed; break;
  }
  if (found.status == AnnouncementStatus::done && !job->result.empty()) {
    const auto counts = json::parse(job->result).as_object();
    found.queued = static_cast<int>(counts.at("queued").as_int64());
    found.skipped = static_cast<int>(counts.at("skipped").as_int64());
  }
  return found;
}

void Communications::start_workers() { announcement_workers_.start(1); }

void Communications::stop_workers() { announcement_workers_.stop(); }

jobs::JobResult Communications::send_announcement(const jobs::Job& job, std::stop_token stopping) {
  const auto payload = json::parse(job.payload).as_object();
  const std::string category(payload.at("category").as_string());
  const std::string subject(payload.at("subject").as_string());
  const std::string body(payload.at("body").as_string());
  std::int64_t queued = 0, skipped = 0;
  bool released = false;
  accounts_.for_each_user([&](const accounts::User& user) {
    if (released || (released = stopping.stop_requested())) return;
    if (!may_mail(user, category)) {
      ++skipped;
      return;
    }
    mail::Message message{user.email, subject, body, category, user.id, {}};
    // The same message id whichever run queues it: a second run of this job queues no one twice.
    message.outbox_id = "job_" + crypto::token_hash(job.id + "\n" + user.id).substr(0, 32);
    if (category != "account") {
      // RFC 8058 one-click unsubscribe, and the same link visible in the text.
      const std::string link = public_url_ + "/v1/unsubscribe/" + unsubscribe_token(user.id, category);
      message.headers = {{"List-Unsubscribe", "<" + link + ">"}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
      message.body += fmt::format("\n\n--\nYou get this because you chose to receive {} from us.\nUnsubscribe with one click: {}\n",
                                  category == "marketing" ? "marketing mail" : "product updates", link);
    }
    message.body += privacy_contact_line(contact_);
    if (mailer_.send(message)) ++queued;
  });
  if (released) return jobs::JobResult::released();
  observability::Log::info("privacy", "announcement queued",
                           {{"announcement", job.id}, {"category", category}, {"queued", std::to_string(queued)},
                            {"skipped", std::to_string(skipped)}});
  return jobs::JobResult::finished(json::serialize(json::object{{"queued", queued}, {"skipped", skipped}}));
}

}  // namespace framehouse::privacy
