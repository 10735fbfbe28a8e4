// What a finished request leaves to be fetched: an access request's export (for the subject
// signed in, or the mailed link) and an erasure's signed receipt; and their expiry.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

}  // namespace

sdk::Result<Download> PrivacyRequests::download(const std::string& id, const std::string& user_id, const std::string& token) {
  std::string type, status, subject_id, object, token_hash, subject_hash_value;
  long long expires = 0;
  soci::indicator subject_indicator = soci::i_null, object_indicator = soci::i_null, token_indicator = soci::i_null,
                  expires_indicator = soci::i_null;
  bool found = false;
  {
    soci::session sql(database_.pool());
    sql << "SELECT type, status, subject_id, export_object, download_token_hash, export_expires_at, subject_hash"
           " FROM privacy_requests WHERE id = :id",
        soci::use(id), soci::into(type), soci::into(status), soci::into(subject_id, subject_indicator),
        soci::into(object, object_indicator), soci::into(token_hash, token_indicator), soci::into(expires, expires_indicator),
        soci::into(subject_hash_value);
    found = sql.got_data();
  }
  const sdk::Outcome missing = sdk::Outcome::failure(sdk::Status::not_found, "no such export");
  if (!found || type != "access") return missing;
  const bool by_subject = !user_id.empty() && subject_indicator == soci::i_ok && subject_id == user_id;
  const std::string given = token.empty() ? "" : crypto::token_hash(token);
  const bool by_token = !given.empty() && token_indicator == soci::i_ok && given.size() == token_hash.size() &&
                        sodium_memcmp(given.data(), token_hash.data(), given.size()) == 0;
  if (!by_subject && !by_token) return missing;
  if (object_indicator != soci::i_ok || expires_indicator != soci::i_ok || expires < now_()) {
    return sdk::Outcome::failure(sdk::Status::conflict, "the export is not ready, or its link has expired");
  }
  Download result{{std::string(kExportOwner), object}, subject_indicator == soci::i_ok ? subject_id : subject_hash_value, 0};
  auto size = objects_.size(result.key);
  if (!size) return size.outcome();
  result.size = size.value();
  audit_.record(by_subject ? user_id : "download-link", "privacy.export_downloaded", id);
  return result;
}

std::int64_t PrivacyRequests::purge_expired_exports() {
  soci::session sql(database_.pool());
  const long long now = now_();
  std::vector<std::pair<std::string, std::string>> expired;
  {
    std::string id, object;
    soci::statement statement = (sql.prepare << "SELECT id, export_object FROM privacy_requests"
                                                " WHERE export_object IS NOT NULL AND export_expires_at < :n",
                                 soci::use(now), soci::into(id), soci::into(object));
    statement.execute();
    while (statement.fetch()) expired.emplace_back(id, object);
  }
  std::int64_t removed = 0;
  for (const auto& [id, object] : expired) {
    if (!objects_.remove({std::string(kExportOwner), object})) continue;
    sql << "UPDATE privacy_requests SET export_object = NULL, download_token_hash = NULL WHERE id = :id", soci::use(id);
    ++removed;
  }
  return removed;
}

sdk::Result<std::string> PrivacyRequests::receipt_by_token(const std::string& token) {
  const std::string hash = crypto::token_hash(token);
  std::string receipt;
  long long expires = 0;
  soci::indicator receipt_indicator = soci::i_null;
  {
    soci::session sql(database_.pool());
    sql << "SELECT receipt, receipt_expires_at FROM privacy_requests WHERE receipt_token_hash = :h", soci::use(hash),
        soci::into(receipt, receipt_indicator), soci::into(expires);
    if (!sql.got_data() || receipt_indicator != soci::i_ok || expires < now_()) {
      return sdk::Outcome::failure(sdk::Status::not_found, "no receipt for this link (it may have expired)");
    }
  }
  return receipt;
}

}  // namespace framehouse::privacy
