// Requests from someone who cannot sign in: a code mailed to the address, its check (three
// tries, ten minutes), and the intakes nobody confirmed.
#include <sodium.h>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "accounts/validation.hpp"
#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

constexpr int kCodeTries = 3;

constexpr std::int64_t kCodeLifetime = 10 * 60;

}  // namespace

sdk::Result<std::string> PrivacyRequests::intake(const std::string& email, const std::string& type,
                                                 const std::string& client_address) {
  const auto normalised = accounts::normalise_email(email);
  if (!normalised) return sdk::Outcome::failure(sdk::Status::invalid_argument, "is not a valid email address");
  soci::session sql(database_.pool());
  const long long hour_ago = now_() - 3600;
  const std::string client_hash = subject_hash("client:" + client_address);
  int by_address = 0, by_client = 0;
  sql << "SELECT COUNT(*) FROM privacy_requests WHERE source = 'email' AND subject_email = :e AND created_at > :t",
      soci::use(*normalised), soci::use(hour_ago), soci::into(by_address);
  sql << "SELECT COUNT(*) FROM privacy_requests WHERE source = 'email' AND client_hash = :h AND created_at > :t",
      soci::use(client_hash), soci::use(hour_ago), soci::into(by_client);
  if (by_address >= config_.intake_per_address_per_hour || by_client >= config_.intake_per_client_per_hour) {
    return sdk::Outcome::failure(sdk::Status::conflict, "too many requests; try again in an hour");
  }
  const std::string code = fmt::format("{:06d}", randombytes_uniform(1'000'000));
  std::string id;
  {
    db::WriteTransaction transaction(sql, database_);
    id = create(sql, NewRequest{type, "email", "", *normalised, std::nullopt, ""}, "unverified", now_());
    const std::string code_hash = crypto::token_hash(id + ":" + code);
    const long long expires = now_() + kCodeLifetime;
    sql << "UPDATE privacy_requests SET code_hash = :c, code_expires_at = :e, client_hash = :h WHERE id = :id",
        soci::use(code_hash), soci::use(expires), soci::use(client_hash), soci::use(id);
    mail_subject(transaction, *normalised, "", "Your privacy request code",
                 fmt::format("Someone (we hope you) asked for {} of the personal data this service holds about this address.\n\n"
                             "Your confirmation code: {}\n\nIt works for 10 minutes and 3 tries. If you did not ask, ignore this "
                             "message: nothing happens without the code.\n",
                             type == "access" ? "a copy" : type == "erasure" ? "the erasure" : "a correction", code));
    transaction.commit();
  }
  return id;
}

sdk::Result<IntakeVerification> PrivacyRequests::verify_intake(const std::string& request_id, const std::string& code) {
  std::string email, type;
  if (auto checked = check_intake_code(request_id, code, email, type); !checked) return checked;
  // Verified: the subject is the account under that address, if there is one.
  const auto user = accounts_.find_by_email(email);
  const std::string subject_id = user ? user->id : "";
  const std::string hash = subject_hash(subject_id.empty() ? email : subject_id);
  const long long now = now_();
  std::string duplicate;
  {
    soci::session sql(database_.pool());
    if (type != "rectification") {
      sql << "SELECT id FROM privacy_requests WHERE subject_hash = :h AND type = :t AND status IN ('pending', 'in_progress', 'on_hold')",
          soci::use(hash), soci::use(type), soci::into(duplicate);
    }
    if (!duplicate.empty()) {
      const std::string reason = "duplicate of " + duplicate;
      sql << "UPDATE privacy_requests SET status = 'canceled', status_reason = :r, code_hash = NULL, completed_at = :n,"
             " updated_at = :n2 WHERE id = :id",
          soci::use(reason), soci::use(now), soci::use(now), soci::use(request_id);
      return IntakeVerification{duplicate, true};
    }
    soci::indicator subject_indicator = subject_id.empty() ? soci::i_null : soci::i_ok;
    db::WriteTransaction transaction(sql, database_);
    sql << "UPDATE privacy_requests SET status = 'pending', subject_id = :s, subject_hash = :h, code_hash = NULL,"
           " updated_at = :n WHERE id = :id",
        soci::use(subject_id, subject_indicator), soci::use(hash), soci::use(now), soci::use(request_id);
    plan_tasks(sql, request_id, type, std::nullopt);
    schedule(transaction, request_id);
    transaction.commit();
  }
  audit_.record("email-intake", "privacy.request_verified", request_id, json::serialize(json::object{{"type", type}}));
  return IntakeVerification{request_id, false};
}

sdk::Outcome PrivacyRequests::check_intake_code(const std::string& request_id, const std::string& code, std::string& email,
                                                std::string& type) {
  soci::session sql(database_.pool());
  std::string status, stored_hash;
  long long expires = 0;
  int attempts = 0;
  soci::indicator hash_indicator = soci::i_null, expires_indicator = soci::i_null, email_indicator = soci::i_null;
  sql << "SELECT status, code_hash, code_expires_at, code_attempts, subject_email, type FROM privacy_requests WHERE id = :id",
      soci::use(request_id), soci::into(status), soci::into(stored_hash, hash_indicator), soci::into(expires, expires_indicator),
      soci::into(attempts), soci::into(email, email_indicator), soci::into(type);
  if (!sql.got_data() || status != "unverified" || hash_indicator != soci::i_ok || expires < now_()) {
    return sdk::Outcome::failure(sdk::Status::not_found, "no request awaits this code (it may have expired)");
  }
  const std::string given = crypto::token_hash(request_id + ":" + code);
  if (given.size() != stored_hash.size() || sodium_memcmp(given.data(), stored_hash.data(), given.size()) != 0) {
    const long long now = now_();
    sql << "UPDATE privacy_requests SET code_attempts = code_attempts + 1, updated_at = :n WHERE id = :id", soci::use(now),
        soci::use(request_id);
    if (attempts + 1 >= kCodeTries) {
      sql << "UPDATE privacy_requests SET status = 'canceled', status_reason = 'the code was entered wrongly three times',"
             " code_hash = NULL, completed_at = :n WHERE id = :id",
          soci::use(now), soci::use(request_id);
    }
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "the code is not correct");
  }
  return {};
}

std::int64_t PrivacyRequests::purge_unconfirmed_intakes() {
  // A day after the code expired: long enough to answer "what happened to my request?".
  const long long cutoff = now_() - 24 * 3600;
  return changed_rows(database_,
                      "DELETE FROM privacy_requests WHERE source = 'email' AND code_expires_at < :c AND (status = 'unverified'"
                      " OR (status = 'canceled' AND NOT EXISTS (SELECT 1 FROM privacy_tasks t WHERE t.request_id = privacy_requests.id)))",
                      soci::use(cutoff));
}

}  // namespace framehouse::privacy
