#include "mail/routes.hpp"

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/json_input.hpp"

namespace framehouse::mail {

namespace json = boost::json;

void add_outbox_routes(http::Router& router, accounts::Accounts& accounts, jobs::JobQueue& outbox) {
  router.add("GET", "/v1/admin/outbox",
             accounts::with_permission(accounts, accounts::Permission::view_outbox,
                                       [&outbox](http::Request& request, const accounts::AuthContext&) -> http::Response {
               const auto state = jobs::job_state_from(request.query_param("state").value_or("dead"));
               if (!state) return http::validation_problem(request, {{"state", "must be ready, running, done or dead"}});
               json::array data;
               for (const auto& record : outbox.list(*state, 200)) {
                 json::object item{{"object", "outbox_message"},
                                   {"id", record.id},
                                   {"about", record.label},
                                   {"state", jobs::to_string(record.state)},
                                   {"attempts", record.attempts},
                                   {"created_at", record.created_at_ms / 1000}};
                 if (record.state == jobs::JobState::ready) item["next_attempt_at"] = record.run_at_ms / 1000;
                 if (!record.last_error.empty()) item["last_error"] = record.last_error;
                 if (record.finished_at_ms) item["finished_at"] = *record.finished_at_ms / 1000;
                 data.push_back(std::move(item));
               }
               return http::Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             }));
}

}  // namespace framehouse::mail
