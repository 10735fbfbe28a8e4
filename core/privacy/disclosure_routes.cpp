#include "privacy/disclosure_routes.hpp"

#include <boost/json.hpp>

#include "accounts/routes.hpp"
#include "http/json_input.hpp"
#include "http/problem.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;

json::object disclosure_json(const Disclosure& disclosure) {
  json::array categories;
  for (const auto& category : disclosure.categories) categories.emplace_back(category);
  return {{"object", "disclosure"},
          {"id", disclosure.id},
          {"user_id", disclosure.subject_id},
          {"authority", disclosure.authority},
          {"legal_basis", disclosure.legal_basis},
          {"reference", disclosure.reference},
          {"categories", std::move(categories)},
          {"disclosed_at", disclosure.disclosed_at},
          {"notice_restricted", disclosure.notice_restricted},
          {"restriction_basis", disclosure.restriction_basis.empty() ? json::value(nullptr) : json::value(disclosure.restriction_basis)},
          {"recorded_by", disclosure.recorded_by},
          {"recorded_at", disclosure.recorded_at}};
}

}  // namespace

void add_disclosure_routes(http::Router& router, accounts::Accounts& accounts, Disclosures& disclosures) {
  router.add("GET", "/v1/admin/disclosures", accounts::with_permission(accounts, accounts::Permission::disclosures, [&disclosures](http::Request& request, const accounts::AuthContext&) {
               json::array data;
               for (const auto& disclosure : disclosures.list(request.query_param("user_id").value_or(""))) {
                 data.push_back(disclosure_json(disclosure));
               }
               return http::Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             }));

  router.add("POST", "/v1/admin/disclosures",
             accounts::with_permission(accounts, accounts::Permission::disclosures, [&disclosures, &accounts](http::Request& request, const accounts::AuthContext& who) -> http::Response {
               http::JsonFields fields(request, {"user_id", "authority", "legal_basis", "reference", "categories", "disclosed_at",
                                                 "notice_restricted", "restriction_basis"});
               if (fields.rejection()) return *fields.rejection();
               Disclosure disclosure;
               const auto user_id = fields.string("user_id", true, 64);
               const auto authority = fields.string("authority", true, 300);
               const auto basis = fields.string("legal_basis", true, 300);
               const auto reference = fields.string("reference", true, 300);
               const auto restricted = fields.boolean("notice_restricted", false);
               const auto restriction_basis = fields.string("restriction_basis", false, 500);
               const auto* categories = fields.object().if_contains("categories");
               if (!categories || !categories->is_array() || categories->as_array().empty()) {
                 fields.add_error("categories", "must be a non-empty list of data categories");
               } else {
                 for (const auto& category : categories->as_array()) {
                   if (!category.is_string()) {
                     fields.add_error("categories", "must be a list of strings");
                     break;
                   }
                   disclosure.categories.emplace_back(category.as_string());
                 }
               }
               if (const auto* at = fields.object().if_contains("disclosed_at"); at && !at->is_int64()) {
                 fields.add_error("disclosed_at", "must be a Unix time in seconds");
               } else {
                 disclosure.disclosed_at = at ? at->as_int64() : unix_now();
               }
               if (restricted.value_or(false) && restriction_basis.value_or("").empty()) {
                 fields.add_error("restriction_basis", "is required when notice_restricted is true: the law that forbids telling the person");
               }
               if (user_id && !accounts.find(*user_id)) fields.add_error("user_id", "no such user");
               if (!fields.ok()) return fields.problem(request);
               disclosure.subject_id = *user_id;
               disclosure.authority = *authority;
               disclosure.legal_basis = *basis;
               disclosure.reference = *reference;
               disclosure.notice_restricted = restricted.value_or(false);
               disclosure.restriction_basis = restriction_basis.value_or("");
               disclosure.recorded_by = who.user_id;
               return http::Response::json(201, disclosure_json(disclosures.record(std::move(disclosure))));
             }));
}

}  // namespace framehouse::privacy
