#include "personal_data/store.hpp"

#include <soci/soci.h>

namespace framehouse::personal_data {

sdk::Result<sdk::ErasureReport> TableStore::erase_subject(const sdk::Subject& subject) {
  soci::session sql(database_.pool());
  sdk::ErasureReport report;
  report.records_removed = db::delete_rows(sql, table_, owner_column_, subject.user_id);
  report.detail = std::to_string(report.records_removed) + " " + records_ + " deleted";
  return report;
}

}  // namespace framehouse::personal_data
