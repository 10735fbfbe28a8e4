#include "privacy/analytics.hpp"

#include <map>

#include <fmt/format.h>
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

namespace {

struct Count {
  std::string plan;
  long long rows = 0;
  long long people = 0;
  bool suppressed = false;
};

// Primary suppression hides every cell of fewer than k people. That alone can be undone by
// subtraction: a published total minus the published cells is the hidden one. So, per period,
// more cells are hidden (the smallest first) until the hidden ones together describe at least
// k people — then totals, breakdowns and their differences all stay at k or more. A period of
// fewer than k people in all is hidden whole.
void suppress(std::vector<Count>& cells, long long& total_people, bool& total_suppressed, int k) {
  total_people = 0;
  for (const auto& cell : cells) total_people += cell.people;
  total_suppressed = total_people < k;
  long long hidden = 0;
  for (auto& cell : cells) {
    cell.suppressed = total_suppressed || cell.people < k;
    if (cell.suppressed) hidden += cell.people;
  }
  if (total_suppressed || hidden == 0) return;
  while (hidden < k) {
    Count* smallest = nullptr;
    for (auto& cell : cells) {
      if (!cell.suppressed && (smallest == nullptr || cell.people < smallest->people)) smallest = &cell;
    }
    if (smallest == nullptr) break;  // cannot happen: the total has k or more
    smallest->suppressed = true;
    hidden += smallest->people;
  }
}

}  // namespace

std::vector<AnalyticsCell> Analytics::run(const AnalyticsQuery& query) {
  const bool timeless = query.metric == "plan_mix";
  const Source source = source_of(query.metric);
  const long long period = query.period == "week" ? 604800 : 86400;
  const long long offset = query.period == "week" ? 345600 : 0;  // 1970-01-05 was a Monday
  const std::string bucket = timeless ? "0" : fmt::format("((t - {1}) / {0}) * {0} + {1}", period, offset);
  // Every count is taken by plan; totals are their sums, so that one suppression decision
  // covers both views of a period.
  const std::string plan =
      "COALESCE((SELECT s.plan FROM subscriptions s WHERE s.user_id = person AND s.status IN ('active', 'grace')"
      " AND COALESCE(s.grace_until, s.current_period_end) > :now), :default_plan)";
  const std::string range = timeless ? "" : " WHERE t >= :from AND t < :to";
  const std::string sql_text = "SELECT " + bucket + " AS bucket, " + plan + " AS plan, COUNT(*) AS n, COUNT(DISTINCT person) AS people"
                               " FROM (" + std::string(source.rows) + ") rows_counted" + range +
                               " GROUP BY 1, 2 ORDER BY 1, 2";
  // Whole periods only: a period cut at `from` or `to` differs from the whole one by exactly the
  // people outside the cut, which two overlapping queries would reveal.
  const auto floor_to_period = [&](long long t) { return t - ((t - offset) % period + period) % period; };
  const long long from = floor_to_period(query.from);
  const long long to = query.to <= from ? from : floor_to_period(query.to - 1) + period;
  const long long now = unix_now();
  soci::session sql(database_.pool());
  soci::row row;
  soci::statement statement(sql);
  statement.alloc();
  statement.prepare(sql_text);
  statement.exchange(soci::use(now, "now"));
  statement.exchange(soci::use(default_plan_, "default_plan"));
  if (!timeless) {
    statement.exchange(soci::use(from, "from"));
    statement.exchange(soci::use(to, "to"));
  }
  statement.exchange(soci::into(row));
  statement.define_and_bind();
  statement.execute();
  std::map<long long, std::vector<Count>> periods;
  while (statement.fetch()) {
    periods[db::row_integer(row, 0)].push_back({row.get<std::string>(1), db::row_integer(row, 2), db::row_integer(row, 3)});
  }

  std::vector<AnalyticsCell> cells;
  for (auto& [start, counts] : periods) {
    long long total_people = 0;
    bool total_suppressed = false;
    suppress(counts, total_people, total_suppressed, min_group_);
    const auto value_of = [&](long long rows, long long people) { return source.distinct_people ? people : rows; };
    if (query.by_plan || timeless) {
      for (const auto& count : counts) {
        AnalyticsCell cell{start, count.plan, std::nullopt};
        if (!count.suppressed) cell.value = value_of(count.rows, count.people);
        cells.push_back(std::move(cell));
      }
    } else {
      long long total_rows = 0;
      for (const auto& count : counts) total_rows += count.rows;
      AnalyticsCell cell{start, "", std::nullopt};
      if (!total_suppressed) cell.value = value_of(total_rows, total_people);
      cells.push_back(std::move(cell));
    }
  }
  return cells;
}

}  // namespace framehouse::privacy
