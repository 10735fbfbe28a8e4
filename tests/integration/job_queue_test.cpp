// The job queue, its runner and the change notices, against SQLite and PostgreSQL, on a clock
// the test moves.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "jobs/job_runner.hpp"
#include "jobs/privacy_participant.hpp"
#include "support/databases.hpp"

namespace framehouse::jobs {
namespace {

using namespace std::chrono_literals;

class JobQueueTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(test_database_);
    database_ = test_database_->open_migrated();
    queue_ = std::make_unique<JobQueue>(*database_, metrics_, QueueOptions{"test", 10s, 3, 1000ms, 4000ms},
                                        [this] { return now_ms_.load(); });
  }

  std::string enqueue(const std::string& payload, const std::string& subject = "") {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    const auto id = queue_->enqueue(transaction, payload, subject, "test: a job");
    transaction.commit();
    return id;
  }
  std::string column(const std::string& id, const std::string& name) {
    soci::session sql(database_->pool());
    std::string value;
    soci::indicator indicator = soci::i_ok;
    sql << "SELECT " + name + " FROM jobs WHERE id = :id", soci::use(id), soci::into(value, indicator);
    return indicator == soci::i_ok ? value : "NULL";
  }

  std::unique_ptr<testing::TestDatabase> test_database_;
  std::unique_ptr<db::Database> database_;
  observability::Metrics metrics_;
  std::atomic<std::int64_t> now_ms_{1'800'000'000'000};
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(JobQueueTest, AJobExistsExactlyWhenItsTransactionCommitsAndItsWorkersAreWokenThen) {
  std::atomic<int> woken{0};
  const auto subscription = database_->changes().subscribe("test", [&] { ++woken; });
  {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    queue_->enqueue(transaction, "{}", "", "test: rolled back");
    EXPECT_EQ(woken.load(), 0);  // not before the commit
  }
  EXPECT_EQ(woken.load(), 0);
  EXPECT_FALSE(queue_->claim("w1"));
  enqueue("{\"n\":1}");
  EXPECT_EQ(woken.load(), 1);
  const auto job = queue_->claim("w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->payload, "{\"n\":1}");
  EXPECT_EQ(job->attempt, 1);
  EXPECT_FALSE(queue_->claim("w2"));  // leased
  queue_->settle(*job, JobResult::finished("{\"ok\":true}"));
  const auto record = queue_->find(job->id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, JobState::done);
  EXPECT_EQ(record->result, "{\"ok\":true}");
  EXPECT_EQ(column(job->id, "payload"), "NULL");  // nothing about anyone stays
  database_->changes().unsubscribe(subscription);
}

TEST_P(JobQueueTest, AJobCanWaitForALaterTimeAndBePutOffWithoutLosingAnAttempt) {
  std::string id;
  {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    id = queue_->enqueue(transaction, "{}", "", "test: later", std::nullopt, now_ms_.load() + 5000);
    transaction.commit();
  }
  EXPECT_FALSE(queue_->claim("w1"));  // not before its time
  now_ms_ += 5000;
  auto job = queue_->claim("w1");
  ASSERT_TRUE(job);
  queue_->settle(*job, JobResult::deferred(2000ms));
  EXPECT_FALSE(queue_->claim("w1"));
  now_ms_ += 2000;
  job = queue_->claim("w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt, 1);  // putting it off did not count
  queue_->settle(*job, JobResult::finished());

  // Called off before it started: gone; once running, it finishes.
  const auto waiting = enqueue("{}");
  const auto running = enqueue("{}");
  auto claimed = queue_->claim("w1");
  ASSERT_TRUE(claimed);
  {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    queue_->drop_waiting(transaction, waiting);
    queue_->drop_waiting(transaction, running);
    transaction.commit();
  }
  EXPECT_EQ(queue_->find(claimed->id == waiting ? running : waiting), std::nullopt);
  EXPECT_TRUE(queue_->find(claimed->id));
}

TEST_P(JobQueueTest, FailuresAreRetriedWithDoublingBackoffThenDeadLettered) {
  const auto id = enqueue("{}");
  auto job = queue_->claim("w1");
  queue_->settle(*job, JobResult::retry_later("unavailable: down"));
  EXPECT_EQ(queue_->find(id)->run_at_ms, now_ms_ + 1000);
  EXPECT_EQ(queue_->find(id)->last_error, "unavailable: down");
  EXPECT_FALSE(queue_->claim("w1"));  // not before its time
  now_ms_ += 1000;
  job = queue_->claim("w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt, 2);
  queue_->settle(*job, JobResult::retry_later("unavailable: still down"));
  EXPECT_EQ(queue_->find(id)->run_at_ms, now_ms_ + 2000);
  now_ms_ += 2000;
  job = queue_->claim("w1");
  queue_->settle(*job, JobResult::retry_later("unavailable: down for good"));  // the third of three
  EXPECT_EQ(queue_->find(id)->state, JobState::dead);
  EXPECT_EQ(column(id, "payload"), "NULL");
  EXPECT_EQ(queue_->list(JobState::dead, 10).size(), 1u);
  EXPECT_NE(metrics_.render().find("framehouse_jobs_dead_total{queue=\"test\"} 1"), std::string::npos);
  EXPECT_NE(metrics_.render().find("framehouse_jobs_dead{queue=\"test\"} 1"), std::string::npos);
  now_ms_ += 1'000'000;
  EXPECT_FALSE(queue_->claim("w1"));
}

TEST_P(JobQueueTest, SettledRecordsGoAfterTheirRetentionAndWaitingJobsStay) {
  const auto done = enqueue("{}");
  queue_->settle(*queue_->claim("w1"), JobResult::finished());
  const auto waiting = enqueue("{}");
  now_ms_ += 3'600'000;
  EXPECT_EQ(queue_->purge_settled(std::chrono::hours(2)), 0);
  now_ms_ += 3'600'001;
  EXPECT_EQ(queue_->purge_settled(std::chrono::hours(2)), 1);
  EXPECT_FALSE(queue_->find(done));
  EXPECT_TRUE(queue_->find(waiting));
}

TEST_P(JobQueueTest, APermanentFailureIsDeadAtOnceAndAReleasedJobKeepsItsAttempts) {
  const auto refused = enqueue("{}");
  queue_->settle(*queue_->claim("w1"), JobResult::failed_for_good("conflict: suppressed"));
  EXPECT_EQ(queue_->find(refused)->state, JobState::dead);
  const auto released = enqueue("{}");
  auto job = queue_->claim("w1");
  queue_->settle(*job, JobResult::released());
  EXPECT_EQ(queue_->find(released)->state, JobState::ready);
  job = queue_->claim("w2");  // at once, by anyone
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt, 1);
}

TEST_P(JobQueueTest, AJobWhoseWorkerDiedIsTakenOverLoggedAndCounted) {
  const auto id = enqueue("{}");
  const auto first = queue_->claim("crashed-worker");
  ASSERT_TRUE(first);
  now_ms_ += 5000;
  EXPECT_TRUE(queue_->renew(*first));  // alive: renewed
  now_ms_ += 9000;
  EXPECT_FALSE(queue_->claim("w2"));  // the renewed lease still holds
  now_ms_ += 2000;
  ::testing::internal::CaptureStderr();
  const auto second = queue_->claim("w2");
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, id);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_NE(log.find("job taken over after its lease ran out"), std::string::npos) << log;
  EXPECT_NE(log.find("crashed-worker"), std::string::npos) << log;
  EXPECT_NE(metrics_.render().find("framehouse_jobs_taken_over_total{queue=\"test\"} 1"), std::string::npos);
  // The first worker, back from the dead, cannot settle it over the new owner.
  EXPECT_FALSE(queue_->renew(*first));
  queue_->settle(*first, JobResult::finished());
  EXPECT_EQ(queue_->find(id)->state, JobState::running);
  queue_->settle(*second, JobResult::finished());
  EXPECT_EQ(queue_->find(id)->state, JobState::done);
}

TEST_P(JobQueueTest, ConcurrentWorkersRunEveryJobOnce) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) enqueue("{\"n\":" + std::to_string(i) + "}");
  std::mutex mutex;
  std::multiset<std::string> ran;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, name = std::to_string(w)] {
      while (auto job = queue_->claim(name)) {
        {
          std::lock_guard lock(mutex);
          ran.insert(job->payload);
        }
        queue_->settle(*job, JobResult::finished());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(ran.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(ran.begin(), ran.end()).size(), static_cast<std::size_t>(kJobs));
}

TEST_P(JobQueueTest, TheRunnerIsWokenByACommitAndGivesLeasesBackAtShutdown) {
  JobQueue queue(*database_, metrics_, {"runner", 1s, 3});
  std::atomic<int> done{0};
  std::atomic<bool> long_job_started{false};
  JobRunner runner(queue, *database_, [&](const Job& job, std::stop_token stopping) {
    if (job.payload == "long") {
      long_job_started = true;
      while (!stopping.stop_requested()) std::this_thread::sleep_for(5ms);
      return JobResult::released();
    }
    ++done;
    return JobResult::finished();
  }, std::chrono::hours(1));  // no idle polling: only the change notice can wake it
  runner.start(2);
  const auto started = std::chrono::steady_clock::now();
  {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    queue.enqueue(transaction, "short", "", "test: short");
    transaction.commit();
  }
  while (done.load() == 0 && std::chrono::steady_clock::now() - started < 5s) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(done.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  std::string long_id;
  {
    soci::session sql(database_->pool());
    db::WriteTransaction transaction(sql, *database_);
    long_id = queue.enqueue(transaction, "long", "", "test: long");
    transaction.commit();
  }
  while (!long_job_started.load()) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(1500ms);  // past its lease: the keeper renews it
  EXPECT_EQ(queue.find(long_id)->state, JobState::running);
  EXPECT_FALSE(queue.claim("another-node"));
  runner.stop();
  const auto released = queue.find(long_id);
  EXPECT_EQ(released->state, JobState::ready);
  EXPECT_EQ(released->attempts, 0);
  EXPECT_TRUE(queue.claim("another-node"));  // at once, not after the lease
}

// A process that cleared a finished job's payload (the receipt of an erased person) and died
// before recording the result: the job is not run again, only recorded.
TEST_P(JobQueueTest, AJobWhosePayloadWasClearedIsRecordedNotRunAgain) {
  const auto id = enqueue("{}");
  ASSERT_TRUE(queue_->claim("died"));
  {
    soci::session sql(database_->pool());
    sql << "UPDATE jobs SET payload = NULL, lease_expires_at_ms = 0 WHERE id = :id", soci::use(id);
  }
  int runs = 0;
  JobRunner runner(*queue_, *database_, [&](const Job&, std::stop_token) {
    ++runs;
    return JobResult::finished();
  });
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(runner.run_one("w2"));
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(queue_->find(id)->state, JobState::done);
}

TEST_P(JobQueueTest, ErasureTakesAPersonsJobsAndQueuedMessagesToTheirAddress) {
  enqueue("{\"to\":\"pat@example.org\"}", "usr_pat");
  enqueue("{\"rfc5322\":\"To: Pat@Example.org\"}");  // filed under no one
  const auto other = enqueue("{\"to\":\"kim@example.org\"}", "usr_kim");
  JobsParticipant participant(*database_);
  struct Records final : sdk::ExportSink {
    sdk::Outcome record(std::string_view dataset, std::string_view json) override {
      lines.push_back(std::string(dataset) + " " + std::string(json));
      return {};
    }
    sdk::Outcome file(std::string_view, std::string_view, sdk::ByteSource&) override { return {}; }
    std::vector<std::string> lines;
  } exported;
  const sdk::Subject pat{"usr_pat", {"pat@example.org"}, {}};
  ASSERT_TRUE(participant.export_subject(pat, exported));
  ASSERT_EQ(exported.lines.size(), 1u);
  EXPECT_NE(exported.lines[0].find("queued_jobs"), std::string::npos);
  EXPECT_EQ(exported.lines[0].find("pat@example.org"), std::string::npos);  // what it is for, not its payload
  const auto erased = participant.erase_subject(pat);
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased.value().records_removed, 2u);
  const auto remaining = queue_->claim("w1");  // only Kim's is left
  ASSERT_TRUE(remaining);
  EXPECT_EQ(remaining->id, other);
  EXPECT_FALSE(queue_->claim("w2"));
}

INSTANTIATE_TEST_SUITE_P(Backends, JobQueueTest, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

// Two processes on one PostgreSQL database: a notice sent by one wakes the other.
TEST(ChangeFeed, ANoticeReachesAnotherProcessThroughPostgreSql) {
  testing::TestDatabase test_database(db::Backend::postgresql);
  if (test_database.skipped()) GTEST_SKIP() << "no PostgreSQL server (run tests/run-all.sh)";
  ASSERT_TRUE(test_database.available());
  auto here = test_database.open_migrated();
  auto there = test_database.open_migrated();
  // A topic of this test's own: other tests on the same server send notices too.
  const std::string topic = "test_" + JobQueue::new_id();
  std::atomic<int> woken{0};
  there->changes().subscribe(topic, [&] { ++woken; });
  there->changes().listen();
  here->changes().listen();
  // The listener connects on its own thread; a notice sent before it listens wakes it once too.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (woken.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  const int before = woken.load();
  here->changes().announce(topic);
  while (woken.load() == before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_GT(woken.load(), before);
  int before_commit = 0;
  {
    soci::session sql(here->pool());
    db::WriteTransaction transaction(sql, *here);
    transaction.notify(topic);
    before_commit = woken.load();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(woken.load(), before_commit);  // nothing before the commit
    transaction.commit();
  }
  while (woken.load() == before_commit && std::chrono::steady_clock::now() < deadline + 5s) std::this_thread::sleep_for(5ms);
  EXPECT_GT(woken.load(), before_commit);
  there->changes().stop();
  here->changes().stop();
}

}  // namespace
}  // namespace framehouse::jobs
