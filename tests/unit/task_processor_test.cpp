// The bounded task queue that keeps blocking work off the I/O threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "workers/task_processor.hpp"

namespace framehouse::workers {
namespace {

using namespace std::chrono_literals;

TEST(TaskProcessor, AFullQueueRefusesWorkInsteadOfGrowing) {
  TaskProcessor processor("test", 1, 2);
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::atomic<int> ran{0};
  const auto blocked = [&] {
    opened.wait();
    ++ran;
  };
  ASSERT_TRUE(processor.try_post(blocked));  // runs, and holds the one thread
  while (processor.busy() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(processor.try_post(blocked));
  EXPECT_TRUE(processor.try_post(blocked));
  EXPECT_TRUE(processor.saturated());
  EXPECT_FALSE(processor.try_post(blocked));  // the third waiting one has no room
  EXPECT_EQ(processor.rejected(), 1u);
  gate.set_value();
  processor.stop();  // drains what was queued
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(processor.try_post([] {}));  // stopped
}

TEST(TaskProcessor, RunWaitsForTheResultOnTheProcessorsThreads) {
  TaskProcessor cpu("cpu", 2, 1);
  EXPECT_EQ(TaskProcessor::current(), nullptr);
  EXPECT_EQ(cpu.run([] { return TaskProcessor::current(); }), &cpu);
  EXPECT_EQ(cpu.run([] { return 6 * 7; }), 42);
  EXPECT_THROW(cpu.run([]() -> int { throw std::invalid_argument("x"); }), std::invalid_argument);
  // More callers than threads and queue places: run() waits for room instead of refusing.
  std::vector<std::future<int>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&cpu, i] {
      return cpu.run([i] {
        std::this_thread::sleep_for(5ms);
        return i;
      });
    }));
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i].get(), i);
}

TEST(TaskProcessor, AThrowingTaskDoesNotEndItsThread) {
  TaskProcessor processor("test", 1, 4);
  ASSERT_TRUE(processor.try_post([] { throw std::runtime_error("boom"); }));
  EXPECT_EQ(processor.run([] { return 1; }), 1);
}

}  // namespace
}  // namespace framehouse::workers
