// Every route of the server, registered in one place, so that the server and the test that
// checks the OpenAPI description see the same list.
#pragma once

#include "accounts/accounts.hpp"
#include "audit/audit_log.hpp"
#include "billing/billing.hpp"
#include "db/database.hpp"
#include "http/router.hpp"
#include "observability/metrics.hpp"
#include "plugins/host.hpp"
#include "privacy/analytics.hpp"
#include "privacy/communications.hpp"
#include "privacy/disclosures.hpp"
#include "privacy/participants.hpp"
#include "privacy/policy.hpp"
#include "privacy/requests.hpp"
#include "sso/sign_ins.hpp"
#include "storage/object_store.hpp"
#include "video/uploads.hpp"
#include "video/videos.hpp"
#include "workers/task_processor.hpp"

namespace framehouse::app {

struct Services {
  db::Database& database;
  const plugins::PluginHost& plugins;
  const observability::Metrics& metrics;
  accounts::Accounts& accounts;
  billing::Billing& billing;
  video::Uploads& uploads;
  video::Videos& videos;
  privacy::PrivacyRequests& privacy;
  storage::ObjectStore& objects;
  audit::AuditLog& audit;
  privacy::Communications& communications;
  privacy::Policy* policy;  // null: no policy configured
  const privacy::Participants& participants;
  privacy::Disclosures& disclosures;
  privacy::Analytics& analytics;
  jobs::JobQueue& outbox;
  sso::SignIns& sign_ins;
  const workers::TaskProcessor* handlers = nullptr;  // the handler pool, for readiness
};

void add_routes(http::Router& router, const Services& services);

// The OpenAPI 3.1 description (docs/openapi.yaml, converted to JSON at build time).
std::string_view openapi_json();

}  // namespace framehouse::app
