#include "privacy/routes.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "accounts/validation.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"
#include "storage/object_stream.hpp"

namespace framehouse::privacy {
namespace {

// Receipt links are unguessable; the limit keeps anyone from trying many.
constexpr int kReceiptLookupsPerHour = 30;

namespace json = boost::json;
using accounts::AuthContext;
using http::Request;
using http::Response;

json::value optional_value(const std::optional<std::string>& value) { return value ? json::value(*value) : json::value(nullptr); }
json::value optional_value(const std::optional<std::int64_t>& value) { return value ? json::value(*value) : json::value(nullptr); }

// What the requester sees; admins also get the subject and the per-participant tasks.
json::object request_json(const RequestView& request, bool for_admin) {
  json::object out{{"object", "privacy_request"},
                   {"id", request.id},
                   {"type", request.type},
                   {"source", request.source},
                   {"status", request.status},
                   {"status_reason", optional_value(request.status_reason)},
                   {"created_at", request.created_at},
                   {"starts_at", request.not_before},
                   {"due_at", request.due_at},
                   {"extension_reason", optional_value(request.extension_reason)},
                   {"completed_at", optional_value(request.completed_at)}};
  if (request.type == "access") {
    out["download"] = request.export_ready
                          ? json::value(json::object{{"url", "/v1/privacy/requests/" + request.id + "/download"},
                                                     {"expires_at", optional_value(request.export_expires_at)}})
                          : json::value(nullptr);
  }
  if (request.receipt) {
    boost::system::error_code ec;
    out["receipt"] = json::parse(*request.receipt, ec);
  }
  if (for_admin) {
    out["subject_id"] = optional_value(request.subject_id);
    json::array tasks;
    for (const auto& task : request.tasks) {
      json::value outcome = nullptr;
      if (task.outcome) {
        boost::system::error_code ec;
        outcome = json::parse(*task.outcome, ec);
      }
      tasks.push_back(json::object{{"participant", task.participant},
                                   {"stage", task.stage},
                                   {"status", task.status},
                                   {"attempts", task.attempts},
                                   {"next_attempt_at", task.next_attempt_at},
                                   {"last_error", optional_value(task.last_error)},
                                   {"outcome", outcome},
                                   {"completed_at", optional_value(task.completed_at)}});
    }
    out["tasks"] = std::move(tasks);
  }
  return out;
}

json::object hold_json(const LegalHold& hold) {
  return {{"object", "legal_hold"},          {"id", hold.id},
          {"user_id", hold.subject_id},      {"reason", hold.reason},
          {"reference", hold.reference},     {"expires_at", optional_value(hold.expires_at)},
          {"placed_by", hold.placed_by},     {"placed_at", hold.placed_at},
          {"lifted_at", optional_value(hold.lifted_at)}};
}

Response list_json(const std::vector<RequestView>& requests, bool for_admin) {
  json::array data;
  for (const auto& request : requests) data.push_back(request_json(request, for_admin));
  return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
}

Response not_found(const Request& request) { return http::problem(http::problems::kNotFound, "", request.request_id); }

Response submission_response(const Submission& submission) {
  json::object body = request_json(submission.request, false);
  body["duplicate"] = submission.duplicate;
  return Response::json(submission.duplicate ? 200 : 202, body);
}

bool is_request_type(const std::string& type) {
  return std::find(std::begin(kRequestTypes), std::end(kRequestTypes), type) != std::end(kRequestTypes);
}

// The type, and for a rectification the change, from the body; problems are added to fields.
std::pair<std::string, std::optional<sdk::Rectification>> read_request(http::JsonFields& fields, bool allow_email_change) {
  const auto type = fields.string("type", true, 32);
  if (type && !is_request_type(*type)) fields.add_error("type", "must be access, erasure or rectification");
  std::optional<sdk::Rectification> change;
  const auto field = fields.string("field", false, 32);
  const auto value = fields.string("value", false, 1024);
  if (type && *type == "rectification") {
    if (!field || !value) {
      fields.add_error(field ? "value" : "field", "is required for a rectification");
    } else if (*field == "name") {
      if (auto problem = accounts::name_problem(*value)) fields.add_error("value", *problem);
      change = sdk::Rectification{*field, "", *value};
    } else if (*field == "email" && allow_email_change) {
      const auto email = accounts::normalise_email(*value);
      if (!email) fields.add_error("value", "is not a valid email address");
      change = sdk::Rectification{*field, "", email.value_or("")};
    } else {
      fields.add_error("field", allow_email_change ? "must be name or email"
                                                   : "must be name (change your email address with PATCH /v1/me, which "
                                                     "confirms the new address first)");
    }
  } else if (field || value) {
    fields.add_error(field ? "field" : "value", "applies only to a rectification");
  }
  return {type.value_or(""), change};
}

}  // namespace

void add_privacy_routes(http::Router& router, accounts::Accounts& accounts, PrivacyRequests& requests,
                        storage::ObjectStore& objects) {
  using accounts::Permission;
  using accounts::with_permission;
  using accounts::signed_in;

  router.add("POST", "/v1/privacy/requests", session_only(accounts, [&](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"type", "field", "value"});
               if (fields.rejection()) return *fields.rejection();
               auto [type, change] = read_request(fields, false);
               if (!fields.ok()) return fields.problem(request);
               const auto user = accounts.find(who.user_id);
               return submission_response(
                   requests.submit({type, "user", who.user_id, user ? user->email : "", change, "", who.user_id}));
             }));

  router.add("GET", "/v1/privacy/requests", session_only(accounts, [&](Request&, const AuthContext& who) {
               return list_json(requests.list_for(who.user_id), false);
             }));

  router.add("GET", "/v1/privacy/requests/{id}", session_only(accounts, [&](Request& request, const AuthContext& who) {
               const auto found = requests.find(request.path_params.at("id"));
               if (!found || found->subject_id != who.user_id) return not_found(request);
               return Response::json(200, request_json(*found, false));
             }));

  router.add("POST", "/v1/privacy/requests/{id}/cancel", session_only(accounts, [&](Request& request, const AuthContext& who) {
               const std::string id = request.path_params.at("id");
               const auto found = requests.find(id);
               if (!found || found->subject_id != who.user_id) return not_found(request);
               if (auto canceled = requests.cancel(id, "canceled by the requester", who.user_id); !canceled) {
                 return http::problem(http::problems::kConflict, canceled.message(), request.request_id);
               }
               return Response::json(200, request_json(*requests.find(id), false));
             }));

  // The subject signed in, or the link from the email (which works without signing in, e.g.
  // for someone who asked by email); anyone else learns nothing.
  router.add("GET", "/v1/privacy/requests/{id}/download", [&](Request& request) -> Response {
    // The subject signed in (a bearer token, or the app's session cookie), or the mailed token.
    std::string user_id;
    auto who = accounts::authenticate_request(accounts, request);
    if (auto* signed_in = std::get_if<AuthContext>(&who)) {
      user_id = signed_in->user_id;
    } else if (request.header("authorization")) {
      return std::move(std::get<Response>(who));
    }
    const std::string id = request.path_params.at("id");
    auto download = requests.download(id, user_id, request.query_param("token").value_or(""));
    if (!download) {
      if (download.outcome().status() == sdk::Status::not_found) return not_found(request);
      if (download.outcome().status() == sdk::Status::conflict) {
        return http::problem(http::problems::kConflict, download.outcome().message(), request.request_id);
      }
      return http::problem(http::problems::kUnavailable, "the export cannot be read now", request.request_id);
    }
    Response response;
    response.set_header("Content-Type", "application/zip");
    response.set_header("Content-Disposition", "attachment; filename=\"framehouse-export-" + id + ".zip\"");
    response.set_header("Cache-Control", "no-store");
    response.stream = std::make_shared<storage::ObjectStream>(objects, download->key, download->person);
    return response;
  });

  router.add("DELETE", "/v1/me", session_only(accounts, [&](Request& request, const AuthContext& who) -> http::Response {
               http::JsonFields fields(request, {"current_password"});
               if (fields.rejection()) return *fields.rejection();
               const auto current_password = fields.string("current_password", false, 1024);
               if (!fields.ok()) return fields.problem(request);
               if (auto refused = accounts::require_recent_authentication(accounts, request, who, current_password)) {
                 return *refused;
               }
               return submission_response(requests.delete_account(who.user_id));
             }));

  router.add("POST", "/v1/privacy/intake", [&](Request& request) -> Response {
    http::JsonFields fields(request, {"email", "type"});
    if (fields.rejection()) return *fields.rejection();
    const auto email = fields.string("email", true, 320);
    const auto type = fields.string("type", true, 32);
    if (type && *type != "access" && *type != "erasure") fields.add_error("type", "must be access or erasure");
    if (!fields.ok()) return fields.problem(request);
    auto id = requests.intake(*email, *type, request.remote_address);
    if (!id && id.outcome().status() == sdk::Status::invalid_argument) {
      return http::validation_problem(request, {{"email", id.outcome().message()}});
    }
    if (!id) return http::retry_later(http::problems::kTooManyRequests, id.outcome().message(), request.request_id, std::chrono::hours(1));
    // The same answer whether or not the address has an account.
    return Response::json(202, json::object{{"object", "privacy_intake"},
                                            {"id", id.value()},
                                            {"status", "unverified"},
                                            {"next", "POST /v1/privacy/intake/" + id.value() + "/verify with the code sent by email"}});
  });

  router.add("POST", "/v1/privacy/intake/{id}/verify", [&](Request& request) -> Response {
    http::JsonFields fields(request, {"code"});
    if (fields.rejection()) return *fields.rejection();
    const auto code = fields.string("code", true, 16);
    if (code && (code->size() != 6 || !std::all_of(code->begin(), code->end(), [](char c) { return c >= '0' && c <= '9'; }))) {
      fields.add_error("code", "must be the 6 digits from the email");
    }
    if (!fields.ok()) return fields.problem(request);
    auto verified = requests.verify_intake(request.path_params.at("id"), *code);
    if (!verified && verified.outcome().status() == sdk::Status::invalid_argument) {
      return http::validation_problem(request, {{"code", verified.outcome().message()}});
    }
    if (!verified) return not_found(request);
    const auto found = requests.find(verified->request_id);
    return Response::json(200, json::object{{"object", "privacy_intake"},
                                            {"id", verified->request_id},
                                            {"duplicate", verified->duplicate},
                                            {"status", found ? found->status : "pending"},
                                            {"due_at", found ? found->due_at : 0}});
  });

  // The requester is signed out (or has no account) by the time the erasure ends: the link in
  // the last mail is how they fetch the receipt, whoever else verifies it.
  router.add("GET", "/v1/privacy/receipts/{token}", [&](Request& request) -> Response {
    if (!accounts.within_client_limit("receipt", request.remote_address, kReceiptLookupsPerHour, 3600)) {
      return http::retry_later(http::problems::kTooManyRequests, "too many receipt lookups; try again later", request.request_id,
                               std::chrono::hours(1));
    }
    auto receipt = requests.receipt_by_token(request.path_params.at("token"));
    if (!receipt) return not_found(request);
    Response response = Response::json(200, json::parse(receipt.value()));
    response.set_header("Cache-Control", "no-store");
    response.set_header("Referrer-Policy", "no-referrer");
    return response;
  });

  router.add("GET", "/.well-known/framehouse-receipt-key", [&](Request&) {
    return Response::json(200, json::object{{"algorithm", "Ed25519"},
                                            {"public_key", requests.signer().public_key_base64()},
                                            {"public_key_pem", requests.signer().public_key_pem()},
                                            {"key_id", requests.signer().key_id()},
                                            {"signed", "the bytes of a receipt's \"payload\" string"}});
  });

  // --- admin ---

  router.add("GET", "/v1/admin/privacy/requests", with_permission(accounts, Permission::privacy_requests, [&](Request& request, const AuthContext&) {
               RequestFilter filter;
               filter.status = request.query_param("status").value_or("");
               filter.type = request.query_param("type").value_or("");
               filter.overdue_only = request.query_param("overdue").value_or("") == "true";
               return list_json(requests.list(filter), false);
             }));

  router.add("POST", "/v1/admin/privacy/requests",
             with_permission(accounts, Permission::privacy_requests, [&](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"type", "field", "value", "user_id", "email", "reference"});
               if (fields.rejection()) return *fields.rejection();
               auto [type, change] = read_request(fields, true);
               const auto user_id = fields.string("user_id", false, 64);
               const auto email = fields.string("email", false, 320);
               const auto reference = fields.string("reference", true, 200);
               std::optional<accounts::User> user;
               if (user_id) {
                 user = accounts.find(*user_id);
                 if (!user) fields.add_error("user_id", "no such user");
               } else if (email) {
                 if (!accounts::normalise_email(*email)) fields.add_error("email", "is not a valid email address");
                 user = accounts.find_by_email(*email);
               } else {
                 fields.add_error("user_id", "user_id or email is required");
               }
               if (!fields.ok()) return fields.problem(request);
               const std::string subject_email = user ? user->email : *accounts::normalise_email(*email);
               return submission_response(
                   requests.submit({type, "admin", user ? user->id : "", subject_email, change, *reference, who.user_id}));
             }));

  router.add("GET", "/v1/admin/privacy/requests/{id}", with_permission(accounts, Permission::privacy_requests, [&](Request& request, const AuthContext&) {
               const auto found = requests.find(request.path_params.at("id"), true);
               if (!found) return not_found(request);
               return Response::json(200, request_json(*found, true));
             }));

  const auto admin_action = [&](const char* path, auto action) {
    router.add("POST", path, with_permission(accounts, Permission::privacy_requests, [&requests, action](Request& request, const AuthContext& who) -> Response {
                 const std::string id = request.path_params.at("id");
                 if (!requests.find(id)) return not_found(request);
                 http::JsonFields fields(request, {"reason"});
                 if (fields.rejection()) return *fields.rejection();
                 const auto reason = fields.string("reason", false, 500);
                 if (!fields.ok()) return fields.problem(request);
                 if (auto done = action(id, reason, who.user_id); !done) {
                   if (done.status() == sdk::Status::invalid_argument) return http::validation_problem(request, {{"reason", done.message()}});
                   return http::problem(http::problems::kConflict, done.message(), request.request_id);
                 }
                 return Response::json(200, request_json(*requests.find(id, true), true));
               }));
  };
  admin_action("/v1/admin/privacy/requests/{id}/retry",
               [&requests](const std::string& id, const std::optional<std::string>&, const std::string& actor) {
                 return requests.retry(id, actor);
               });
  admin_action("/v1/admin/privacy/requests/{id}/extend",
               [&requests](const std::string& id, const std::optional<std::string>& reason, const std::string& actor) {
                 if (!reason || reason->empty()) {
                   return sdk::Outcome::failure(sdk::Status::invalid_argument, "is required: the requester is told why");
                 }
                 return requests.extend(id, *reason, actor);
               });
  admin_action("/v1/admin/privacy/requests/{id}/cancel",
               [&requests](const std::string& id, const std::optional<std::string>& reason, const std::string& actor) {
                 return requests.cancel(id, reason.value_or("canceled by an administrator"), actor);
               });

  router.add("POST", "/v1/admin/users/{id}/underage", with_permission(accounts, Permission::privacy_requests, [&](Request& request, const AuthContext& who) {
               const auto user = accounts.find(request.path_params.at("id"));
               if (!user) return not_found(request);
               // Policy §6: a child's account is erased on discovery, without asking anyone to verify.
               return submission_response(requests.submit({"erasure", "underage", user->id, user->email, std::nullopt, "", who.user_id}));
             }));

  router.add("GET", "/v1/admin/legal-holds", with_permission(accounts, Permission::legal_holds, [&](Request& request, const AuthContext&) {
               json::array data;
               for (const auto& hold : requests.holds(request.query_param("user_id").value_or(""))) data.push_back(hold_json(hold));
               return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             }));

  router.add("POST", "/v1/admin/legal-holds", with_permission(accounts, Permission::legal_holds, [&](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"user_id", "reason", "reference", "expires_at"});
               if (fields.rejection()) return *fields.rejection();
               const auto user_id = fields.string("user_id", true, 64);
               const auto reason = fields.string("reason", true, 64);
               const auto reference = fields.string("reference", true, 200);
               std::optional<std::int64_t> expires_at;
               if (const auto* value = fields.object().if_contains("expires_at"); value && !value->is_null()) {
                 if (!value->is_int64()) {
                   fields.add_error("expires_at", "must be a Unix time in seconds");
                 } else {
                   expires_at = value->as_int64();
                 }
               }
               if (reason && std::find(std::begin(kHoldReasons), std::end(kHoldReasons), *reason) == std::end(kHoldReasons)) {
                 fields.add_error("reason", "must be one of freedom_of_expression, legal_obligation, public_health, "
                                            "archiving_research_statistics, legal_claims (GDPR Art. 17(3))");
               }
               if (user_id && !accounts.find(*user_id)) fields.add_error("user_id", "no such user");
               if (!fields.ok()) return fields.problem(request);
               return Response::json(201, hold_json(requests.place_hold(*user_id, *reason, *reference, expires_at, who.user_id)));
             }));

  router.add("DELETE", "/v1/admin/legal-holds/{id}", with_permission(accounts, Permission::legal_holds, [&](Request& request, const AuthContext& who) {
               if (!requests.lift_hold(request.path_params.at("id"), who.user_id)) return not_found(request);
               return Response::no_content();
             }));
}

}  // namespace framehouse::privacy
