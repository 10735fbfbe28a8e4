#include "privacy/analytics_routes.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;

std::optional<std::int64_t> parse_time(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

void add_analytics_routes(http::Router& router, accounts::Accounts& accounts, Analytics& analytics) {
  router.add("GET", "/v1/admin/analytics/{metric}",
             accounts::with_permission(accounts, accounts::Permission::analytics, [&analytics](http::Request& request, const accounts::AuthContext&) -> http::Response {
               AnalyticsQuery query;
               query.metric = request.path_params.at("metric");
               if (std::find(std::begin(kAnalyticsMetrics), std::end(kAnalyticsMetrics), query.metric) == std::end(kAnalyticsMetrics)) {
                 return http::problem(http::problems::kNotFound,
                                      "metrics: signups, active_users, videos_created, plan_mix", request.request_id);
               }
               std::vector<http::FieldProblem> problems;
               query.period = request.query_param("period").value_or("day");
               if (query.period != "day" && query.period != "week") problems.push_back({"period", "must be day or week"});
               const std::string by = request.query_param("by").value_or("");
               if (!by.empty() && by != "plan") problems.push_back({"by", "must be plan (the one dimension offered)"});
               query.by_plan = by == "plan";
               query.to = unix_now() + 1;
               query.from = query.to - 90LL * 24 * 3600;
               for (const auto& [name, target] : {std::pair{"from", &query.from}, std::pair{"to", &query.to}}) {
                 if (const auto text = request.query_param(name)) {
                   if (const auto value = parse_time(*text)) {
                     *target = *value;
                   } else {
                     problems.push_back({name, "must be a Unix time in seconds"});
                   }
                 }
               }
               if (!problems.empty()) return http::validation_problem(request, problems);
               json::array data;
               for (const auto& cell : analytics.run(query)) {
                 json::object item{{"value", cell.value ? json::value(*cell.value) : json::value(nullptr)},
                                   {"suppressed", !cell.value.has_value()}};
                 if (query.metric != "plan_mix") item["period_start"] = cell.period_start;
                 if (query.by_plan || query.metric == "plan_mix") item["plan"] = cell.plan;
                 data.push_back(std::move(item));
               }
               return http::Response::json(200, json::object{{"object", "analytics"},
                                                             {"metric", query.metric},
                                                             {"period", query.period},
                                                             {"min_group", analytics.min_group()},
                                                             {"data", std::move(data)}});
             }));
}

}  // namespace framehouse::privacy
