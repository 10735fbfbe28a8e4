// Admin analytics (policy §2.3): aggregates only, over groups of at least `min_group` people.
// A cell that would describe fewer people is suppressed (no value), and so are as many other
// cells of its period as it takes for no hidden cell to be derived by subtracting published
// ones from a total or from another breakdown (analytics.cpp); periods are always whole. No
// query returns per-person rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace framehouse::privacy {

inline constexpr std::string_view kAnalyticsMetrics[] = {"signups", "active_users", "videos_created", "plan_mix"};

struct AnalyticsQuery {
  std::string metric;          // one of kAnalyticsMetrics
  std::string period = "day";  // "day" or "week" (weeks start on Monday, UTC)
  bool by_plan = false;        // split by the person's current plan
  std::int64_t from = 0;       // Unix seconds, inclusive
  std::int64_t to = 0;         // Unix seconds, exclusive
};

struct AnalyticsCell {
  std::int64_t period_start = 0;      // 0 for plan_mix
  std::string plan;                   // "" unless split by plan
  std::optional<std::int64_t> value;  // nothing when suppressed
};

class Analytics {
 public:
  Analytics(db::Database& database, int min_group, std::string default_plan)
      : database_(database), min_group_(min_group), default_plan_(std::move(default_plan)) {}
  std::vector<AnalyticsCell> run(const AnalyticsQuery& query);
  int min_group() const { return min_group_; }

 private:
  db::Database& database_;
  int min_group_;
  std::string default_plan_;
};

}  // namespace framehouse::privacy
