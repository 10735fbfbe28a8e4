// Reading privacy_requests and privacy_tasks rows into views (shared by the request service
// and its worker).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <soci/soci.h>

#include "db/database.hpp"
#include "privacy/requests.hpp"

namespace framehouse::privacy {

// The steps of a request that are not participants (see requests.hpp).
inline constexpr std::string_view kStopStep = "@stop";
inline constexpr std::string_view kArchiveStep = "@archive";
inline constexpr std::string_view kVerifyStep = "@verify";
inline constexpr std::string_view kReceiptStep = "@receipt";
// Finished exports live in storage under this owner, sealed with the subject's data key.
inline constexpr std::string_view kExportOwner = "privacy-exports";

// Values bound by name into the clauses that follow the SELECT.
struct Bound {
  std::vector<std::pair<std::string, std::string>> text;
  std::vector<std::pair<std::string, long long>> numbers;
};
// `clauses` (WHERE ... ORDER BY ... LIMIT ...) is appended to the SELECT; it is fixed text,
// every value in it is bound.
std::vector<RequestView> select_requests(soci::session& sql, const std::string& clauses, const Bound& bound);
std::vector<TaskView> select_tasks(soci::session& sql, const std::string& request_id);

// Runs one statement in a session of its own, released on return, and answers the rows it
// changed. The privacy module holds at most one pooled session at a time: a thread holding
// one while it waits for another can exhaust the pool.
template <class... Bindings>
long long changed_rows(db::Database& database, const std::string& query, Bindings... bindings) {
  soci::session sql(database.pool());
  soci::details::prepare_temp_type prepared = (sql.prepare << query);
  ((prepared, bindings), ...);
  soci::statement statement(prepared);
  statement.execute(true);
  return statement.get_affected_rows();
}

}  // namespace framehouse::privacy
