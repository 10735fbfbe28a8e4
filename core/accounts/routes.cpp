#include "accounts/routes.hpp"

#include <algorithm>
#include <functional>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "http/html.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"

namespace framehouse::accounts {
namespace {

namespace json = boost::json;
using http::html_escape;
using http::html_page;
using http::JsonFields;
using http::Request;
using http::Response;

std::vector<http::FieldProblem> to_problems(const FieldErrors& errors) {
  std::vector<http::FieldProblem> out;
  for (const auto& error : errors) out.push_back({error.field, error.message});
  return out;
}

json::value optional_time(const std::optional<std::int64_t>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::object user_json(const User& user) {
  return {{"id", user.id},
          {"object", "user"},
          {"email", user.email},
          {"name", user.name},
          {"role", user.role},
          {"email_verified", user.email_verified},
          {"pending_email", user.pending_email ? json::value(*user.pending_email) : json::value(nullptr)},
          {"suspended", user.suspended_at.has_value()},
          {"created_at", user.created_at}};
}

json::object credential_json(const Credential& credential, const std::string& current_id) {
  json::object object{{"id", credential.id},
                      {"created_at", credential.created_at},
                      {"last_used_at", credential.last_used_at},
                      {"expires_at", optional_time(credential.expires_at)}};
  if (credential.kind == "session") {
    object["object"] = "session";
    object["client"] = credential.label;
    object["current"] = credential.id == current_id;
  } else {
    object["object"] = "api_key";
    object["name"] = credential.label;
    json::array scopes;
    for (const Scope scope : credential.scopes) scopes.emplace_back(to_string(scope));
    object["scopes"] = std::move(scopes);
  }
  return object;
}

json::object list_json(json::array data) { return {{"object", "list"}, {"data", std::move(data)}}; }

// Links in mail lead to these pages; a GET only shows a button, so that mail scanners that
// fetch links consume nothing.
Response confirmation_form(std::string_view title, std::string_view action, const std::string& token,
                           std::string_view extra_fields, std::string_view button) {
  return html_page(200, title,
                   "<form method=\"post\" action=\"" + std::string(action) + "\"><input type=\"hidden\" name=\"token\" value=\"" +
                       html_escape(token) + "\">" + std::string(extra_fields) + "<button type=\"submit\">" +
                       std::string(button) + "</button></form>");
}

std::string session_cookie_name(const Accounts& accounts) {
  // "__Host-": a browser takes it only from a secure origin, for this host alone, path "/".
  return accounts.secure_cookies() ? "__Host-fh_session" : "fh_session";
}

std::string csrf_cookie_name(const Accounts& accounts) {
  return accounts.secure_cookies() ? "__Host-fh_csrf" : "fh_csrf";
}

// Whether a sign-in asks for a browser session. Only a JSON request may: a form another site
// posts could otherwise sign the visitor into the other site's choice of account.
bool wants_session_cookie(JsonFields& fields) {
  const bool wanted = fields.boolean("session_cookie", false).value_or(false);
  if (wanted && fields.from_form()) fields.add_error("session_cookie", "is for JSON requests (the web app) only");
  return wanted;
}

std::string client_label(const Request& request, const std::optional<std::string>& given) {
  if (given && !given->empty()) return given->substr(0, 200);
  return std::string(request.header("user-agent").value_or("unknown client")).substr(0, 200);
}

Response sign_in_response(Accounts& accounts, const Request& request, const SignInResult& result, bool session_cookie) {
  switch (result.status) {
    case SignInResult::Status::signed_in: break;
    case SignInResult::Status::throttled:
      return http::retry_later(http::problems::kTooManyRequests, "too many failed sign-ins; try again later", request.request_id,
                               std::chrono::seconds(result.retry_after_seconds));
    case SignInResult::Status::bad_credentials:
      return http::problem(http::problems::kInvalidCredentials, "", request.request_id);
    case SignInResult::Status::second_factor_required:
      return http::problem(http::problems::kTwoFactorRequired,
                           "send a code from your authenticator app (or a recovery code) with the challenge to "
                           "POST /v1/sessions/two-factor",
                           request.request_id,
                           json::object{{"challenge", result.challenge}, {"challenge_expires_at", result.challenge_expires_at}});
    case SignInResult::Status::suspended:
      return http::problem(http::problems::kAccountSuspended, "this account is suspended: ask your administrator",
                           request.request_id);
    case SignInResult::Status::identity_provider_only:
      return http::problem(http::problems::kIdentityProviderOnly,
                           "this account signs in through your organisation's sign-in only (GET /v1/sso lists them)",
                           request.request_id);
    case SignInResult::Status::frozen:
      // The hold's existence only: its ground was mailed to the person, and is not for whoever
      // holds the password.
      return http::problem(http::problems::kAccountFrozen,
                           "an erasure of this account waits under a legal hold; until the hold ends no one can sign in,"
                           " and you will be told by mail when it does",
                           request.request_id);
  }
  if (session_cookie) {
    // A browser keeps the token where its scripts cannot read it; the body carries only the
    // CSRF token its state-changing requests send back.
    Response response = Response::json(201, json::object{{"token_type", "cookie"},
                                                         {"csrf_token", accounts.csrf_token(result.session.id)},
                                                         {"expires_at", optional_time(result.session.expires_at)},
                                                         {"session", credential_json(result.session, result.session.id)}});
    set_session_cookies(accounts, response, result.token, result.session.id);
    return response;
  }
  return Response::json(201, json::object{{"token", result.token},
                                          {"token_type", "Bearer"},
                                          {"expires_at", optional_time(result.session.expires_at)},
                                          {"session", credential_json(result.session, result.session.id)}});
}

}  // namespace

void set_session_cookies(Accounts& accounts, Response& response, const std::string& token, const std::string& session_id) {
  const std::int64_t lifetime = accounts.session_lifetime_seconds();
  const bool secure = accounts.secure_cookies();
  response.add_header("Set-Cookie", http::to_header_value({session_cookie_name(accounts), token, lifetime, true, secure, "Lax"}));
  // Readable by the app's scripts, which send it back as X-CSRF-Token; checked against the
  // session it was made for (a signed double-submit token), so a planted cookie is useless.
  response.add_header("Set-Cookie", http::to_header_value({csrf_cookie_name(accounts), accounts.csrf_token(session_id),
                                                           lifetime, false, secure, "Strict"}));
  response.set_header("Cache-Control", "no-store");
}

void rotate_cookie_session(Accounts& accounts, const AuthContext& who, Response& response) {
  if (!who.from_cookie) return;  // a bearer client keeps the token it holds
  if (const auto token = accounts.rotate_session_token(who)) set_session_cookies(accounts, response, *token, who.credential_id);
}

void clear_session_cookies(const Accounts& accounts, Response& response) {
  const bool secure = accounts.secure_cookies();
  response.add_header("Set-Cookie", http::to_header_value({session_cookie_name(accounts), "", 0, true, secure, "Lax"}));
  response.add_header("Set-Cookie", http::to_header_value({csrf_cookie_name(accounts), "", 0, false, secure, "Strict"}));
}

std::variant<AuthContext, Response> authenticate_request(Accounts& accounts, const Request& request) {
  const std::string_view header = request.header("authorization").value_or("");
  constexpr std::string_view kScheme = "Bearer ";
  std::optional<AuthContext> context;
  const auto cookie = header.empty() ? request.cookie(session_cookie_name(accounts)) : std::nullopt;
  if (header.size() > kScheme.size() && std::equal(kScheme.begin(), kScheme.end(), header.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      })) {
    context = accounts.authenticate(std::string(header.substr(kScheme.size())));
  } else if (cookie && cookie->rfind("fhs_", 0) == 0) {  // a cookie only ever carries a session
    context = accounts.authenticate(*cookie);
    if (context) context->from_cookie = true;
  }
  if (!context) {
    Response response = http::problem(http::problems::kUnauthorized,
                                      !header.empty() ? "the token is not valid"
                                      : cookie        ? "the session has ended: sign in again"
                                                      : "send Authorization: Bearer <token>",
                                      request.request_id);
    response.set_header("WWW-Authenticate", "Bearer");
    if (cookie) clear_session_cookies(accounts, response);
    return response;
  }
  // A browser sends the cookie with requests other sites cause, too; what changes anything
  // must prove it came from the app (which alone can read the CSRF token).
  const bool safe_method = request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS";
  if (context->from_cookie && !safe_method &&
      !accounts.csrf_token_matches(*context, request.header("x-csrf-token").value_or(""))) {
    return http::problem(http::problems::kCsrfTokenInvalid,
                         "a request made with the session cookie needs the session's token in X-CSRF-Token (the "
                         "fh_csrf cookie holds it)",
                         request.request_id);
  }
  // Global Privacy Control (CCPA regulations §7025): the browser's signal is an opt-out of sale
  // and sharing for the signed-in person, with nothing else asked of them.
  if (request.header("sec-gpc") == "1") accounts.record_global_privacy_control(context->user_id);
  return *context;
}

namespace {

Response key_refused(const Request& request, std::string_view detail, std::optional<Scope> missing) {
  json::object extra;
  if (missing) extra["missing_scope"] = to_string(*missing);
  return http::problem(http::problems::kForbidden, detail, request.request_id, std::move(extra));
}

}  // namespace

http::Handler signed_in(Accounts& accounts, Scope scope, AuthenticatedHandler handler) {
  return [&accounts, scope, handler = std::move(handler)](Request& request) -> Response {
    auto who = authenticate_request(accounts, request);
    if (auto* failure = std::get_if<Response>(&who)) return std::move(*failure);
    const auto& caller = std::get<AuthContext>(who);
    if (!caller.allows(scope)) {
      return key_refused(request, fmt::format("this API key lacks the {} scope", to_string(scope)), scope);
    }
    return handler(request, caller);
  };
}

std::optional<Response> require_recent_authentication(Accounts& accounts, const Request& request, const AuthContext& who,
                                                      const std::optional<std::string>& current_password) {
  if (!current_password && accounts.recently_authenticated(who)) return std::nullopt;
  if (!current_password) {
    return http::problem(http::problems::kReauthenticationRequired,
                         "this change needs your password: send current_password with it, or confirm it first with "
                         "POST /v1/sessions/current/reauthenticate (a sign-in counts for a few minutes)",
                         request.request_id);
  }
  switch (accounts.reauthenticate(who, *current_password)) {
    case Accounts::Reauthentication::confirmed: return std::nullopt;
    case Accounts::Reauthentication::wrong_password:
      return http::validation_problem(request, {{"current_password", "is not correct"}});
    case Accounts::Reauthentication::throttled: break;
  }
  return retry_later(http::problems::kTooManyRequests, "too many wrong passwords; try again later", request.request_id,
                     std::chrono::minutes(15));
}

http::Handler session_only(Accounts& accounts, AuthenticatedHandler handler) {
  return [&accounts, handler = std::move(handler)](Request& request) -> Response {
    auto who = authenticate_request(accounts, request);
    if (auto* failure = std::get_if<Response>(&who)) return std::move(*failure);
    const auto& caller = std::get<AuthContext>(who);
    if (!caller.is_session()) {
      return key_refused(request,
                         "an API key cannot do this (keys, sessions, the account, billing and privacy requests are managed "
                         "signed in)",
                         std::nullopt);
    }
    return handler(request, caller);
  };
}

http::Handler with_permission(Accounts& accounts, Permission permission, AuthenticatedHandler handler) {
  return [&accounts, permission, handler = std::move(handler)](Request& request) -> Response {
    auto who = authenticate_request(accounts, request);
    if (auto* failure = std::get_if<Response>(&who)) return std::move(*failure);
    const auto& staff = std::get<AuthContext>(who);
    const bool permitted = staff.is_session() && role_allows(staff.role, permission);
    const bool needs_second_factor = permitted && accounts.lacks_required_second_factor(staff);
    const bool allowed = permitted && !needs_second_factor;
    Response response =
        allowed ? handler(request, staff)
        : needs_second_factor
            ? http::problem(http::problems::kTwoFactorEnrolmentRequired,
                            fmt::format("the {} role works only in a session signed in with a second factor: turn on "
                                        "two-factor sign-in (POST /v1/me/two-factor/totp), or sign in again with it",
                                        staff.role),
                            request.request_id)
            : http::problem(http::problems::kForbidden,
                            staff.is_session() ? fmt::format("this needs a role with the {} permission", permission_name(permission))
                                               : std::string("an API key never acts as staff: sign in"),
                            request.request_id);
    // Every call by a signed-in account, refused ones and reads included (staff looking at a
    // person's data is an action): the path holds internal ids only; the query string and
    // body are not recorded.
    if (auto* log = accounts.audit_log()) {
      const auto id = request.path_params.find("id");
      std::string method = request.method;
      std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
      log->record(staff.user_id, (allowed ? "admin." : "admin.refused.") + method,
                  id == request.path_params.end() ? "" : id->second,
                  boost::json::serialize(boost::json::object{{"path", request.path}, {"status", response.status}}));
    }
    return response;
  };
}

void add_account_routes(http::Router& router, Accounts& accounts) {
  router.add("POST", "/v1/accounts", [&accounts](Request& request) -> Response {
    JsonFields fields(request, {"name", "email", "password", "date_of_birth"});
    if (fields.rejection()) return *fields.rejection();
    SignUpRequest sign_up;
    sign_up.name = fields.string("name", true, 400).value_or("");
    sign_up.email = fields.string("email", true, 320).value_or("");
    sign_up.password = fields.string("password", true, 1024).value_or("");
    sign_up.date_of_birth = fields.string("date_of_birth", true, 10).value_or("");
    if (!fields.ok()) {
      // Report the content problems of the fields that were given, too, in one answer.
      for (const auto& error : accounts.check_sign_up(sign_up)) {
        if (fields.object().contains(error.field)) fields.add_error(error.field, error.message);
      }
      return fields.problem(request);
    }
    FieldErrors errors;
    switch (accounts.sign_up(sign_up, errors)) {
      case SignUpStatus::invalid: return http::validation_problem(request, to_problems(errors));
      case SignUpStatus::underage:
        return http::problem(http::problems::kAgeRequirement, "this service is not available to you", request.request_id);
      case SignUpStatus::accepted: break;
    }
    return Response::json(202, json::object{{"status", "verification_pending"},
                                            {"message", "If the address can be used, a confirmation link is on its way."}});
  });

  // The first admin of a fresh installation, with the link the server printed at start.
  router.add("POST", "/v1/setup/first-admin", [&accounts](Request& request) -> Response {
    JsonFields fields(request, {"token", "name", "email", "password"});
    if (fields.rejection()) return *fields.rejection();
    const auto token = fields.string("token", true, 200);
    const auto name = fields.string("name", true, 400);
    const auto email = fields.string("email", true, 320);
    const auto password = fields.string("password", true, 1024);
    if (!fields.ok()) return fields.problem(request);
    FieldErrors errors;
    std::string user_id;
    switch (accounts.create_first_admin(*token, *name, *email, *password, errors, user_id)) {
      case Accounts::FirstAdmin::invalid: return http::validation_problem(request, to_problems(errors));
      case Accounts::FirstAdmin::token_unusable:
        return http::problem(http::problems::kSetupLinkUnusable,
                             "start the server again for a new link, or use `framehouse admin create-user --admin`",
                             request.request_id);
      case Accounts::FirstAdmin::created: break;
    }
    return Response::json(201, user_json(*accounts.find(user_id)));
  });

  // A link mailed with a single-use token: the GET shows a button (mail scanners that fetch
  // links consume nothing), the POST — the button's form, or JSON — acts.
  struct MailedLink {
    std::string path, title, button, done_title, done_text, done_status;
    std::function<bool(const std::string& token)> act;
  };
  const auto mailed_link_routes = [&router](MailedLink link) {
    router.add("GET", link.path, [link](Request& request) -> Response {
      return confirmation_form(link.title, link.path, request.query_param("token").value_or(""), "", link.button);
    });
    router.add("POST", link.path, [link](Request& request) -> Response {
      JsonFields fields(request, {"token"});
      if (fields.rejection()) return *fields.rejection();
      const auto token = fields.string("token", true, 200);
      if (!fields.ok()) return fields.problem(request);
      const bool done = link.act(*token);
      if (fields.from_form()) {
        return done ? html_page(200, link.done_title, "<p>" + link.done_text + "</p>")
                    : html_page(400, "This link cannot be used", "<p>It was used already or has expired.</p>");
      }
      if (!done) return http::validation_problem(request, {{"token", "is unknown, used or expired"}});
      return Response::json(200, json::object{{"status", link.done_status}});
    });
  };
  mailed_link_routes({"/v1/accounts/verify-email", "Confirm your email address", "Confirm", "Email address confirmed",
                      "You can close this page and sign in.", "verified",
                      [&accounts](const std::string& token) { return accounts.confirm_email(token); }});
  // The link mailed to the old address when the address is changed.
  mailed_link_routes({"/v1/accounts/revert-email", "Undo the change of your email address",
                      "Undo it, and sign out every session and API key", "The change was undone",
                      "Your account keeps its address, and everyone was signed out. Check your mail for a link to choose "
                      "a new password.",
                      "reverted", [&accounts](const std::string& token) { return accounts.revert_email_change(token); }});

  router.add("POST", "/v1/sessions/current/reauthenticate",
             session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               JsonFields fields(request, {"password", "code"});
               if (fields.rejection()) return *fields.rejection();
               const auto code = fields.string("code", false, 32);
               const auto password = fields.string("password", !code.has_value(), 1024);
               if (!fields.ok()) return fields.problem(request);
               // The session is worth more now: a browser's gets a new token.
               const auto confirmed = [&accounts, &who] {
                 Response response = Response::no_content();
                 rotate_cookie_session(accounts, who, response);
                 return response;
               };
               if (password) {
                 if (auto refused = require_recent_authentication(accounts, request, who, password)) return *refused;
                 return confirmed();
               }
               switch (accounts.reauthenticate_with_code(who, *code)) {
                 case Accounts::Reauthentication::confirmed: return confirmed();
                 case Accounts::Reauthentication::wrong_password:
                   return http::validation_problem(request, {{"code", "is not a current code or an unused recovery code"}});
                 case Accounts::Reauthentication::throttled: break;
               }
               return http::retry_later(http::problems::kTooManyRequests, "too many wrong codes; try again later",
                                        request.request_id, std::chrono::minutes(15));
             }));

  router.add("POST", "/v1/sessions", [&accounts](Request& request) -> Response {
    JsonFields fields(request, {"email", "password", "client", "code", "session_cookie"});
    if (fields.rejection()) return *fields.rejection();
    const auto email = fields.string("email", true, 320);
    const auto password = fields.string("password", true, 1024);
    const auto client = fields.string("client", false, 200);
    const auto code = fields.string("code", false, 32);
    const bool session_cookie = wants_session_cookie(fields);
    if (!fields.ok()) return fields.problem(request);
    return sign_in_response(accounts, request,
                            accounts.sign_in(*email, *password, client_label(request, client), request.remote_address, code),
                            session_cookie);
  });

  router.add("POST", "/v1/sessions/two-factor", [&accounts](Request& request) -> Response {
    JsonFields fields(request, {"challenge", "code", "session_cookie"});
    if (fields.rejection()) return *fields.rejection();
    const auto challenge = fields.string("challenge", true, 200);
    const auto code = fields.string("code", true, 32);
    const bool session_cookie = wants_session_cookie(fields);
    if (!fields.ok()) return fields.problem(request);
    const auto result = accounts.complete_sign_in(*challenge, *code);
    if (result.status == SignInResult::Status::bad_credentials) {
      return http::validation_problem(
          request, {{"code", "is not a current code or an unused recovery code, or the sign-in expired: sign in again"}});
    }
    return sign_in_response(accounts, request, result, session_cookie);
  });

  router.add("GET", "/v1/sessions", session_only(accounts, [&accounts](Request&, const AuthContext& who) -> Response {
    json::array data;
    for (const auto& session : accounts.credentials(who.user_id, "session")) {
      data.push_back(credential_json(session, who.credential_id));
    }
    return Response::json(200, list_json(std::move(data)));
  }));

  router.add("DELETE", "/v1/sessions", session_only(accounts, [&accounts](Request&, const AuthContext& who) -> Response {
    const int revoked = accounts.revoke_sessions(who.user_id, "");
    accounts.record_event(who.user_id, "signed_out_everywhere");
    Response response = Response::json(200, json::object{{"revoked", revoked}});
    if (who.from_cookie) clear_session_cookies(accounts, response);
    return response;
  }));

  router.add("DELETE", "/v1/sessions/{id}", session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
    std::string id = request.path_params.at("id");
    if (id == "current") {
      if (who.kind != "session") {
        return http::problem(http::problems::kConflict, "an API key is not a session; revoke it under /v1/api-keys",
                             request.request_id);
      }
      id = who.credential_id;
    }
    if (!accounts.revoke(who.user_id, id, "session")) return http::problem(http::problems::kNotFound, "", request.request_id);
    accounts.record_event(who.user_id, "signed_out");
    Response response = Response::no_content();
    if (who.from_cookie && id == who.credential_id) clear_session_cookies(accounts, response);
    return response;
  }));

  router.add("POST", "/v1/api-keys", session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
    JsonFields fields(request, {"name", "scopes", "current_password"});
    if (fields.rejection()) return *fields.rejection();
    const auto name = fields.string("name", true, 100);
    const auto current_password = fields.string("current_password", false, 1024);
    if (name && name->empty()) fields.add_error("name", "must not be empty");
    std::vector<Scope> scopes(std::begin(kDefaultKeyScopes), std::end(kDefaultKeyScopes));
    if (const auto chosen = fields.strings("scopes", false, 16)) {
      scopes.clear();
      std::string valid;
      for (const Scope scope : kScopes) valid += (valid.empty() ? "" : ", ") + std::string(to_string(scope));
      for (const auto& name_of_scope : *chosen) {
        const auto scope = scope_from(name_of_scope);
        if (!scope) {
          fields.add_error("scopes", name_of_scope + " is not a scope; the scopes are " + valid);
        } else if (std::find(scopes.begin(), scopes.end(), *scope) == scopes.end()) {
          scopes.push_back(*scope);
        }
      }
      if (chosen->empty()) fields.add_error("scopes", "a key needs at least one scope: " + valid);
    }
    if (!fields.ok()) return fields.problem(request);
    if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
    const auto created = accounts.create_api_key(who.user_id, *name, scopes);
    json::object body = credential_json(created.credential, "");
    body["key"] = created.key;
    return Response::json(201, body);
  }));

  router.add("GET", "/v1/api-keys", session_only(accounts, [&accounts](Request&, const AuthContext& who) -> Response {
    json::array data;
    for (const auto& key : accounts.credentials(who.user_id, "api_key")) data.push_back(credential_json(key, ""));
    return Response::json(200, list_json(std::move(data)));
  }));

  router.add("DELETE", "/v1/api-keys/{id}", session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
    if (!accounts.revoke(who.user_id, request.path_params.at("id"), "api_key")) {
      return http::problem(http::problems::kNotFound, "", request.request_id);
    }
    return Response::no_content();
  }));

  // Asking for a mail by address: the same answer whether or not the address has an account.
  // A GET shows the form (the sign-up notice mail links here).
  const auto mail_request_routes = [&router](std::string path, std::string title, std::string status, std::string sent,
                                             std::function<void(const std::string&)> send) {
    router.add("GET", path, [path, title](Request&) -> Response {
      return html_page(200, title,
                       "<form method=\"post\" action=\"" + path +
                           "\"><label>Email address <input type=\"email\" name=\"email\" required autocomplete=\"email\">"
                           "</label><button type=\"submit\">Send</button></form>");
    });
    router.add("POST", path, [status, sent, send = std::move(send)](Request& request) -> Response {
      JsonFields fields(request, {"email"});
      if (fields.rejection()) return *fields.rejection();
      const auto email = fields.string("email", true, 320);
      if (!fields.ok()) return fields.problem(request);
      send(*email);
      const std::string message = "If the address has an account, " + sent + " is on its way.";
      if (fields.from_form()) return html_page(202, "Check your mailbox", "<p>" + html_escape(message) + "</p>");
      return Response::json(202, json::object{{"status", status}, {"message", message}});
    });
  };
  mail_request_routes("/v1/password-reset", "Reset your password", "reset_requested", "a reset link",
                      [&accounts](const std::string& email) { accounts.request_password_reset(email); });
  mail_request_routes("/v1/accounts/verification-email", "Send the confirmation link again", "verification_requested",
                      "a new confirmation link",
                      [&accounts](const std::string& email) { accounts.resend_verification(email); });

  router.add("GET", "/v1/password-reset/confirm", [](Request& request) -> Response {
    return confirmation_form("Choose a new password", "/v1/password-reset/confirm",
                             request.query_param("token").value_or(""),
                             "<label>New password <input type=\"password\" name=\"password\" required "
                             "autocomplete=\"new-password\"></label>",
                             "Set password");
  });
  router.add("POST", "/v1/password-reset/confirm", [&accounts](Request& request) -> Response {
    JsonFields fields(request, {"token", "password"});
    if (fields.rejection()) return *fields.rejection();
    const auto token = fields.string("token", true, 200);
    const auto password = fields.string("password", true, 1024);
    if (!fields.ok()) return fields.problem(request);
    const auto errors = accounts.reset_password(*token, *password);
    if (fields.from_form()) {
      if (errors.empty()) return html_page(200, "Password changed", "<p>You can now sign in with it.</p>");
      return html_page(400, "The password was not changed",
                       "<p>" + html_escape(errors.front().field + " " + errors.front().message) + "</p>");
    }
    if (!errors.empty()) return http::validation_problem(request, to_problems(errors));
    return Response::no_content();
  });

  router.add("GET", "/v1/me", signed_in(accounts, Scope::account_read, [&accounts](Request& request, const AuthContext& who) -> Response {
    const auto user = accounts.find(who.user_id);
    if (!user) return http::problem(http::problems::kNotFound, "", request.request_id);
    json::object body = user_json(*user);
    json::array permissions;
    for (const auto name : permission_names_of(user->role)) permissions.emplace_back(name);
    body["permissions"] = std::move(permissions);
    if (const auto update = accounts.pending_policy(*user)) {
      body["policy_update"] = json::object{{"version", update->version},
                                           {"last_updated", update->last_updated},
                                           {"policy", "/v1/privacy/policy"},
                                           {"acknowledge", "POST /v1/privacy/policy/acknowledge"}};
    }
    return Response::json(200, body);
  }), http::Blocking::unless_in_memory);  // the hot authenticated read: credentials and user read lately

  router.add("PATCH", "/v1/me", session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
    JsonFields fields(request, {"name", "email", "current_password"});
    if (fields.rejection()) return *fields.rejection();
    const auto name = fields.string("name", false, 400);
    const auto email = fields.string("email", false, 320);
    const auto current_password = fields.string("current_password", false, 1024);
    if (!fields.ok()) return fields.problem(request);
    if (email) {
      if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
    }
    if (auto errors = accounts.update_profile(who, name, email); !errors.empty()) {
      return http::validation_problem(request, to_problems(errors));
    }
    return Response::json(200, user_json(*accounts.find(who.user_id)));
  }));

  router.add("POST", "/v1/me/password", session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
    JsonFields fields(request, {"current_password", "new_password"});
    if (fields.rejection()) return *fields.rejection();
    const auto current = fields.string("current_password", true, 1024);
    const auto replacement = fields.string("new_password", true, 1024);
    if (!fields.ok()) return fields.problem(request);
    if (auto errors = accounts.change_password(who, *current, *replacement); !errors.empty()) {
      return http::validation_problem(request, to_problems(errors));
    }
    return Response::no_content();
  }));

  const auto preferences_json = [&accounts](const std::string& user_id) {
    json::object body{{"object", "preferences"}};
    for (const auto& [category, enabled] : accounts.preferences(user_id)) body[category] = enabled;
    return body;
  };
  router.add("GET", "/v1/me/preferences", signed_in(accounts, Scope::account_read, [&accounts, preferences_json](Request&, const AuthContext& who) -> Response {
    return Response::json(200, preferences_json(who.user_id));
  }));
  router.add("GET", "/v1/me/preferences/history", signed_in(accounts, Scope::account_read, [&accounts](Request&, const AuthContext& who) -> Response {
    json::array data;
    for (const auto& change : accounts.preference_history(who.user_id, 200)) {
      data.push_back(json::object{{"object", "preference_change"},
                                  {"category", change.category},
                                  {"enabled", change.enabled},
                                  {"source", change.source},
                                  {"changed_at", change.changed_at}});
    }
    return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
  }));
  router.add("PUT", "/v1/me/preferences", session_only(accounts, [&accounts, preferences_json](Request& request, const AuthContext& who) -> Response {
    JsonFields fields(request, {"account", "product_updates", "marketing", "training_use", "sale_sharing"});
    if (fields.rejection()) return *fields.rejection();
    std::map<std::string, bool> changes;
    for (const auto& category : preference_categories()) {
      if (auto value = fields.boolean(category, false)) changes[category] = *value;
    }
    if (!fields.ok()) return fields.problem(request);
    if (auto errors = accounts.set_preferences(who.user_id, changes, "settings"); !errors.empty()) {
      return http::validation_problem(request, to_problems(errors));
    }
    return Response::json(200, preferences_json(who.user_id));
  }));

  router.add("GET", "/v1/admin/users", with_permission(accounts, Permission::view_users, [&accounts](Request& request, const AuthContext&) -> Response {
    std::size_t limit = 50;
    if (auto text = request.query_param("limit")) {
      try {
        limit = std::clamp<std::size_t>(std::stoul(*text), 1, 200);
      } catch (const std::exception&) {
        return http::validation_problem(request, {{"limit", "must be a number from 1 to 200"}});
      }
    }
    const std::string query = request.query_param("q").value_or("").substr(0, 320);
    const auto users = accounts.list_users(limit + 1, request.query_param("after").value_or(""), query);
    json::array data;
    for (std::size_t i = 0; i < std::min(limit, users.size()); ++i) data.push_back(user_json(users[i]));
    json::object body = list_json(std::move(data));
    body["has_more"] = users.size() > limit;
    return Response::json(200, body);
  }));

  // Helping an owner: what they are signed in with (never a token), and ending one of them.
  router.add("GET", "/v1/admin/users/{id}/credentials",
             with_permission(accounts, Permission::view_users, [&accounts](Request& request, const AuthContext&) -> Response {
               const std::string id = request.path_params.at("id");
               if (!accounts.find(id)) return http::problem(http::problems::kNotFound, "", request.request_id);
               json::array sessions, keys;
               for (const auto& session : accounts.credentials(id, "session")) sessions.push_back(credential_json(session, ""));
               for (const auto& key : accounts.credentials(id, "api_key")) keys.push_back(credential_json(key, ""));
               return Response::json(200, json::object{{"sessions", std::move(sessions)}, {"api_keys", std::move(keys)}});
             }));
  router.add("DELETE", "/v1/admin/users/{id}/credentials/{credential}",
             with_permission(accounts, Permission::manage_accounts, [&accounts](Request& request, const AuthContext&) -> Response {
               const std::string id = request.path_params.at("id");
               const std::string credential = request.path_params.at("credential");
               if (!accounts.revoke(id, credential, "session") && !accounts.revoke(id, credential, "api_key")) {
                 return http::problem(http::problems::kNotFound, "", request.request_id);
               }
               return Response::no_content();
             }));
  router.add("POST", "/v1/admin/users/{id}/verify-email",
             with_permission(accounts, Permission::manage_accounts, [&accounts](Request& request, const AuthContext&) -> Response {
               const std::string id = request.path_params.at("id");
               if (!accounts.mark_email_verified(id)) return http::problem(http::problems::kNotFound, "", request.request_id);
               return Response::json(200, user_json(*accounts.find(id)));
             }));
  router.add("POST", "/v1/admin/users/{id}/verification-email",
             with_permission(accounts, Permission::manage_accounts, [&accounts](Request& request, const AuthContext&) -> Response {
               const auto user = accounts.find(request.path_params.at("id"));
               if (!user) return http::problem(http::problems::kNotFound, "", request.request_id);
               accounts.resend_verification(user->email);
               return Response::json(202, json::object{{"status", user->email_verified ? "already_verified" : "sent"}});
             }));

  router.add("POST", "/v1/admin/users/{id}/suspend",
             with_permission(accounts, Permission::manage_roles, [&accounts](Request& request, const AuthContext& who) -> Response {
               JsonFields fields(request, {"reason", "current_password"});
               if (fields.rejection()) return *fields.rejection();
               const auto reason = fields.string("reason", true, 500);
               if (reason && reason->empty()) fields.add_error("reason", "must not be empty");
               const auto current_password = fields.string("current_password", false, 1024);
               if (!fields.ok()) return fields.problem(request);
               if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
               const std::string id = request.path_params.at("id");
               switch (accounts.suspend(id, *reason)) {
                 case Accounts::RoleChange::changed: break;
                 case Accounts::RoleChange::no_such_account: return http::problem(http::problems::kNotFound, "", request.request_id);
                 case Accounts::RoleChange::last_admin:
                   return http::problem(http::problems::kConflict, "the last admin cannot be suspended", request.request_id);
               }
               if (auto* log = accounts.audit_log()) {
                 log->record(who.user_id, "admin.suspend", id, json::serialize(json::object{{"reason", *reason}}));
               }
               return Response::json(200, user_json(*accounts.find(id)));
             }));
  router.add("POST", "/v1/admin/users/{id}/unsuspend",
             with_permission(accounts, Permission::manage_roles, [&accounts](Request& request, const AuthContext& who) -> Response {
               const std::string id = request.path_params.at("id");
               if (!accounts.unsuspend(id)) {
                 return http::problem(http::problems::kNotFound, "no suspended account with this id", request.request_id);
               }
               if (auto* log = accounts.audit_log()) log->record(who.user_id, "admin.unsuspend", id);
               return Response::json(200, user_json(*accounts.find(id)));
             }));

  router.add("PUT", "/v1/admin/users/{id}/role",
             with_permission(accounts, Permission::manage_roles, [&accounts](Request& request, const AuthContext& who) -> Response {
               JsonFields fields(request, {"role", "current_password"});
               if (fields.rejection()) return *fields.rejection();
               const auto role = fields.string("role", true, 40);
               const auto current_password = fields.string("current_password", false, 1024);
               if (role && !is_role(*role)) {
                 fields.add_error("role", fmt::format("must be one of {}", fmt::join(role_names(), ", ")));
               }
               if (!fields.ok()) return fields.problem(request);
               if (auto refused = require_recent_authentication(accounts, request, who, current_password)) return *refused;
               const std::string id = request.path_params.at("id");
               // An admin who demoted themself could leave the deployment without one.
               if (id == who.user_id) {
                 return http::problem(http::problems::kConflict, "your own role is changed by another admin",
                                      request.request_id);
               }
               const auto before = accounts.find(id);
               switch (accounts.set_role(id, *role)) {
                 case Accounts::RoleChange::changed:
                   if (auto* log = accounts.audit_log()) {
                     log->record(who.user_id, "admin.set_role", id,
                                 json::serialize(json::object{{"role", *role}, {"previous_role", before ? before->role : ""}}));
                   }
                   break;
                 case Accounts::RoleChange::no_such_account: return http::problem(http::problems::kNotFound, "", request.request_id);
                 case Accounts::RoleChange::last_admin:
                   return http::problem(http::problems::kConflict, "the last admin keeps the role: make another admin first",
                                        request.request_id);
               }
               return Response::json(200, user_json(*accounts.find(id)));
             }));

  router.add("GET", "/v1/admin/users/{id}", with_permission(accounts, Permission::view_users, [&accounts](Request& request, const AuthContext&) -> Response {
    const auto user = accounts.find(request.path_params.at("id"));
    if (!user) return http::problem(http::problems::kNotFound, "", request.request_id);
    return Response::json(200, user_json(*user));
  }));
}

}  // namespace framehouse::accounts
