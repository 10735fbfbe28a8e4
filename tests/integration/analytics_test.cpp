// Admin analytics on SQLite and PostgreSQL with data crafted so that a naive aggregate would
// single someone out: every such cell is suppressed.
#include <gtest/gtest.h>
#include <soci/soci.h>

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

TEST_P(AnalyticsTest, APlanSplitSuppressesTheOnePremiumUser) {
  const auto cells = run("signups", true);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].plan, "free");
  EXPECT_EQ(cells[0].value, 11);
  EXPECT_EQ(cells[1].plan, "premium");
  EXPECT_FALSE(cells[1].value.has_value());
  const auto mix = run("plan_mix");
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_EQ(mix[0].value, 12);
  EXPECT_FALSE(mix[1].value.has_value());
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
