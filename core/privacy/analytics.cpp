#include "privacy/analytics.hpp"

#include <soci/soci.h>

#include "accounts/accounts.hpp"

namespace framehouse::privacy {
namespace {

// The rows each metric counts: (time, person). Fixed SQL fragments, never input.
struct Source {
  const char* rows;
  bool distinct_people;  // the value counts people, not rows
};

Source source_of(const std::string& metric) {
  if (metric == "signups") return {"SELECT created_at AS t, id AS person FROM users", true};
  if (metric == "active_users") return {"SELECT occurred_at AS t, user_id AS person FROM usage_events", true};
  if (metric == "videos_created") return {"SELECT created_at AS t, owner_id AS person FROM videos", false};
  return {"SELECT 0 AS t, id AS person FROM users", true};  // plan_mix: everyone, now
}

}  // namespace

std::vector<AnalyticsCell> Analytics::run(const AnalyticsQuery& query) {
  const bool timeless = query.metric == "plan_mix";
  const Source source = source_of(query.metric);
  const std::string bucket = timeless ? "0"
                             : query.period == "week" ? "((t - 345600) / 604800) * 604800 + 345600"  // 1970-01-05 was a Monday
                                                      : "(t / 86400) * 86400";
  const std::string plan = query.by_plan || timeless
                               ? "COALESCE((SELECT s.plan FROM subscriptions s WHERE s.user_id = person AND s.status = 'active'"
                                 " AND s.current_period_end > :now), :default_plan)"
                               : "''";
  const std::string range = timeless ? "" : " WHERE t >= :from AND t < :to";
  const std::string sql_text = "SELECT " + bucket + " AS bucket, " + plan + " AS plan, COUNT(*) AS n, COUNT(DISTINCT person) AS people"
                               " FROM (" + std::string(source.rows) + ") rows_counted" + range +
                               " GROUP BY 1, 2 ORDER BY 1, 2";
  soci::session sql(database_.pool());
  soci::row row;
  soci::statement statement(sql);
  statement.alloc();
  statement.prepare(sql_text);
  const long long now = accounts::system_now(), from = query.from, to = query.to;
  if (query.by_plan || timeless) {
    statement.exchange(soci::use(now, "now"));
    statement.exchange(soci::use(default_plan_, "default_plan"));
  }
  if (!timeless) {
    statement.exchange(soci::use(from, "from"));
    statement.exchange(soci::use(to, "to"));
  }
  statement.exchange(soci::into(row));
  statement.define_and_bind();
  statement.execute();
  const auto integer = [&row](std::size_t column) { return db::row_integer(row, column); };
  std::vector<AnalyticsCell> cells;
  while (statement.fetch()) {
    AnalyticsCell cell;
    cell.period_start = integer(0);
    cell.plan = row.get<std::string>(1);
    const long long people = integer(3);
    if (people >= min_group_) cell.value = source.distinct_people ? people : integer(2);
    cells.push_back(std::move(cell));
  }
  return cells;
}

}  // namespace framehouse::privacy
