#include "billing/routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "accounts/routes.hpp"
#include "clock/clock.hpp"
#include "crypto/crypto.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"

namespace framehouse::billing {
namespace {

namespace json = boost::json;
using accounts::AuthContext;
using http::Request;
using http::Response;

json::object subscription_json(const Subscription& subscription, const Plan& plan, const sdk::PaymentCapabilities& offered) {
  return {{"object", "subscription"},
          {"plan", subscription.plan},
          {"status", to_string(subscription.status)},
          {"current_period_end", subscription.current_period_end ? json::value(*subscription.current_period_end)
                                                                 : json::value(nullptr)},
          {"auto_renew", subscription.auto_renew},
          {"paid_through", subscription.paid_through ? json::value(*subscription.paid_through) : json::value(nullptr)},
          {"prepaid_periods", subscription.prepaid_periods},
          {"grace_until", subscription.grace_until ? json::value(*subscription.grace_until) : json::value(nullptr)},
          {"billed_by_processor", subscription.billed_by_processor},
          // What the app may offer: buying a plan here, and the processor's page for the card.
          {"checkout_available", offered.checkout && !subscription.billed_by_processor},
          {"payment_portal_available", offered.portal && subscription.billed_by_processor},
          {"entitlements", json::object{{"max_seconds", plan.max_seconds},
                                        {"max_side", plan.max_side},
                                        {"videos_per_day", plan.videos_per_day},
                                        {"concurrent_jobs", plan.concurrent_jobs},
                                        {"watermark", plan.watermark},
                                        {"retention_days", plan.retention_seconds / (24 * 3600)}}}};
}

// The subscription with the plan it is on, and the plans that can be bought in the app.
json::object current_json(Billing& billing, const std::string& user_id) {
  const auto subscription = billing.subscription(user_id);
  auto body = subscription_json(subscription, billing.config().plans.at(subscription.plan), billing.capabilities());
  json::array for_sale;
  if (body.at("checkout_available").as_bool()) {
    for (const auto& [name, plan] : billing.config().plans) {
      if (name != billing.config().default_plan) for_sale.emplace_back(name);
    }
  }
  body["plans_for_sale"] = std::move(for_sale);
  return body;
}

Response current(Billing& billing, const std::string& user_id) { return Response::json(200, current_json(billing, user_id)); }

// The same with what of the plan's allowance is used now, counted as the limits count (the
// last 24 hours), so that an app can show "7 of 10" before anyone submits.
Response current_with_usage(Billing& billing, video::Videos& videos, const std::string& user_id) {
  constexpr std::int64_t kDay = 24 * 3600;
  auto body = current_json(billing, user_id);
  body["usage"] = json::object{{"videos_last_24_hours", videos.created_since(user_id, unix_now() - kDay)},
                               {"jobs_in_progress", videos.active_jobs(user_id)}};
  return Response::json(200, body);
}

// What names an attempt at the processor: the client's Idempotency-Key (sent again, the same
// session), or a new id. nullopt for a key that is empty or too long.
std::optional<std::string> operation_of(const Request& request) {
  const auto key = request.header("idempotency-key");
  if (!key) return crypto::random_id("", 16);
  if (key->empty() || key->size() > 100) return std::nullopt;
  return crypto::token_hash(*key).substr(0, 32);
}

// A payment processor's refusal in the API's terms; `field` is the one a bad argument is about.
Response payment_problem(const Request& request, const sdk::Outcome& outcome, const std::string& field) {
  switch (outcome.status()) {
    case sdk::Status::invalid_argument:
      if (!field.empty()) return http::validation_problem(request, {{field, outcome.message()}});
      return http::problem(http::problems::kBadRequest, outcome.message(), request.request_id);
    case sdk::Status::unsupported: return http::problem(http::problems::kNotSupported, outcome.message(), request.request_id);
    case sdk::Status::conflict: return http::problem(http::problems::kConflict, outcome.message(), request.request_id);
    case sdk::Status::not_found: return http::problem(http::problems::kConflict, outcome.message(), request.request_id);
    default: return http::problem(http::problems::kUnavailable, outcome.message(), request.request_id);
  }
}

}  // namespace

void add_billing_routes(http::Router& router, accounts::Accounts& accounts, Billing& billing, video::Videos& videos) {
  router.add("GET", "/v1/subscription",
             accounts::signed_in(accounts, accounts::Scope::account_read, [&billing, &videos](Request&, const AuthContext& who) {
               return current_with_usage(billing, videos, who.user_id);
             }));

  router.add("PATCH", "/v1/subscription", accounts::session_only(accounts, [&billing](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"auto_renew"});
               if (fields.rejection()) return *fields.rejection();
               const auto auto_renew = fields.boolean("auto_renew", true);
               if (!fields.ok()) return fields.problem(request);
               const auto changed = billing.set_auto_renew(who.user_id, *auto_renew);
               if (!changed) return http::problem(http::problems::kConflict, changed.message(), request.request_id);
               return current(billing, who.user_id);
             }));

  router.add("POST", "/v1/billing/checkout", accounts::session_only(accounts, [&billing](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"plan"});
               if (fields.rejection()) return *fields.rejection();
               const auto plan = fields.string("plan", true, 100);
               if (!fields.ok()) return fields.problem(request);
               const auto operation = operation_of(request);
               if (!operation) return http::validation_problem(request, {{"Idempotency-Key", "must be 1 to 100 characters"}});
               auto started = billing.start_checkout(who.user_id, *plan, *operation);
               if (!started) return payment_problem(request, started.outcome(), "plan");
               return Response::json(201, json::object{{"object", "checkout_session"},
                                                       {"id", started.value().id},
                                                       {"url", started.value().url}});
             }));

  router.add("POST", "/v1/billing/portal", accounts::session_only(accounts, [&billing](Request& request, const AuthContext& who) -> Response {
               const auto operation = operation_of(request);
               if (!operation) return http::validation_problem(request, {{"Idempotency-Key", "must be 1 to 100 characters"}});
               auto portal = billing.portal_url(who.user_id, *operation);
               if (!portal) return payment_problem(request, portal.outcome(), "");
               return Response::json(200, json::object{{"object", "payment_portal_session"}, {"url", portal.value()}});
             }));

  // The processor's events, signed by it: no account, the signature is the authentication.
  // 2xx only once the event is committed, so that the processor sends again whatever we lost.
  router.add("POST", "/v1/billing/webhooks/{plugin}", [&billing](Request& request) -> Response {
    sdk::WebhookRequest webhook;
    for (const auto& [name, value] : request.headers) webhook.headers.emplace(name, value);
    webhook.body = request.body;
    const auto received = billing.receive_webhook(request.path_params.at("plugin"), webhook);
    if (!received) {
      switch (received.outcome().status()) {
        case sdk::Status::not_found:
        case sdk::Status::unsupported: return http::problem(http::problems::kNotFound, "", request.request_id);
        case sdk::Status::permission_denied:
        case sdk::Status::invalid_argument:
          // Nothing was applied; the body is not logged (it is a person's payment data).
          return http::problem(http::problems::kBadRequest, "the event was refused: " + received.outcome().message(),
                               request.request_id);
        default: return http::problem(http::problems::kUnavailable, received.outcome().message(), request.request_id);
      }
    }
    const char* result = received.value() == WebhookResult::applied   ? "applied"
                         : received.value() == WebhookResult::duplicate ? "duplicate"
                                                                        : "ignored";
    return Response::json(200, json::object{{"received", true}, {"result", result}});
  });

  // Staff answering "why can I not make longer videos?" see the plan with the account.
  router.add("GET", "/v1/admin/users/{id}/subscription",
             accounts::with_permission(accounts, accounts::Permission::view_users, [&accounts, &billing, &videos](Request& request, const AuthContext&) -> Response {
               const std::string& user_id = request.path_params.at("id");
               if (!accounts.find(user_id)) return http::problem(http::problems::kNotFound, "", request.request_id);
               return current_with_usage(billing, videos, user_id);
             }));

  router.add("POST", "/v1/admin/users/{id}/subscription",
             accounts::with_permission(accounts, accounts::Permission::grant_plans, [&accounts, &billing](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"plan", "periods"});
               if (fields.rejection()) return *fields.rejection();
               const auto plan = fields.string("plan", true, 100);
               int periods = 1;
               if (const auto* value = fields.object().if_contains("periods")) {
                 if (value->is_int64()) periods = static_cast<int>(value->as_int64());
                 else fields.add_error("periods", "must be a whole number");
               }
               if (!fields.ok()) return fields.problem(request);
               const std::string& user_id = request.path_params.at("id");
               auto granted = billing.grant(user_id, *plan, periods);
               if (!granted) {
                 switch (granted.outcome().status()) {
                   case sdk::Status::not_found: return http::problem(http::problems::kNotFound, "", request.request_id);
                   case sdk::Status::invalid_argument:
                     return http::validation_problem(
                         request, {{granted.outcome().message().rfind("must", 0) == 0 ? "periods" : "plan",
                                    granted.outcome().message()}});
                   default: return http::problem(http::problems::kUnavailable, granted.outcome().message(), request.request_id);
                 }
               }
               if (auto* log = accounts.audit_log()) {
                 log->record(who.user_id, "admin.grant_plan", user_id,
                             boost::json::serialize(boost::json::object{{"plan", *plan}, {"periods", periods}}));
               }
               return current(billing, user_id);
             }));

  router.add("DELETE", "/v1/admin/users/{id}/subscription",
             accounts::with_permission(accounts, accounts::Permission::grant_plans, [&accounts, &billing](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"reason", "current_password"});
               if (fields.rejection()) return *fields.rejection();
               const auto reason = fields.string("reason", true, 500);
               if (reason && reason->empty()) fields.add_error("reason", "must not be empty");
               const auto current_password = fields.string("current_password", false, 1024);
               if (!fields.ok()) return fields.problem(request);
               if (auto refused = accounts::require_recent_authentication(accounts, request, who, current_password)) {
                 return *refused;
               }
               const std::string& user_id = request.path_params.at("id");
               auto revoked = billing.revoke(user_id);
               if (!revoked) {
                 switch (revoked.outcome().status()) {
                   case sdk::Status::not_found: return http::problem(http::problems::kNotFound, "", request.request_id);
                   case sdk::Status::conflict:
                     return http::problem(http::problems::kConflict, revoked.outcome().message(), request.request_id);
                   default: return http::problem(http::problems::kUnavailable, revoked.outcome().message(), request.request_id);
                 }
               }
               if (auto* log = accounts.audit_log()) {
                 log->record(who.user_id, "admin.revoke_plan", user_id,
                             boost::json::serialize(boost::json::object{{"plan", revoked.value()}, {"reason", *reason}}));
               }
               return current(billing, user_id);
             }));
}

}  // namespace framehouse::billing
