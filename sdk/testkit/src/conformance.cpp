#include "conformance.hpp"

#include "framehouse/sdk/email.hpp"
#include "framehouse/sdk/generation.hpp"
#include "framehouse/sdk/payment.hpp"
#include "framehouse/sdk/privacy.hpp"
#include "framehouse/sdk/storage.hpp"

namespace framehouse::testkit {

StartedPlugin::StartedPlugin(const ConformanceTarget& target) {
  for (const auto& assignment : target.config) host_.settings().set_from_text(assignment);
  auto file = PluginFile::open(target.plugin);
  if (!file) {
    error_ = file.outcome().message();
    return;
  }
  plugin_ = file->create();
  if (!plugin_) {
    error_ = "the plugin's entry point returned no plugin (its constructor threw?)";
    return;
  }
  if (const sdk::Outcome outcome = plugin_->start(host_); !outcome) {
    error_ = std::string("start() failed: ") + sdk::to_string(outcome.status()) + ": " + outcome.message();
    return;
  }
  started_ = true;
}

StartedPlugin::~StartedPlugin() {
  if (started_) plugin_->stop();
}

namespace detail {

namespace {

class CheckTest final : public ::testing::Test {
 public:
  CheckTest(ConformanceTarget target, Check check) : target_(std::move(target)), check_(std::move(check)) {}
  void TestBody() override { check_(target_); }

 private:
  ConformanceTarget target_;
  Check check_;
};

}  // namespace

void add_check(const std::string& suite, const std::string& name, const ConformanceTarget& target, Check check) {
  ::testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [target, check]() -> ::testing::Test* { return new CheckTest(target, check); });
}

}  // namespace detail

std::vector<std::string> register_conformance_tests(const ConformanceTarget& target) {
  std::vector<std::string> found;
  StartedPlugin probe(target);
  if (!probe.error().empty()) {
    detail::add_check("plugin_conformance", "LoadsAndStarts", target, [error = probe.error()](const ConformanceTarget&) {
      FAIL() << error;
    });
    return found;
  }
  const auto offer = [&](bool provided, const char* name, void (*registration)(const ConformanceTarget&)) {
    if (!provided) return;
    found.emplace_back(name);
    registration(target);
  };
  offer(probe.find<sdk::StorageBackend>() != nullptr, "storage", &detail::register_storage_checks);
  offer(probe.find<sdk::PrivacyParticipant>() != nullptr, "privacy", &detail::register_privacy_checks);
  offer(probe.find<sdk::EmailProvider>() != nullptr, "email", &detail::register_email_checks);
  offer(probe.find<sdk::GenerationEngine>() != nullptr, "generation", &detail::register_generation_checks);
  offer(probe.find<sdk::PaymentProcessor>() != nullptr, "payment", &detail::register_payment_checks);
  if (found.empty()) {
    detail::add_check("plugin_conformance", "ProvidesAnInterface", target, [](const ConformanceTarget&) {
      FAIL() << "find_interface() returns none of storage, privacy, email, generation, payment";
    });
  }
  return found;
}

}  // namespace framehouse::testkit
