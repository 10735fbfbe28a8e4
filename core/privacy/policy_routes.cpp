#include "privacy/policy_routes.hpp"

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/problem.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;

http::Response no_policy(const http::Request& request) {
  return http::problem(http::problems::kNotFound, "this deployment has not configured a privacy policy ([privacy] policy_file)",
                       request.request_id);
}

}  // namespace


void add_policy_routes(http::Router& router, accounts::Accounts& accounts, Policy* policy, const Participants& participants) {
  router.add("GET", "/v1/privacy/policy", [policy](http::Request& request) -> http::Response {
    if (!policy) return no_policy(request);
    const auto& document = policy->document();
    return http::Response::json(200, json::object{{"object", "privacy_policy"},
                                                  {"version", document.version},
                                                  {"last_updated", document.last_updated},
                                                  {"contact", policy->contact()},
                                                  {"format", "text/markdown"},
                                                  {"text", document.text}});
  });

  router.add("POST", "/v1/privacy/policy/acknowledge", accounts::session_only(accounts, [policy](http::Request& request, const accounts::AuthContext& who) -> http::Response {
               if (!policy) return no_policy(request);
               policy->acknowledge(who.user_id);
               return http::Response::json(200, json::object{{"object", "policy_acknowledgement"},
                                                             {"version", policy->document().version}});
             }));

  // Policy §3.1: who receives personal data, generated from the loaded plugins' manifests.
  router.add("GET", "/v1/privacy/processors", [&participants](http::Request&) {
    return http::Response::json(200, json::object{{"object", "list"}, {"data", processors_register(participants.all())}});
  });
}

}  // namespace framehouse::privacy
