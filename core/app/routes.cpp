#include "app/routes.hpp"

#include "accounts/routes.hpp"
#include "audit/routes.hpp"
#include "app/operations.hpp"
#include "billing/routes.hpp"
#include "mail/routes.hpp"
#include "privacy/analytics_routes.hpp"
#include "privacy/communication_routes.hpp"
#include "privacy/disclosure_routes.hpp"
#include "privacy/policy_routes.hpp"
#include "privacy/routes.hpp"
#include "privacy/training_export_routes.hpp"
#include "sso/routes.hpp"
#include "video/upload_routes.hpp"
#include "video/video_routes.hpp"

namespace framehouse::app {

void add_routes(http::Router& router, const Services& services) {
  add_operations_routes(router, services.database, services.plugins, services.metrics, services.handlers);
  accounts::add_account_routes(router, services.accounts);
  accounts::add_two_factor_routes(router, services.accounts);
  sso::add_sso_routes(router, services.accounts, services.sign_ins);
  video::add_upload_routes(router, services.accounts, services.uploads);
  billing::add_billing_routes(router, services.accounts, services.billing, services.videos);
  video::add_video_routes(router, services.accounts, services.billing, services.uploads, services.videos);
  privacy::add_privacy_routes(router, services.accounts, services.privacy, services.objects);
  audit::add_audit_routes(router, services.accounts, services.audit);
  privacy::add_communication_routes(router, services.accounts, services.communications);
  mail::add_outbox_routes(router, services.accounts, services.outbox);
  privacy::add_policy_routes(router, services.accounts, services.policy, services.participants);
  privacy::add_disclosure_routes(router, services.accounts, services.disclosures);
  privacy::add_analytics_routes(router, services.accounts, services.analytics);
  privacy::add_training_export_route(router, services.accounts, services.database);
  router.add("GET", "/v1/openapi.json", [](http::Request&) {
    return http::Response::text(200, std::string(openapi_json()), "application/json");
  });
}

}  // namespace framehouse::app
