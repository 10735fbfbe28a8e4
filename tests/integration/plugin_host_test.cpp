// The plugin host against one fixture plugin per failure mode.
#include <thread>

#include <gtest/gtest.h>

#include <filesystem>

#include "framehouse/testkit/sinks.hpp"
#include "plugins/compatibility.hpp"
#include "privacy/participants.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"

#include "framehouse/sdk/generation.hpp"
#include "framehouse/sdk/payment.hpp"
#include "framehouse/sdk/email.hpp"
#include "framehouse/sdk/storage.hpp"

namespace framehouse::plugins {
namespace {

using testing::fixture_plugin;
using testing::load_plugin;

using sdk::BufferSource;

class PluginHostTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  observability::Metrics metrics;
  PluginHost host{metrics, dir.path()};
};

TEST_F(PluginHostTest, ManifestIsReadWithoutLoading) {
  auto manifest = read_manifest(fixture_plugin("good_storage"));
  ASSERT_TRUE(std::holds_alternative<PluginManifest>(manifest));
  const auto& m = std::get<PluginManifest>(manifest);
  EXPECT_EQ(m.name, "good_storage");
  EXPECT_EQ(m.implements, (std::vector<std::string>{"storage", "privacy"}));
  EXPECT_EQ(m.build.at("compiler"), host_signature().at("compiler"));
  ASSERT_EQ(m.config_schema.fields.size(), 1u);
  EXPECT_EQ(m.config_schema.fields[0].name, "hang_ms");
}

TEST_F(PluginHostTest, NotAPluginFileIsRefusedClearly) {
  auto manifest = read_manifest(fixture_plugin("not_a_plugin"));
  ASSERT_TRUE(std::holds_alternative<ManifestError>(manifest));
  EXPECT_EQ(std::get<ManifestError>(manifest).message, "not an ELF shared library");
  auto missing = read_manifest(fixture_plugin("does_not_exist"));
  EXPECT_EQ(std::get<ManifestError>(missing).message, "no such file");
}

TEST_F(PluginHostTest, MissingEntryPointIsRefusedNamingFile) {
  const auto error = load_plugin(host, fixture_plugin("missing_entry"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("plugin missing_entry (" + fixture_plugin("missing_entry").string() + ")"), std::string::npos) << *error;
  EXPECT_NE(error->find("missing entry point framehouse_plugin_create"), std::string::npos);
  EXPECT_NE(metrics.render().find("framehouse_plugin_load_failures_total{plugin=\"missing_entry\"} 1"), std::string::npos);
}

TEST_F(PluginHostTest, WrongInterfaceMajorIsRefused) {
  const auto error = load_plugin(host, fixture_plugin("wrong_major"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(fixture_plugin("wrong_major").string() + ": incompatible"), std::string::npos) << *error;
  EXPECT_NE(error->find("storage interface: expected 1.x with x <= 0, found 2.0"), std::string::npos) << *error;
}

TEST_F(PluginHostTest, NewerInterfaceMinorIsRefused) {
  const auto error = load_plugin(host, fixture_plugin("newer_minor"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("storage interface: expected 1.x with x <= 0, found 1.9"), std::string::npos) << *error;
}

TEST_F(PluginHostTest, APluginBuiltAgainstAnOlderMinorLoadsAndIsNeverCalledPastIt) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("built_against_1_0")));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("built_against_1_0");
  EXPECT_EQ(plugin->interface_minor(sdk::PrivacyParticipant::kInterfaceName), 0);
  EXPECT_EQ(plugin->interface_minor(sdk::EmailProvider::kInterfaceName), 0);

  // What 1.0 had works, with the 1.1 host's message (its new field unseen by the plugin).
  sdk::EmailMessage message;
  message.recipients = {"reader@example.org"};
  message.rfc5322 = "From: a@example.org\r\n\r\nHi\r\n";
  message.message_id = "job_1";
  const auto send = [&] {
    return host.call<sdk::EmailProvider>(plugin, "send", [&](sdk::EmailProvider& email) { return email.send(message); });
  };
  EXPECT_TRUE(send());

  // What 1.1 added is not called: lifting an opt-out says why instead of jumping past the end
  // of the plugin's vtable.
  privacy::CoreParticipant core({});  // the core's stores are not what this is about
  privacy::Participants participants(host, core, std::chrono::seconds(5));
  const sdk::Subject subject{"usr_reader", {"reader@example.org"}, {}};
  ASSERT_TRUE(participants.apply_opt_out("built_against_1_0", subject, "marketing"));
  const sdk::Outcome lifted = participants.lift_opt_out("built_against_1_0", subject, "marketing");
  EXPECT_EQ(lifted.status(), sdk::Status::unsupported);
  EXPECT_NE(lifted.message().find("built against privacy 1.0"), std::string::npos) << lifted.message();
  EXPECT_TRUE(participants.lift_opt_out(std::string(privacy::kCoreParticipant), subject, "marketing"));
  EXPECT_TRUE(host.find("built_against_1_0")->started());
}

TEST_F(PluginHostTest, WrongBuildSignatureNamesEveryField) {
  const auto error = load_plugin(host, fixture_plugin("wrong_signature"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("compiler: expected " + host_signature().at("compiler") + ", found gcc-99"), std::string::npos) << *error;
  EXPECT_NE(error->find("stdlib_debug: expected off, found on"), std::string::npos);
}

TEST_F(PluginHostTest, PersonalDataWithoutPrivacyParticipantIsRefused) {
  const auto error = load_plugin(host, fixture_plugin("no_privacy"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("declares personal data (user_content) but does not implement the privacy"), std::string::npos)
      << *error;
}

TEST_F(PluginHostTest, ThrowInStartStopsTheStartWithPluginName) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("good_storage")));
  ASSERT_FALSE(load_plugin(host, fixture_plugin("throws_in_init")));
  const auto error = host.start_all();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("plugin throws_in_init (" + fixture_plugin("throws_in_init").string() + ") failed to start"),
            std::string::npos) << *error;
  EXPECT_NE(error->find("fixture failure in start"), std::string::npos);
  // The plugin started before it was stopped again.
  EXPECT_FALSE(host.find("good_storage")->started());
}

