// Queued work is personal data when it is about someone: a message waiting in the outbox holds
// its recipient's address and text. Export lists a person's jobs (what they are for, never
// another person's payload); erasure deletes every job filed under them and every queued job
// whose payload names one of their addresses (a message to them filed under no account).
#pragma once

#include "db/database.hpp"
#include "personal_data/store.hpp"

namespace framehouse::jobs {

// A job keeps no copy of a profile field or of a choice: nothing to rectify or opt out of.
class JobsParticipant final : public personal_data::RecordsStore {
 public:
  explicit JobsParticipant(db::Database& database) : database_(database) {}

  std::string_view name() const override { return "jobs"; }
  std::vector<std::string> categories() const override { return {"email_address", "message_content"}; }
  std::vector<std::string> tables() const override { return {"jobs"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;

 private:
  db::Database& database_;
};

}  // namespace framehouse::jobs
