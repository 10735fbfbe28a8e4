// Admin analytics on SQLite and PostgreSQL with data crafted so that a naive aggregate would
// single someone out: every such cell is suppressed.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <map>

#include "privacy/analytics.hpp"
#include "support/databases.hpp"

namespace framehouse::privacy {
namespace {

constexpr std::int64_t kDay = 1'800'000'000 / 86400 * 86400;  // midnight UTC

class AnalyticsTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    soci::session sql(database_->pool());
    // Twelve people sign up on one day (one of them on Premium), one alone the next day.
    for (int i = 0; i < 13; ++i) {
      const std::string id = "usr_" + std::to_string(i);
      const std::string email = id + "@example.org";
      const long long created = i < 12 ? kDay + 3600 + i : kDay + 86400 + 60;
      sql << "INSERT INTO users (id, email, name, password_hash, role, age_check_passed_at, created_at, updated_at)"
             " VALUES (:id, :e, 'N', 'x', 'user', 0, :c, :c2)",
          soci::use(id), soci::use(email), soci::use(created), soci::use(created);
      if (i < 10) {
        const long long at = kDay + 7200;
        sql << "INSERT INTO usage_events (user_id, event_type, occurred_at) VALUES (:u, 'signed_in', :t)", soci::use(id), soci::use(at);
      }
    }
    const long long far = 4'000'000'000;
    sql << "INSERT INTO subscriptions (user_id, plan, status, current_period_end, auto_renew, prepaid_periods, created_at, updated_at)"
           " VALUES ('usr_3', 'premium', 'active', :e, 1, 0, 0, 0)",
        soci::use(far);
    // One very active person makes fifty videos in a day.
    for (int i = 0; i < 50; ++i) {
      const std::string id = "video_" + std::to_string(i);
      const long long at = kDay + 100 + i;
      sql << "INSERT INTO videos (id, owner_id, status, model, prompt, width, height, seconds, fps, seed, progress, cancel_requested,"
             " attempts, created_at) VALUES (:id, 'usr_12', 'completed', 'm', 'p', 64, 64, 1, 24, 1, 100, 0, 1, :c)",
          soci::use(id), soci::use(at);
    }
  }
  std::vector<AnalyticsCell> run(const std::string& metric, bool by_plan = false, const std::string& period = "day") {
    return Analytics(*database_, 10, "free").run({metric, period, by_plan, kDay - 86400, kDay + 3 * 86400});
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
};

TEST_P(AnalyticsTest, SignUpsByDayShowTheCrowdAndHideTheLoner) {
  const auto cells = run("signups");
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].period_start, kDay);
  EXPECT_EQ(cells[0].value, 12);
  EXPECT_EQ(cells[1].period_start, kDay + 86400);
  EXPECT_FALSE(cells[1].value.has_value());
}

TEST_P(AnalyticsTest, APlanSplitHidesTheOnePremiumUserFromAnAttackerWhoSubtracts) {
  // Day one: twelve sign-ups, one of them on Premium. The day's total is published (12), so a
  // published "free" count of 11 would give the Premium one away: free is hidden as well.
  const auto total = run("signups");
  ASSERT_EQ(total[0].value, 12);
  const auto cells = run("signups", true);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].plan, "free");
  EXPECT_FALSE(cells[0].value.has_value());
  EXPECT_EQ(cells[1].plan, "premium");
  EXPECT_FALSE(cells[1].value.has_value());
  const auto mix = run("plan_mix");
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_FALSE(mix[0].value.has_value());
  EXPECT_FALSE(mix[1].value.has_value());
}

// Whatever the attacker combines — a period's total, its split by plan, the same period asked
// for with other bounds — no hidden cell can be worked out alone.
TEST_P(AnalyticsTest, NoHiddenCellCanBeDerivedFromPublishedOnes) {
  {
    // A second day with three plans: 15 free, 1 premium, 12 pro. Premium is hidden; hiding
    // the smallest other cell too (pro) leaves premium + pro = 13 people, never premium alone.
    soci::session sql(database_->pool());
    for (int i = 0; i < 28; ++i) {
      const std::string id = "usr_d3_" + std::to_string(i);
      const std::string email = id + "@example.org";
      const long long created = kDay + 2 * 86400 + 60 + i;
      sql << "INSERT INTO users (id, email, name, password_hash, role, age_check_passed_at, created_at, updated_at)"
             " VALUES (:id, :e, 'N', 'x', 'user', 0, :c, :c2)",
          soci::use(id), soci::use(email), soci::use(created), soci::use(created);
      const std::string plan = i == 0 ? "premium" : i <= 12 ? "pro" : "";
      if (plan.empty()) continue;
      const long long far = 4'000'000'000;
      sql << "INSERT INTO subscriptions (user_id, plan, status, current_period_end, auto_renew, prepaid_periods, created_at,"
             " updated_at) VALUES (:u, :p, 'active', :e, 1, 0, 0, 0)",
          soci::use(id), soci::use(plan), soci::use(far);
    }
  }
  for (const char* metric : {"signups", "active_users", "videos_created"}) {
    for (const char* period : {"day", "week"}) {
      std::map<std::int64_t, std::optional<std::int64_t>> totals;
      for (const auto& cell : run(metric, false, period)) totals[cell.period_start] = cell.value;
      std::map<std::int64_t, std::vector<AnalyticsCell>> split;
      for (const auto& cell : run(metric, true, period)) split[cell.period_start].push_back(cell);
      for (const auto& [start, cells] : split) {
        int hidden = 0;
        for (const auto& cell : cells) hidden += cell.value ? 0 : 1;
        if (totals[start]) EXPECT_NE(hidden, 1) << metric << " " << period << " at " << start << ": one hidden cell beside a total";
        if (!totals[start]) EXPECT_EQ(hidden, static_cast<int>(cells.size())) << metric << " " << period << " at " << start;
      }
    }
  }
  const auto third = run("signups", true);
  ASSERT_EQ(third.size(), 6u);  // day one: free, premium; day two: free; day three: free, premium, pro
  EXPECT_EQ(third[3].plan, "free");
  EXPECT_EQ(third[3].value, 15);
  EXPECT_FALSE(third[4].value.has_value());
  EXPECT_FALSE(third[5].value.has_value());
  // A period is always counted whole: bounds inside a day do not cut it (two such queries would
  // otherwise differ by the people in between).
  const auto cut = Analytics(*database_, 10, "free").run({"signups", "day", false, kDay + 3600 + 5, kDay + 3600 + 6});
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].value, 12);
}

TEST_P(AnalyticsTest, ManyVideosByOnePersonAreStillOnePerson) {
  const auto cells = run("videos_created");
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_FALSE(cells[0].value.has_value());  // fifty videos, but they would describe one person
  const auto active = run("active_users", false, "week");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].value, 10);
  EXPECT_EQ((active[0].period_start - 345600) % 604800, 0);  // weeks start on Monday
}

INSTANTIATE_TEST_SUITE_P(Backends, AnalyticsTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse::privacy