TEST_F(PluginHostTest, ThrowInCallBecomesFailedOutcome) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("throws_in_call")));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("throws_in_call");
  const sdk::Outcome outcome = host.call<sdk::StorageBackend>(plugin, "put", [](sdk::StorageBackend& storage) {
    BufferSource data("bytes");
    return storage.put({"user1", "object1"}, data);
  });
  EXPECT_EQ(outcome.status(), sdk::Status::internal);
  // Its type, never its text (which may quote personal data).
  EXPECT_EQ(outcome.message(), "plugin throws_in_call threw std::runtime_error from put");
  // The plugin keeps serving other calls.
  auto stat = host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) {
    return storage.stat({"user1", "object1"});
  });
  EXPECT_EQ(stat.outcome().status(), sdk::Status::not_found);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("framehouse_plugin_call_failures_total{plugin=\"throws_in_call\",method=\"put\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("framehouse_plugin_calls_total{plugin=\"throws_in_call\",method=\"stat\"} 1"), std::string::npos);
}

TEST_F(PluginHostTest, CallPastTimeoutFailsAndServerGoesOn) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("hangs_in_call"), "hang_ms = 1500", std::chrono::milliseconds(100)));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("hangs_in_call");
  const auto started = std::chrono::steady_clock::now();
  auto stat = host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) {
    return storage.stat({"user1", "object1"});
  });
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(stat.outcome().status(), sdk::Status::timeout);
  EXPECT_EQ(stat.outcome().message(), "plugin hangs_in_call did not return from stat within 100 ms");
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
  // Other methods of the same plugin still answer.
  const sdk::Outcome removed = host.call<sdk::StorageBackend>(plugin, "remove", [](sdk::StorageBackend& storage) {
    return storage.remove({"user1", "object1"});
  });
  EXPECT_TRUE(removed.ok()) << removed.message();
  EXPECT_NE(metrics.render().find("framehouse_plugin_call_failures_total{plugin=\"hangs_in_call\",method=\"stat\"} 1"),
            std::string::npos);
}

int threads_of_this_process() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// A hung plugin holds at most its concurrency in threads: more calls wait for a slot within
// their own timeout and fail as timeouts, and no thread is started per call.
TEST_F(PluginHostTest, AHungPluginHoldsAtMostItsConcurrencyInThreads) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("hangs_in_call"), "hang_ms = 1500", std::chrono::milliseconds(50)));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("hangs_in_call");
  const int before = threads_of_this_process();
  const auto stat = [&] {
    return host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) { return storage.stat({"u", "o"}); });
  };
  for (int i = 0; i < 20; ++i) EXPECT_EQ(stat().outcome().status(), sdk::Status::timeout);
  EXPECT_LE(threads_of_this_process(), before);  // its threads were made at load, none since
  EXPECT_EQ(plugin->calls().in_flight(), plugin->calls().concurrency());
  const auto waited = stat();
  EXPECT_NE(waited.outcome().message().find("calls were busy"), std::string::npos) << waited.outcome().message();
  EXPECT_NE(metrics.render().find("framehouse_plugin_call_timeouts_total{plugin=\"hangs_in_call\"} 21"), std::string::npos);
  host.stop_all(std::chrono::seconds(5));
}

// Its callers are bounded too: with every slot taken and as many calls waiting, a further call
// is refused at once instead of holding its caller's thread until its timeout.
TEST_F(PluginHostTest, AHungPluginsFurtherCallersAreRefusedAtOnce) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("hangs_in_call"), "hang_ms = 3000", std::chrono::milliseconds(400)));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("hangs_in_call");
  const auto stat = [&] {
    return host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) { return storage.stat({"u", "o"}); });
  };
  const int slots = plugin->calls().concurrency();
  const auto in_parallel = [&] {
    std::vector<std::thread> callers;
    for (int i = 0; i < slots; ++i) callers.emplace_back([&] { EXPECT_EQ(stat().outcome().status(), sdk::Status::timeout); });
    return callers;
  };
  for (auto& caller : in_parallel()) caller.join();  // every slot now held by a hung call
  auto waiting = in_parallel();                      // as many wait for a slot
  while (plugin->calls().waiting() < slots) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto started = std::chrono::steady_clock::now();
  const auto refused = stat();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  EXPECT_EQ(refused.outcome().status(), sdk::Status::unavailable);
  EXPECT_NE(refused.outcome().message().find("is busy"), std::string::npos) << refused.outcome().message();
  EXPECT_NE(metrics.render().find("framehouse_plugin_calls_refused_total{plugin=\"hangs_in_call\"} 1"), std::string::npos);
  for (auto& caller : waiting) caller.join();
  host.stop_all(std::chrono::seconds(5));
}

