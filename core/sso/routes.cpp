#include "sso/routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "accounts/routes.hpp"
#include "http/html.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"
#include "observability/log.hpp"

namespace framehouse::sso {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using observability::Log;

// Binds the browser to the sign-in it started: the state, in a cookie only this server reads.
std::string binding_cookie_name(const accounts::Accounts& accounts) {
  return accounts.secure_cookies() ? "__Host-fh_sso" : "fh_sso";
}

void set_binding(const accounts::Accounts& accounts, Response& response, const std::string& state, std::int64_t max_age) {
  // Lax: the provider sends the browser back with a top-level GET, which carries it.
  response.add_header("Set-Cookie", http::to_header_value({binding_cookie_name(accounts), state, max_age, true,
                                                           accounts.secure_cookies(), "Lax"}));
}

std::string client_label(const Request& request) {
  return std::string(request.header("user-agent").value_or("browser")).substr(0, 200);
}

// The account has two-factor sign-in on and the provider proved no second factor: the code.
Response code_question(const accounts::SignInResult& challenge, const std::string& return_to, bool wrong) {
  return http::html_page(
      wrong ? 422 : 200, "One more thing: your code",
      std::string(wrong ? "<p>That code did not work. Try the current one, or a recovery code; after a few wrong codes, sign in "
                  "again.</p>" : "") +
          "<p>Your account has two-factor sign-in: enter the code your authenticator app shows, or a recovery "
          "code.</p><form method=\"post\" action=\"/v1/sso/two-factor\"><input type=\"hidden\" name=\"challenge\" value=\"" +
          http::html_escape(challenge.challenge) + "\"><input type=\"hidden\" name=\"return_to\" value=\"" +
          http::html_escape(return_to) +
          "\"><label>Code <input type=\"text\" name=\"code\" required autocomplete=\"one-time-code\" "
          "inputmode=\"numeric\"></label><button type=\"submit\">Sign in</button></form>");
}

// Signed in: back to the page the browser came from, with the session cookies.
Response signed_in_redirect(accounts::Accounts& accounts, const accounts::SignInResult& session, const std::string& return_to) {
  Response response;
  response.status = 303;
  response.set_header("Location", SignIns::safe_return_to(return_to));
  accounts::set_session_cookies(accounts, response, session.token, session.session.id);
  set_binding(accounts, response, "", 0);
  return response;
}

// Where a finished sign-in leaves the browser: the page it came from, signed in; the birth
// date or code question; or why not.
Response outcome_page(accounts::Accounts& accounts, const SignIns& sign_ins, const SignIns::Outcome& outcome) {
  using Status = SignIns::Outcome::Status;
  if (outcome.status == Status::needs_birth_date) {
    return http::html_page(
        200, "One more thing: your date of birth",
        "<p>This service is for people aged " + std::to_string(sign_ins.minimum_age()) + " or more" +
            ". Your date of birth is checked once and not kept.</p><form method=\"post\" action=\"/v1/sso/birth-date\">"
            "<input type=\"hidden\" name=\"ticket\" value=\"" + http::html_escape(outcome.ticket) +
            "\"><label>Date of birth <input type=\"date\" name=\"date_of_birth\" required autocomplete=\"bday\"></label>"
            "<button type=\"submit\">Continue</button></form>");
  }
  if (outcome.status == Status::refused) {
    return http::html_page(403, "You cannot be signed in", "<p>" + http::html_escape(outcome.message) + "</p>");
  }
  using SignInStatus = accounts::SignInResult::Status;
  switch (outcome.session.status) {
    case SignInStatus::signed_in: break;
    case SignInStatus::second_factor_required: return code_question(outcome.session, outcome.return_to, false);
    case SignInStatus::suspended:
      return http::html_page(403, "This account is suspended", "<p>Ask your administrator.</p>");
    case SignInStatus::frozen:
      return http::html_page(403, "This account is frozen",
                             "<p>An erasure of this account waits under a legal hold; until it ends no one can sign "
                             "in. You will be told by mail when it does.</p>");
    default: return http::html_page(403, "You cannot be signed in", "<p>Try again.</p>");
  }
  return signed_in_redirect(accounts, outcome.session, outcome.return_to);
}

}  // namespace

