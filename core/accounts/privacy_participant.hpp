// The accounts tables as a store of personal data: the same interface plugins implement, so the
// privacy module has one code path for the core's stores and every plugin's.
#pragma once

#include "accounts/accounts.hpp"
#include "db/database.hpp"
#include "personal_data/store.hpp"

namespace framehouse::accounts {

class AccountsParticipant final : public personal_data::CoreStore {
 public:
  AccountsParticipant(db::Database& database, Accounts& accounts)
      : database_(database), accounts_(accounts), address_key_secret_(db::server_secret(database, kAddressKeySecret)) {}

  std::string_view name() const override { return "accounts"; }
  std::vector<std::string> categories() const override {
    return {"account", "email_address", "name", "credentials", "preferences", "usage"};
  }
  std::vector<std::string> tables() const override;
  // Every session and API key ends; the addresses the account had are what the person may be
  // known by elsewhere.
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) override;

  // Datasets: "account", "credentials" (no token hashes), "preferences",
  // "preference_history", "previous_email_addresses", "policy_notices",
  // "policy_acknowledgements", "unsubscribe_links", "usage_events".
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  // Deletes the user row and everything hanging off it, and the rate-limit rows by account
  // and by the subject's addresses.
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;
  // The accounts tables are the source of name and email: rectification happens there.
  sdk::Outcome rectify(const sdk::Subject& subject, const sdk::Rectification& change) override;
  // Records the opt-out as a preference change with source "opt_out".
  sdk::Outcome apply_opt_out(const sdk::Subject& subject, std::string_view category) override;
  // The opt-in is recorded by Accounts::set_preferences itself, before anyone is told.
  sdk::Outcome lift_opt_out(const sdk::Subject&, std::string_view) override { return {}; }

 private:
  db::Database& database_;
  Accounts& accounts_;
  std::string address_key_secret_;
};

}  // namespace framehouse::accounts