// stop() is never concurrent with a call: the host waits for the calls inside the plugin.
TEST_F(PluginHostTest, StopWaitsForTheCallsInsideThePlugin) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("hangs_in_call"), "hang_ms = 400", std::chrono::milliseconds(50)));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("hangs_in_call");
  EXPECT_EQ(host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) { return storage.stat({"u", "o"}); })
                .outcome()
                .status(),
            sdk::Status::timeout);  // abandoned by its caller, still inside the plugin
  const auto started = std::chrono::steady_clock::now();
  host.stop_all(std::chrono::seconds(5));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(250));
  EXPECT_EQ(testing::read_file(dir.path() / "plugins" / "hangs_in_call" / "stop.log"), "calls running at stop: 0\n");
  // A stopped plugin takes no call.
  EXPECT_EQ(host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) { return storage.stat({"u", "o"}); })
                .outcome()
                .status(),
            sdk::Status::unsupported);
}

// Past the grace the plugin is not stopped at all (rather than stopped under a running call).
TEST_F(PluginHostTest, APluginStillBusyAfterTheGraceIsNotStopped) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("hangs_in_call"), "hang_ms = 1500", std::chrono::milliseconds(50)));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("hangs_in_call");
  (void)host.call<sdk::StorageBackend>(plugin, "stat", [](sdk::StorageBackend& storage) { return storage.stat({"u", "o"}); });
  const auto started = std::chrono::steady_clock::now();
  host.stop_all(std::chrono::milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "plugins" / "hangs_in_call" / "stop.log"));
}

TEST_F(PluginHostTest, InterfaceNotProvidedIsUnsupported) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("good_storage")));
  ASSERT_FALSE(host.start_all());
  auto result = host.call<sdk::PaymentProcessor>(host.find("good_storage"), "delete_customer",
                                                 [](sdk::PaymentProcessor& payment) { return payment.delete_customer("c"); });
  EXPECT_EQ(result.status(), sdk::Status::unsupported);
}

TEST_F(PluginHostTest, StopsInReverseOrderOfStart) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("good_storage")));
  ASSERT_FALSE(load_plugin(host, fixture_plugin("other_kinds"), "webhook_secret = \"s\""));
  ASSERT_FALSE(host.start_all());
  EXPECT_TRUE(host.all_started());
  host.stop_all();
  EXPECT_FALSE(host.all_started());
}

// The payment, email and generation interfaces, driven through the host.
TEST_F(PluginHostTest, OtherInterfacesWorkThroughTheHost) {
  ASSERT_FALSE(load_plugin(host, fixture_plugin("other_kinds"), "webhook_secret = \"whsec\""));
  ASSERT_FALSE(host.start_all());
  auto plugin = host.find("other_kinds");

  auto customer = host.call<sdk::PaymentProcessor>(plugin, "create_customer", [](sdk::PaymentProcessor& payment) {
    return payment.create_customer({"u1", "u1@example.org", "U"}, "op-1");
  });
  ASSERT_TRUE(customer.ok());
  EXPECT_EQ(customer.value(), "cus_u1");
  auto bad_hook = host.call<sdk::PaymentProcessor>(plugin, "parse_webhook", [](sdk::PaymentProcessor& payment) {
    return payment.parse_webhook({{{"x-fixture-signature", "wrong"}}, "{}"}, std::chrono::system_clock::now());
  });
  EXPECT_EQ(bad_hook.outcome().status(), sdk::Status::permission_denied);

  auto sent = host.call<sdk::EmailProvider>(plugin, "send", [](sdk::EmailProvider& email) {
    return email.send({"noreply@example.org", {"u1@example.org"}, "account", "u1", "From: a\r\n\r\nbody"});
  });
  EXPECT_TRUE(sent.ok());

  auto sink = std::make_shared<testkit::MemoryGenerationSink>();
  const sdk::Outcome generated = host.call<sdk::GenerationEngine>(plugin, "run", [sink](sdk::GenerationEngine& engine) {
    sdk::GenerationRequest request;
    request.job_id = "job1";
    request.prompt = "a cat";
    return engine.run(request, *sink);
  });
  EXPECT_TRUE(generated.ok()) << generated.message();
  EXPECT_EQ(sink->percents, (std::vector<int>{0, 25, 50, 75, 100}));
  EXPECT_EQ(sink->outputs["video"], "video-of:a cat");
}

}  // namespace
}  // namespace framehouse::plugins
