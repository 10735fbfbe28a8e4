#include "privacy/communications.hpp"

#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "framehouse/sdk/email.hpp"
#include "observability/log.hpp"
#include "privacy/policy.hpp"

namespace framehouse::privacy {

Communications::Communications(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer,
                               plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> email_provider,
                               std::string public_url, std::string contact)
    : database_(database),
      accounts_(accounts),
      mailer_(mailer),
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
  const long long now = accounts::system_now();
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

AnnouncementResult Communications::announce(const std::string& category, const std::string& subject, const std::string& body) {
  AnnouncementResult result;
  accounts_.for_each_user([&](const accounts::User& user) {
    if (!may_mail(user, category)) {
      ++result.skipped;
      return;
    }
    mail::Message message{user.email, subject, body, category, user.id, {}};
    if (category != "account") {
      // RFC 8058 one-click unsubscribe, and the same link visible in the text.
      const std::string link = public_url_ + "/v1/unsubscribe/" + unsubscribe_token(user.id, category);
      message.headers = {{"List-Unsubscribe", "<" + link + ">"}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
      message.body += fmt::format("\n\n--\nYou get this because you chose to receive {} from us.\nUnsubscribe with one click: {}\n",
                                  category == "marketing" ? "marketing mail" : "product updates", link);
    }
    message.body += privacy_contact_line(contact_);
    if (mailer_.send(message)) {
      ++result.sent;
    } else {
      ++result.failed;
    }
  });
  observability::Log::info("privacy", "announcement sent",
                           {{"category", category}, {"sent", std::to_string(result.sent)}, {"skipped", std::to_string(result.skipped)},
                            {"failed", std::to_string(result.failed)}});
  return result;
}

}  // namespace framehouse::privacy
