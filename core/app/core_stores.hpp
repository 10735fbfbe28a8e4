// Every store of personal data the core has, registered with the privacy module in one place,
// each declared beside its own module (personal_data::CoreStore). Adding a table that names a
// person means adding it to one of these stores; the schema test fails until it is.
#pragma once

#include <vector>

#include "accounts/privacy_participant.hpp"
#include "billing/billing.hpp"
#include "jobs/privacy_participant.hpp"
#include "privacy/disclosures.hpp"
#include "privacy/requests.hpp"
#include "video/uploads.hpp"
#include "video/videos.hpp"

namespace framehouse::app {

struct CoreStores {
  CoreStores(db::Database& database, accounts::Accounts& accounts, video::Videos& videos, storage::ObjectStore& objects);
  // In export order; erasure runs in reverse, so the accounts, which the others refer to, go last.
  std::vector<personal_data::CoreStore*> all();

  accounts::AccountsParticipant accounts;
  video::UploadsParticipant uploads;
  video::VideosParticipant videos;
  billing::BillingParticipant billing;
  privacy::RequestsParticipant requests;
  privacy::DisclosuresParticipant disclosures;
  jobs::JobsParticipant jobs;
};

// Tables that name a person and belong to no store, with the reason: what the schema test
// accepts, and nothing else.
struct UnregisteredTable {
  const char* table;
  const char* why;
};
inline constexpr UnregisteredTable kTablesOutsideTheStores[] = {
    {"audit_log", "the security log (policy §4): internal ids only, kept as the record of processing"},
    {"data_keys", "a person's data key, destroyed by the erasure's first step (crypto-shredding), not by a store"},
    {"sso_logins", "an enterprise sign-in in progress, before an account exists: ten minutes at most, then purged"},
};

}  // namespace framehouse::app
