#include "privacy/disclosures.hpp"

#include <boost/json.hpp>
#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "crypto/crypto.hpp"
#include "privacy/requests.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;

std::string join(const std::vector<std::string>& items) {
  json::array array;
  for (const auto& item : items) array.emplace_back(item);
  return json::serialize(array);
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  const auto value = json::parse(text, ec);
  if (!ec && value.is_array()) {
    for (const auto& item : value.as_array()) {
      if (item.is_string()) out.emplace_back(item.as_string());
    }
  }
  return out;
}

}  // namespace

Disclosure Disclosures::record(Disclosure disclosure) {
  disclosure.id = crypto::time_ordered_id("disc_");
  disclosure.recorded_at = unix_now();
  const std::string categories = join(disclosure.categories);
  const int restricted = disclosure.notice_restricted ? 1 : 0;
  soci::indicator basis_indicator = disclosure.restriction_basis.empty() ? soci::i_null : soci::i_ok;
  const long long disclosed = disclosure.disclosed_at, recorded = disclosure.recorded_at;
  soci::session sql(database_.pool());
  sql << "INSERT INTO disclosures (id, subject_id, authority, legal_basis, reference, categories, disclosed_at, notice_restricted,"
         " restriction_basis, recorded_by, recorded_at) VALUES (:id, :s, :a, :b, :r, :c, :d, :n, :rb, :by, :at)",
      soci::use(disclosure.id), soci::use(disclosure.subject_id), soci::use(disclosure.authority), soci::use(disclosure.legal_basis),
      soci::use(disclosure.reference), soci::use(categories), soci::use(disclosed), soci::use(restricted),
      soci::use(disclosure.restriction_basis, basis_indicator), soci::use(disclosure.recorded_by), soci::use(recorded);
  return disclosure;
}

std::vector<Disclosure> Disclosures::list(const std::string& subject_id) {
  soci::session sql(database_.pool());
  std::vector<Disclosure> out;
  Disclosure row;
  std::string categories, basis;
  long long disclosed = 0, recorded = 0;
  int restricted = 0;
  soci::indicator basis_indicator = soci::i_null;
  const int all = subject_id.empty() ? 1 : 0;
  soci::statement statement =
      (sql.prepare << "SELECT id, subject_id, authority, legal_basis, reference, categories, disclosed_at, notice_restricted,"
                      " restriction_basis, recorded_by, recorded_at FROM disclosures WHERE (:all_subjects = 1 OR subject_id = :s)"
                      " ORDER BY recorded_at, id",
       soci::use(all), soci::use(subject_id), soci::into(row.id), soci::into(row.subject_id), soci::into(row.authority),
       soci::into(row.legal_basis), soci::into(row.reference), soci::into(categories), soci::into(disclosed), soci::into(restricted),
       soci::into(basis, basis_indicator), soci::into(row.recorded_by), soci::into(recorded));
  statement.execute();
  while (statement.fetch()) {
    row.categories = split(categories);
    row.disclosed_at = disclosed;
    row.recorded_at = recorded;
    row.notice_restricted = restricted != 0;
    row.restriction_basis = basis_indicator == soci::i_ok ? basis : "";
    out.push_back(row);
  }
  return out;
}

sdk::Outcome DisclosuresParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  if (subject.user_id.empty()) return {};
  for (const auto& disclosure : Disclosures(database_).list(subject.user_id)) {
    if (disclosure.notice_restricted) continue;  // the law forbids telling the person (basis recorded)
    json::array categories;
    for (const auto& category : disclosure.categories) categories.emplace_back(category);
    const json::object record{{"authority", disclosure.authority},     {"legal_basis", disclosure.legal_basis},
                              {"reference", disclosure.reference},     {"categories", categories},
                              {"disclosed_at", disclosure.disclosed_at}};
    if (auto written = sink.record("disclosures", json::serialize(record)); !written) return written;
  }
  return {};
}

sdk::Result<sdk::ErasureReport> DisclosuresParticipant::erase_subject(const sdk::Subject& subject) {
  sdk::ErasureReport report;
  if (subject.user_id.empty()) return report;
  // The keyed hash the erasure's own request keeps: an authority's later question about this
  // disclosure can still be matched to the receipt, but no longer to a person.
  const std::string pseudonym = "erased:" + subject_pseudonym(database_, subject.user_id);
  soci::session sql(database_.pool());
  soci::statement statement = (sql.prepare << "UPDATE disclosures SET subject_id = :p WHERE subject_id = :s", soci::use(pseudonym),
                               soci::use(subject.user_id));
  statement.execute(true);
  report.records_removed = static_cast<std::uint64_t>(statement.get_affected_rows());
  report.detail = std::to_string(report.records_removed) + " disclosure records kept for the legal obligation, unlinked";
  return report;
}

}  // namespace framehouse::privacy
