#include "audit/audit_log.hpp"

#include <chrono>
#include <limits>

#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"

namespace framehouse::audit {
namespace {

constexpr const char* kColumns = "SELECT seq, occurred_at, actor, action, target, detail, prev_hash, entry_hash FROM audit_log ";

struct Row {
  Entry entry;
  long long seq = 0, at = 0;
  void bind(soci::details::prepare_temp_type& statement) {
    statement, soci::into(seq), soci::into(at), soci::into(entry.actor), soci::into(entry.action), soci::into(entry.target),
        soci::into(entry.detail), soci::into(entry.prev_hash), soci::into(entry.entry_hash);
  }
  Entry get() const {
    Entry out = entry;
    out.seq = seq;
    out.occurred_at = at;
    return out;
  }
};

}  // namespace

std::string AuditLog::hash_of(const Entry& entry) {
  // Length-prefixed fields: no two different entries serialise to the same text.
  std::string text;
  for (const std::string& field : {entry.prev_hash, std::to_string(entry.seq), std::to_string(entry.occurred_at), entry.actor,
                                   entry.action, entry.target, entry.detail}) {
    text += std::to_string(field.size()) + ":" + field + ";";
  }
  return crypto::token_hash(text);
}

void AuditLog::record(const std::string& actor, const std::string& action, const std::string& target, const std::string& detail) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  if (const auto lock = database_.dialect().lock_audit(); !lock.empty()) sql << lock;
  Entry entry{0, std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
              actor, action, target, detail, std::string(kGenesis), ""};
  long long last_seq = 0;
  std::string last_hash;
  sql << "SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1", soci::into(last_seq), soci::into(last_hash);
  if (sql.got_data()) entry.prev_hash = last_hash;
  entry.seq = last_seq + 1;
  entry.entry_hash = hash_of(entry);
  const long long seq = entry.seq, at = entry.occurred_at;
  sql << "INSERT INTO audit_log (seq, occurred_at, actor, action, target, detail, prev_hash, entry_hash)"
         " VALUES (:s, :t, :a, :ac, :tg, :d, :p, :h)",
      soci::use(seq), soci::use(at), soci::use(entry.actor), soci::use(entry.action), soci::use(entry.target),
      soci::use(entry.detail), soci::use(entry.prev_hash), soci::use(entry.entry_hash);
  transaction.commit();
}

std::vector<Entry> AuditLog::recent(std::size_t limit, std::int64_t before_seq) {
  soci::session sql(database_.pool());
  const long long before = before_seq > 0 ? before_seq : std::numeric_limits<long long>::max();
  const int count = static_cast<int>(limit);
  Row row;
  soci::details::prepare_temp_type statement =
      (sql.prepare << std::string(kColumns) + "WHERE seq < :b ORDER BY seq DESC LIMIT :n", soci::use(before), soci::use(count));
  row.bind(statement);
  soci::statement st(statement);
  st.execute();
  std::vector<Entry> out;
  while (st.fetch()) out.push_back(row.get());
  return out;
}

VerifyReport AuditLog::verify() {
  soci::session sql(database_.pool());
  Row row;
  soci::details::prepare_temp_type statement = (sql.prepare << std::string(kColumns) + "ORDER BY seq");
  row.bind(statement);
  soci::statement st(statement);
  st.execute();
  VerifyReport report;
  std::string previous_hash(kGenesis);
  std::int64_t expected_seq = 1;
  while (st.fetch()) {
    const Entry entry = row.get();
    ++report.entries;
    if (entry.seq != expected_seq) {
      report.problems.push_back(fmt::format("entry {} follows entry {}: entries {}..{} were removed", entry.seq,
                                            expected_seq - 1, expected_seq, entry.seq - 1));
    } else if (entry.prev_hash != previous_hash) {
      report.problems.push_back(fmt::format("entry {} does not follow entry {} (removed, reordered or rewritten)", entry.seq,
                                            entry.seq - 1));
    }
    if (hash_of(entry) != entry.entry_hash) report.problems.push_back(fmt::format("entry {} was altered", entry.seq));
    previous_hash = entry.entry_hash;
    expected_seq = entry.seq + 1;
  }
  return report;
}

}  // namespace framehouse::audit
