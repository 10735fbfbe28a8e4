#include "audit/routes.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/problem.hpp"
#include "http/json_input.hpp"

namespace framehouse::audit {
namespace {

namespace json = boost::json;

// A positive whole number from the query, or `fallback`; nothing when it is malformed.
std::optional<std::int64_t> query_number(const http::Request& request, const char* name, std::int64_t fallback) {
  const auto text = request.query_param(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

void add_audit_routes(http::Router& router, accounts::Accounts& accounts, AuditLog& log) {
  router.add("GET", "/v1/admin/audit", accounts::with_permission(accounts, accounts::Permission::read_audit_log, [&log](http::Request& request, const accounts::AuthContext&) {
               const auto limit = query_number(request, "limit", 100);
               const auto before = query_number(request, "before", 0);
               std::vector<http::FieldProblem> problems;
               if (!limit || *limit > 1000) problems.push_back({"limit", "must be a whole number from 1 to 1000"});
               if (!before) problems.push_back({"before", "must be a positive sequence number"});
               if (!problems.empty()) return http::validation_problem(request, problems);
               json::array data;
               for (const auto& entry : log.recent(static_cast<std::size_t>(*limit), *before)) {
                 // An entry edited by hand may not parse; it is shown as stored (audit verify names it).
                 boost::system::error_code ec;
                 json::value detail = json::parse(entry.detail, ec);
                 if (ec) detail = json::string(entry.detail);
                 data.push_back(json::object{{"seq", entry.seq},
                                             {"occurred_at", entry.occurred_at},
                                             {"actor", entry.actor},
                                             {"action", entry.action},
                                             {"target", entry.target},
                                             {"detail", detail},
                                             {"entry_hash", entry.entry_hash}});
               }
               return http::Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             }));

  // The whole chain walked now, as `framehouse audit verify` does: whether any entry was
  // edited, removed or put in since it was written.
  router.add("GET", "/v1/admin/audit/verification",
             accounts::with_permission(accounts, accounts::Permission::read_audit_log, [&log](http::Request&, const accounts::AuthContext&) {
               const auto report = log.verify();
               json::array problems;
               for (const auto& problem : report.problems) problems.emplace_back(problem);
               return http::Response::json(200, json::object{{"object", "audit_verification"},
                                                             {"intact", report.problems.empty()},
                                                             {"entries", report.entries},
                                                             {"problems", std::move(problems)}});
             }));
}

}  // namespace framehouse::audit
