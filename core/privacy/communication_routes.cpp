#include "privacy/communication_routes.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/html.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using accounts::AuthContext;
using http::Request;
using http::Response;

inline constexpr std::string_view kOptOutCategories[] = {"product_updates", "marketing", "training_use", "sale_sharing"};

std::string describe(const std::string& category) {
  if (category == "marketing") return "marketing email";
  if (category == "product_updates") return "product update email";
  return category;
}

Response unknown_link() {
  return http::html_page(404, "Link not recognised", "<p>This unsubscribe link is not valid. Nothing was changed.</p>");
}

json::object announcement_json(const Announcement& announcement) {
  json::object body{{"object", "announcement"},
                    {"id", announcement.id},
                    {"status", to_string(announcement.status)},
                    {"about", announcement.about},
                    {"created_at", announcement.created_at_ms / 1000}};
  if (announcement.finished_at_ms) body["finished_at"] = *announcement.finished_at_ms / 1000;
  if (announcement.status == AnnouncementStatus::done) {
    body["queued"] = announcement.queued;
    body["skipped"] = announcement.skipped;
  }
  return body;
}

bool printable_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

void add_communication_routes(http::Router& router, accounts::Accounts& accounts, Communications& communications) {
  router.add("POST", "/v1/privacy/opt-outs", accounts::session_only(accounts, [&accounts](Request& request, const AuthContext& who) -> Response {
               http::JsonFields fields(request, {"category"});
               if (fields.rejection()) return *fields.rejection();
               const auto category = fields.string("category", true, 32);
               if (category && std::find(std::begin(kOptOutCategories), std::end(kOptOutCategories), *category) ==
                                   std::end(kOptOutCategories)) {
                 fields.add_error("category", "must be product_updates, marketing, training_use or sale_sharing");
               }
               if (!fields.ok()) return fields.problem(request);
               accounts.opt_out(who.user_id, *category, "opt_out");
               json::object body{{"object", "preferences"}};
               for (const auto& [name, enabled] : accounts.preferences(who.user_id)) body[name] = enabled;
               return Response::json(200, body);
             }));

  router.add("POST", "/v1/admin/announcements",
             accounts::with_permission(accounts, accounts::Permission::announcements, [&communications](Request& request, const AuthContext&) -> Response {
               http::JsonFields fields(request, {"category", "subject", "body"});
               if (fields.rejection()) return *fields.rejection();
               const auto category = fields.string("category", true, 32);
               const auto subject = fields.string("subject", true, 200);
               const auto body = fields.string("body", true, 100'000);
               if (category && std::find(std::begin(kMailCategories), std::end(kMailCategories), *category) == std::end(kMailCategories)) {
                 fields.add_error("category", "must be account, product_updates or marketing");
               }
               if (subject && (subject->empty() || !printable_ascii(*subject))) fields.add_error("subject", "must be one line of ASCII text");
               if (!fields.ok()) return fields.problem(request);
               const auto id = communications.announce(*category, *subject, *body);
               auto response = Response::json(202, announcement_json(*communications.announcement(id)));
               response.set_header("Location", "/v1/admin/announcements/" + id);
               return response;
             }));

  router.add("GET", "/v1/admin/announcements/{id}",
             accounts::with_permission(accounts, accounts::Permission::announcements, [&communications](Request& request, const AuthContext&) -> Response {
               const auto found = communications.announcement(request.path_params.at("id"));
               if (!found) return http::problem(http::problems::kNotFound, "no announcement has this id", request.request_id);
               return Response::json(200, announcement_json(*found));
             }));

  // RFC 8058: link scanners fetch GETs, so a GET only shows what a POST would do.
  router.add("GET", "/v1/unsubscribe/{token}", [&communications](Request& request) -> Response {
    const auto found = communications.resolve(request.path_params.at("token"));
    if (!found) return unknown_link();
    return http::html_page(200, "Unsubscribe",
                "<p>Stop receiving " + http::html_escape(describe(found->category)) + "?</p>"
                "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                "<button type=\"submit\">Unsubscribe</button></form>");
  });

  // The one-click POST: no cookie, no session, no redirect; the token alone says who and what.
  router.add("POST", "/v1/unsubscribe/{token}", [&communications, &accounts](Request& request) -> Response {
    const auto found = communications.resolve(request.path_params.at("token"));
    if (!found) return unknown_link();
    // A replayed click finds the category off already and changes nothing.
    const auto current = accounts.preferences(found->user_id);
    const auto choice = current.find(found->category);
    if (choice != current.end() && choice->second) accounts.opt_out(found->user_id, found->category, "one_click_unsubscribe");
    return http::html_page(200, "Unsubscribed", "<p>You will no longer receive " + http::html_escape(describe(found->category)) + ".</p>");
  });
}

}  // namespace framehouse::privacy
