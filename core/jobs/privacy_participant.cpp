#include "jobs/privacy_participant.hpp"

#include <boost/json.hpp>
#include <soci/soci.h>

namespace framehouse::jobs {

sdk::Outcome JobsParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  std::string id, queue, state, label;
  long long created = 0;
  soci::statement select = (sql.prepare << "SELECT id, queue, state, label, created_at_ms FROM jobs WHERE subject_id = :s"
                                           " ORDER BY created_at_ms, id",
                            soci::use(subject.user_id), soci::into(id), soci::into(queue), soci::into(state),
                            soci::into(label), soci::into(created));
  select.execute();
  while (select.fetch()) {
    const boost::json::object record{{"id", id}, {"queue", queue}, {"state", state}, {"about", label}, {"created_at_ms", created}};
    if (auto written = sink.record("queued_jobs", boost::json::serialize(record)); !written) return written;
  }
  return {};
}

sdk::Result<sdk::ErasureReport> JobsParticipant::erase_subject(const sdk::Subject& subject) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  sdk::ErasureReport report;
  report.records_removed = db::delete_rows(sql, "jobs", "subject_id", subject.user_id);
  const std::string match = "DELETE FROM jobs WHERE payload IS NOT NULL AND payload" +
                            database_.dialect().like_ignoring_case() + ":p ESCAPE '\\'";
  for (const auto& address : subject.email_addresses) {
    if (address.empty()) continue;
    const std::string pattern = db::containment_pattern(address);
    soci::statement erase = (sql.prepare << match, soci::use(pattern));
    erase.execute(true);
    report.records_removed += static_cast<std::uint64_t>(erase.get_affected_rows());
  }
  transaction.commit();
  report.detail = std::to_string(report.records_removed) + " queued jobs deleted";
  return report;
}

}  // namespace framehouse::jobs
