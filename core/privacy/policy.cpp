#include "privacy/policy.hpp"

#include <regex>

#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"

namespace framehouse::privacy {

std::variant<PolicyDocument, std::string> parse_policy(const std::string& text) {
  static const std::regex kLastUpdated(R"((?:^|\n)[#*_ >]*Last Updated:?[*_ ]*:?\s*([^\r\n*_]+))", std::regex::icase);
  std::smatch match;
  if (!std::regex_search(text, match, kLastUpdated)) return std::string("declares no \"Last Updated: <date>\" line");
  std::string date = match[1].str();
  while (!date.empty() && (date.back() == ' ' || date.back() == '\t')) date.pop_back();
  if (date.empty()) return std::string("the \"Last Updated\" line has no date");
  return PolicyDocument{text, date, date + "+" + crypto::token_hash(text).substr(0, 16)};
}

std::string privacy_contact_line(const std::string& contact) { return "Questions about your privacy: " + contact + "\n"; }

Policy::Policy(db::Database& database, accounts::Accounts& accounts, mail::Mailer& mailer, audit::AuditLog& audit,
               PolicyDocument document, std::string contact, std::string public_url)
    : database_(database),
      accounts_(accounts),
      mailer_(mailer),
      audit_(audit),
      document_(std::move(document)),
      contact_(std::move(contact)),
      public_url_(std::move(public_url)) {
  soci::session sql(database_.pool());
  const long long now = unix_now();
  sql << "INSERT INTO policy_versions (version, last_updated, first_seen_at) VALUES (:v, :d, :t) ON CONFLICT (version) DO NOTHING",
      soci::use(document_.version), soci::use(document_.last_updated), soci::use(now);
  long long since = now;
  sql << "SELECT first_seen_at FROM policy_versions WHERE version = :v", soci::use(document_.version), soci::into(since);
  effective_since_ = since;
}

bool Policy::update_pending(const accounts::User& user) {
  if (user.created_at >= effective_since_) return false;  // signed up under this version
  soci::session sql(database_.pool());
  int acknowledged = 0;
  sql << "SELECT COUNT(*) FROM policy_acknowledgements WHERE user_id = :u AND version = :v", soci::use(user.id),
      soci::use(document_.version), soci::into(acknowledged);
  return acknowledged == 0;
}

void Policy::acknowledge(const std::string& user_id) {
  const long long now = unix_now();
  {
    soci::session sql(database_.pool());
    sql << "INSERT INTO policy_acknowledgements (user_id, version, acknowledged_at) VALUES (:u, :v, :t)"
           " ON CONFLICT (user_id, version) DO NOTHING",
        soci::use(user_id), soci::use(document_.version), soci::use(now);
  }
  audit_.record(user_id, "privacy.policy_acknowledged", user_id, "{\"version\":\"" + document_.version + "\"}");
}

int Policy::send_notices() {
  int sent = 0;
  accounts_.for_each_user([&](const accounts::User& user) {
    if (user.created_at >= effective_since_) return;
    soci::session sql(database_.pool());
    const long long now = unix_now();
    db::WriteTransaction transaction(sql, database_);
    // The notice is recorded with its message: two servers starting together mail each person once.
    soci::statement claim = (sql.prepare << "INSERT INTO policy_notices (user_id, version, sent_at) VALUES (:u, :v, :t)"
                                            " ON CONFLICT (user_id, version) DO NOTHING",
                             soci::use(user.id), soci::use(document_.version), soci::use(now));
    claim.execute(true);
    if (claim.get_affected_rows() == 0) return;
    const auto queued = mailer_.queue(
        transaction,
        {user.email, "Our privacy policy has changed",
         fmt::format("Our privacy policy changed (Last Updated: {}). Read it at {}/v1/privacy/policy — the next time you "
                     "use the app it will ask you to acknowledge it.\n\n{}",
                     document_.last_updated, public_url_, privacy_contact_line(contact_)),
         "account", user.id, {}});
    if (!queued) return;
    transaction.commit();
    ++sent;
  });
  if (sent > 0) observability::Log::info("privacy", "policy change notices sent", {{"count", std::to_string(sent)}});
  return sent;
}

}  // namespace framehouse::privacy
