// Queued work is personal data when it is about someone: a message waiting in the outbox holds
// its recipient's address and text. Export lists a person's jobs (what they are for, never
// another person's payload); erasure deletes every job filed under them and every queued job
// whose payload names one of their addresses (a message to them filed under no account).
#pragma once

#include "db/database.hpp"
#include "framehouse/sdk/privacy.hpp"

namespace framehouse::jobs {

class JobsParticipant final : public sdk::PrivacyParticipant {
 public:
  explicit JobsParticipant(db::Database& database) : database_(database) {}

  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;
  // A job keeps no copy of a profile field or of a choice: nothing to rectify or opt out of.
  sdk::Outcome rectify(const sdk::Subject&, const sdk::Rectification&) override { return {}; }
  sdk::Outcome apply_opt_out(const sdk::Subject&, std::string_view) override { return {}; }
  sdk::Outcome lift_opt_out(const sdk::Subject&, std::string_view) override { return {}; }

 private:
  db::Database& database_;
};

}  // namespace framehouse::jobs
