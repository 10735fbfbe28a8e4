// The two-factor API: a signed-in owner turns TOTP sign-in on (a secret, its otpauth:// URI and
// QR code; a first code confirms it and returns the recovery codes), replaces the recovery
// codes and turns it off — each with a recent proof of the password or a code. Staff with
// manage_roles turn it off for an owner who lost the device.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "accounts/routes.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"
#include "http/qr_code.hpp"

namespace framehouse::accounts {
namespace {

namespace json = boost::json;
using http::JsonFields;
using http::Request;
using http::Response;

json::object status_json(const TwoFactorStatus& status) {
  return {{"object", "two_factor"},
          {"enabled", status.enabled},
          {"method", status.enabled ? json::value("totp") : json::value(nullptr)},
          {"enabled_at", status.enabled_at ? json::value(*status.enabled_at) : json::value(nullptr)},
          {"enrolment_pending", status.enrolment_pending},
          {"recovery_codes_left", status.recovery_codes_left}};
}

json::object codes_json(const std::vector<std::string>& codes) {
  json::array list;
  for (const auto& code : codes) list.emplace_back(code);
  return {{"recovery_codes", std::move(list)},
          {"message", "Keep these somewhere safe: each one signs you in once without the app. They are not shown again."}};
}

// A handler for a sensitive change whose only field is current_password (optional when the
// session re-authenticated lately).
http::Handler reauthenticated(Accounts& accounts, AuthenticatedHandler handler) {
  return session_only(accounts, [&accounts, handler = std::move(handler)](Request& request, const AuthContext& who) -> Response {
    JsonFields fields(request, {"current_password"});
    if (fields.rejection()) return *fields.rejection();
    const auto current_password = fields.string("current_password", false, 1024);
    if (!fields.ok()) return fields.problem(request);
    if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
    return handler(request, who);
  });
}

}  // namespace

void add_two_factor_routes(http::Router& router, Accounts& accounts) {
  router.add("GET", "/v1/me/two-factor", session_only(accounts, [&accounts](Request&, const AuthContext& who) -> Response {
               return Response::json(200, status_json(accounts.two_factor(who.user_id)));
             }));

  router.add("POST", "/v1/me/two-factor/totp",
             reauthenticated(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               const auto enrolment = accounts.begin_totp_enrolment(who.user_id);
               if (!enrolment) {
                 return http::problem(http::problems::kConflict,
                                      "two-factor sign-in is on already: turn it off first to set up another device",
                                      request.request_id);
               }
               Response response = Response::json(
                   201, json::object{{"object", "totp_enrolment"},
                                     {"secret", enrolment->secret},
                                     {"otpauth_uri", enrolment->uri},
                                     {"qr_code_svg", http::qr_code_svg(enrolment->uri)},
                                     {"confirm", "POST /v1/me/two-factor/totp/confirm with the first code the app shows"}});
               response.set_header("Cache-Control", "no-store");
               return response;
             }));

  router.add("POST", "/v1/me/two-factor/totp/confirm",
             session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               JsonFields fields(request, {"code"});
               if (fields.rejection()) return *fields.rejection();
               const auto code = fields.string("code", true, 16);
               if (!fields.ok()) return fields.problem(request);
               const auto codes = accounts.confirm_totp(who, *code);
               if (codes.empty()) {
                 return http::validation_problem(
                     request, {{"code", "is not the app's current code for the secret being set up (or none is)"}});
               }
               json::object body = codes_json(codes);
               body["two_factor"] = status_json(accounts.two_factor(who.user_id));
               Response response = Response::json(200, body);
               response.set_header("Cache-Control", "no-store");
               rotate_cookie_session(accounts, who, response);  // the session proved a second factor
               return response;
             }));

  router.add("POST", "/v1/me/two-factor/recovery-codes",
             reauthenticated(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               const auto codes = accounts.new_recovery_codes(who.user_id);
               if (codes.empty()) {
                 return http::problem(http::problems::kConflict, "two-factor sign-in is off", request.request_id);
               }
               Response response = Response::json(200, codes_json(codes));
               response.set_header("Cache-Control", "no-store");
               return response;
             }));

  router.add("DELETE", "/v1/me/two-factor",
             reauthenticated(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               if (!accounts.disable_two_factor(who.user_id, false)) {
                 return http::problem(http::problems::kConflict, "two-factor sign-in is off", request.request_id);
               }
               return Response::no_content();
             }));

  // An owner who lost the device and the recovery codes asks staff, who check who they are.
  router.add("DELETE", "/v1/admin/users/{id}/two-factor",
             with_permission(accounts, Permission::manage_roles, [&accounts](Request& request, const AuthContext& who) -> Response {
               JsonFields fields(request, {"current_password"});
               if (fields.rejection()) return *fields.rejection();
               const auto current_password = fields.string("current_password", false, 1024);
               if (!fields.ok()) return fields.problem(request);
               if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
               const std::string id = request.path_params.at("id");
               if (!accounts.disable_two_factor(id, true)) {
                 return http::problem(http::problems::kNotFound, "no account with two-factor sign-in on has this id",
                                      request.request_id);
               }
               if (auto* log = accounts.audit_log()) {
                 log->record(who.user_id, "admin.two_factor_reset", id, json::serialize(json::object{{"method", "totp"}}));
               }
               return Response::no_content();
             }));
}

}  // namespace framehouse::accounts