void add_sso_routes(http::Router& router, accounts::Accounts& accounts, SignIns& sign_ins) {
  router.add("GET", "/v1/sso", [&sign_ins](Request&) -> Response {
    json::array data;
    for (const auto* provider : sign_ins.providers()) {
      data.push_back(json::object{{"id", provider->name},
                                  {"object", "identity_provider"},
                                  {"name", provider->display_name.empty() ? provider->name : provider->display_name},
                                  {"start", "/v1/sso/" + provider->name + "/start"}});
    }
    return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
  });

  router.add("GET", "/v1/sso/{provider}/start", [&accounts, &sign_ins](Request& request) -> Response {
    const std::string& name = request.path_params.at("provider");
    std::optional<SignIns::Started> started;
    try {
      started = sign_ins.start(name, request.query_param("return_to").value_or("/"));
    } catch (const std::exception& error) {
      Log::warn("sso", "an identity provider cannot be reached", {{"provider", name}, {"reason", error.what()}});
      return http::retry_later(http::problems::kUnavailable, "the identity provider cannot be reached; try again shortly",
                               request.request_id, std::chrono::seconds(30));
    }
    if (!started) return http::problem(http::problems::kNotFound, "no identity provider of this name", request.request_id);
    Response response;
    response.status = 303;
    response.set_header("Location", started->redirect);
    response.set_header("Cache-Control", "no-store");
    set_binding(accounts, response, started->state, SignIns::kLoginSeconds);
    return response;
  });

  router.add("GET", "/v1/sso/{provider}/callback", [&accounts, &sign_ins](Request& request) -> Response {
    if (const auto error = request.query_param("error")) {
      // The person declined, or the provider refused: nothing to sign in.
      return http::html_page(403, "You were not signed in",
                             "<p>The identity provider answered: " + http::html_escape(*error) + ".</p>");
    }
    const auto outcome = sign_ins.finish(request.path_params.at("provider"), request.query_param("code").value_or(""),
                                         request.query_param("state").value_or(""),
                                         request.cookie(binding_cookie_name(accounts)).value_or(""),
                                         request.query_param("iss"), client_label(request));
    return outcome_page(accounts, sign_ins, outcome);
  });

  router.add("POST", "/v1/sso/two-factor", [&accounts](Request& request) -> Response {
    http::JsonFields fields(request, {"challenge", "code", "return_to"});
    if (fields.rejection()) return *fields.rejection();
    const auto challenge = fields.string("challenge", true, 200);
    const auto code = fields.string("code", true, 32);
    const std::string return_to = fields.string("return_to", false, 500).value_or("/");
    if (!fields.ok()) return fields.problem(request);
    const auto result = accounts.complete_sign_in(*challenge, *code);
    using SignInStatus = accounts::SignInResult::Status;
    switch (result.status) {
      case SignInStatus::signed_in: return signed_in_redirect(accounts, result, return_to);
      case SignInStatus::throttled:
        return http::html_page(429, "Too many wrong codes", "<p>Wait a while, or use a recovery code, and sign in again.</p>");
      case SignInStatus::suspended: return http::html_page(403, "This account is suspended", "<p>Ask your administrator.</p>");
      case SignInStatus::frozen:
        return http::html_page(403, "This account is frozen", "<p>An erasure of this account waits under a legal hold.</p>");
      default: break;
    }
    // A wrong code: the same question again, while the challenge lives (it dies after a few).
    accounts::SignInResult again;
    again.challenge = *challenge;
    return code_question(again, return_to, true);
  });

  router.add("POST", "/v1/sso/birth-date", [&accounts, &sign_ins](Request& request) -> Response {
    http::JsonFields fields(request, {"ticket", "date_of_birth"});
    if (fields.rejection()) return *fields.rejection();
    const auto ticket = fields.string("ticket", true, 200);
    const auto date_of_birth = fields.string("date_of_birth", true, 10);
    if (!fields.ok()) return fields.problem(request);
    return outcome_page(accounts, sign_ins, sign_ins.complete(*ticket, request.cookie(binding_cookie_name(accounts)).value_or(""),
                                                    *date_of_birth, client_label(request)));
  });
}

}  // namespace framehouse::sso
