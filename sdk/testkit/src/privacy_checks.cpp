// The privacy participant contract (sdk/privacy.hpp). The subject is given data through the
// plugin's other interfaces first (an object stored, a message sent), so that erasure has
// something to remove.
#include "conformance.hpp"
#include "framehouse/sdk/email.hpp"
#include "framehouse/sdk/privacy.hpp"
#include "framehouse/sdk/storage.hpp"
#include "framehouse/testkit/sinks.hpp"

namespace framehouse::testkit::detail {
namespace {

sdk::Subject subject() { return {"usr_conformance_subject", {"subject@conformance.example"}, {}}; }

// Leaves something about the subject in the plugin, through what else it offers.
void give_data(StartedPlugin& plugin) {
  const sdk::Subject person = subject();
  if (auto* storage = plugin.find<sdk::StorageBackend>()) {
    sdk::BufferSource source(std::string("their upload"));
    ASSERT_TRUE(storage->put({person.user_id, "upload-1"}, source));
  }
  if (auto* email = plugin.find<sdk::EmailProvider>()) {
    const sdk::EmailMessage message = conformance_message(person.email_addresses.front(), "job_conformance_privacy", person.user_id);
    ASSERT_TRUE(email->send(message));
  }
}

}  // namespace

void register_privacy_checks(const ConformanceTarget& target) {
  add_check("privacy_conformance", "ASubjectItKnowsNothingOfExportsNothing", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(privacy, sdk::PrivacyParticipant, target);
    MemoryExportSink sink;
    ASSERT_TRUE(privacy->export_subject({"usr_nobody", {"nobody@conformance.example"}, {}}, sink));
    EXPECT_EQ(sink.items(), 0u);  // the host relies on this to verify an erasure
  });
  add_check("privacy_conformance", "AfterErasureNothingIsExportedAndAgainNothingIsRemoved", target,
            [](const ConformanceTarget& target) {
              FRAMEHOUSE_START_INTERFACE(privacy, sdk::PrivacyParticipant, target);
              ASSERT_NO_FATAL_FAILURE(give_data(plugin_));
              MemoryExportSink before;
              ASSERT_TRUE(privacy->export_subject(subject(), before));
              const auto erased = privacy->erase_subject(subject());
              ASSERT_TRUE(erased) << erased.outcome().message();
              if (before.items() > 0) EXPECT_GT(erased->records_removed + erased->files_removed, 0u);
              MemoryExportSink after;
              ASSERT_TRUE(privacy->export_subject(subject(), after));
              EXPECT_EQ(after.items(), 0u);
              const auto again = privacy->erase_subject(subject());
              ASSERT_TRUE(again) << again.outcome().message();
              EXPECT_EQ(again->records_removed + again->files_removed, 0u);
            });
  add_check("privacy_conformance", "RectificationAndOptOutsSucceed", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(privacy, sdk::PrivacyParticipant, target);
    ASSERT_NO_FATAL_FAILURE(give_data(plugin_));
    const sdk::Outcome rectified =
        privacy->rectify(subject(), {"email", "subject@conformance.example", "renamed@conformance.example"});
    EXPECT_TRUE(rectified) << rectified.message();
    for (const char* category : {"product_updates", "marketing", "training_use", "sale_sharing"}) {
      const sdk::Outcome applied = privacy->apply_opt_out(subject(), category);
      EXPECT_TRUE(applied) << category << ": " << applied.message();
    }
    // Only what the plugin's own minor has is called, as in the host.
    const auto file = PluginFile::open(target.plugin);
    ASSERT_TRUE(file);
    if (file->interface_minor(sdk::PrivacyParticipant::kInterfaceName) >= 1) {
      const sdk::Outcome lifted = privacy->lift_opt_out(subject(), "marketing");
      EXPECT_TRUE(lifted) << lifted.message();
      EXPECT_TRUE(privacy->lift_opt_out(subject(), "marketing"));  // idempotent
    }
  });
}

}  // namespace framehouse::testkit::detail
