// The HTTP server in process, with a handler pool: the I/O threads route and answer only what
// never blocks; everything else runs on the pool, whose full queue is answered 503 at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "http/problem.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

namespace framehouse::http {
namespace {

using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/slow", [this](Request&) {
      ran_on_handler = workers::TaskProcessor::current() == &handlers;
      ++slow_started;
      gate_opened.wait();
      return Response::json(200, boost::json::object{{"slow", true}});
    });
    router.add("GET", "/quick", [](Request&) { return Response::json(200, boost::json::object{}); });
    router.add(
        "GET", "/healthz",
        [this](Request&) {
          ran_inline = workers::TaskProcessor::current() == nullptr;
          return Response::json(200, boost::json::object{{"status", "alive"}});
        },
        Blocking::never);
    ServerOptions options;
    options.port = 0;
    options.threads = 1;
    server = std::make_unique<Server>(options, router, &handlers);
    server->listen();
    serving = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    open_gate();
    server->stop();
    serving.join();
    handlers.stop();
  }
  void open_gate() {
    if (!gate_open.exchange(true)) gate.set_value();
  }
  testing::HttpResponse get(const std::string& target) { return testing::http_request(server->port(), "GET", target); }

  Router router;
  workers::TaskProcessor handlers{"handlers", 1, 1};
  std::promise<void> gate;
  std::shared_future<void> gate_opened = gate.get_future().share();
  std::atomic<bool> gate_open{false};
  std::atomic<int> slow_started{0};
  std::atomic<bool> ran_on_handler{false};
  std::atomic<bool> ran_inline{false};
  std::unique_ptr<Server> server;
  std::thread serving;
};

TEST_F(HttpServerTest, BusyHandlersNeitherBlockTheIoThreadNorQueueWithoutBound) {
  // The one handler thread is taken, and the one place in its queue.
  auto first = std::async(std::launch::async, [this] { return get("/slow"); });
  while (slow_started == 0) std::this_thread::sleep_for(1ms);
  auto second = std::async(std::launch::async, [this] { return get("/slow"); });
  while (handlers.queued() == 0) std::this_thread::sleep_for(1ms);

  // More work is refused at once, as problem+json with Retry-After.
  const auto refused = get("/quick");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(refused.header("content-type"), "application/problem+json");
  EXPECT_NE(refused.header("x-request-id"), "");
  EXPECT_EQ(handlers.rejected(), 1u);

  // The liveness probe is answered from the I/O thread, at once, with one I/O thread.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  EXPECT_TRUE(ran_inline);
  EXPECT_EQ(get("/nowhere").status, 404);  // answered without a handler thread too

  open_gate();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 200);
  EXPECT_TRUE(ran_on_handler);
  EXPECT_EQ(get("/quick").status, 200);
}

}  // namespace
}  // namespace framehouse::http
