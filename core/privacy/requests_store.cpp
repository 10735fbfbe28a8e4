// The core's privacy records as a store of personal data: a person's earlier requests (and
// their exports) are theirs to see; on erasure they go, except the erasure under way, which
// ends anonymised.
#include <set>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "observability/log.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

// Where a subject's earlier requests are found: by account, and by address (someone who asked
// by email without an account). The column is one of two fixed names.
std::vector<std::pair<std::string, std::string>> request_keys(const sdk::Subject& subject) {
  std::vector<std::pair<std::string, std::string>> keys;
  if (!subject.user_id.empty()) keys.emplace_back("subject_id", subject.user_id);
  for (const auto& email : subject.email_addresses) keys.emplace_back("subject_email", email);
  return keys;
}

// An erasure being carried out (verified and not ended) is the processing itself, not data kept
// about the person. Everything else goes: finished requests, and intakes nobody confirmed.
constexpr const char* kNotTheErasureUnderWay = " AND NOT (type = 'erasure' AND status IN ('pending', 'in_progress', 'on_hold'))";

}  // namespace

sdk::Outcome RequestsParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  std::set<std::string> seen;
  for (const auto& [column, value] : request_keys(subject)) {
    for (const auto& request : select_requests(sql, "WHERE " + column + " = :v" + kNotTheErasureUnderWay + " ORDER BY created_at, id",
                                               {{{"v", value}}, {}})) {
      if (!seen.insert(request.id).second) continue;
      json::object record{{"id", request.id},         {"type", request.type},           {"source", request.source},
                          {"status", request.status}, {"created_at", request.created_at}, {"due_at", request.due_at}};
      if (request.completed_at) record["completed_at"] = *request.completed_at;
      if (auto written = sink.record("privacy_requests", json::serialize(record)); !written) return written;
    }
  }
  return {};
}

sdk::Result<sdk::ErasureReport> RequestsParticipant::erase_subject(const sdk::Subject& subject) {
  sdk::ErasureReport report;
  soci::session sql(database_.pool());
  for (const auto& [column, value] : request_keys(subject)) {
    // Earlier access exports are the person's data too.
    std::vector<std::string> exports;
    std::string object;
    soci::statement exported = (sql.prepare << "SELECT export_object FROM privacy_requests WHERE " + column +
                                                   " = :v AND export_object IS NOT NULL" + kNotTheErasureUnderWay,
                                soci::use(value), soci::into(object));
    exported.execute();
    while (exported.fetch()) exports.push_back(object);
    for (const auto& name : exports) {
      if (auto removed = objects_.remove({std::string(kExportOwner), name}); !removed) return removed;
      ++report.files_removed;
    }
    soci::statement deleted =
        (sql.prepare << "DELETE FROM privacy_requests WHERE " + column + " = :v" + kNotTheErasureUnderWay, soci::use(value));
    deleted.execute(true);
    report.records_removed += static_cast<std::uint64_t>(deleted.get_affected_rows());
  }
  if (!subject.user_id.empty()) {
    // Holds that ended have served their purpose; an active one keeps the erasure from reaching here.
    const long long now = unix_now();
    soci::statement ended = (sql.prepare << "DELETE FROM legal_holds WHERE subject_id = :s AND (lifted_at IS NOT NULL"
                                            " OR (expires_at IS NOT NULL AND expires_at <= :n))",
                             soci::use(subject.user_id), soci::use(now));
    ended.execute(true);
    report.records_removed += static_cast<std::uint64_t>(ended.get_affected_rows());
  }
  report.detail = fmt::format("{} earlier privacy requests, ended holds and {} exports deleted", report.records_removed,
                              report.files_removed);
  return report;
}

}  // namespace framehouse::privacy
