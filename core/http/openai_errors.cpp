#include "http/openai_errors.hpp"

#include <algorithm>
#include <optional>

#include <boost/json.hpp>

namespace framehouse::http {
namespace {

namespace json = boost::json;

constexpr std::string_view kProblemPrefix = "urn:framehouse:problem:";

bool under(std::string_view path, std::string_view prefix) {
  return path.rfind(prefix, 0) == 0 && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

// OpenAI's error types by status: what its clients branch on besides the status itself.
std::string_view type_for(int status) {
  if (status == 401) return "authentication_error";
  if (status == 403) return "permission_error";
  if (status == 404) return "not_found_error";
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

}  // namespace

bool is_openai_route(std::string_view path) {
  return under(path, "/v1/videos") || under(path, "/v1/models") || under(path, "/v1/images");
}

Response as_openai_error(Response response) {
  if (response.header("Content-Type") != std::optional<std::string_view>("application/problem+json")) return response;
  boost::system::error_code ec;
  json::value parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object()) return response;
  const json::object& problem = parsed.as_object();
  const auto text = [&](std::string_view key) -> std::string {
    const auto* found = problem.if_contains(key);
    return found != nullptr && found->is_string() ? std::string(found->as_string()) : std::string();
  };

  std::string code = text("type");
  if (code.rfind(kProblemPrefix, 0) == 0) code.erase(0, kProblemPrefix.size());
  std::replace(code.begin(), code.end(), '-', '_');
  std::string message = text("detail").empty() ? text("title") : text("detail");
  json::value param = nullptr;
  if (const auto* errors = problem.if_contains("errors"); errors != nullptr && errors->is_array() && !errors->as_array().empty()) {
    std::string fields;
    for (const auto& entry : errors->as_array()) {
      if (!entry.is_object()) continue;
      const auto* field = entry.as_object().if_contains("field");
      const auto* says = entry.as_object().if_contains("message");
      if (field == nullptr || !field->is_string()) continue;
      if (param.is_null()) param = field->as_string();
      fields += (fields.empty() ? "" : "; ") + std::string(field->as_string()) +
                (says != nullptr && says->is_string() ? " " + std::string(says->as_string()) : "");
    }
    if (!fields.empty()) message = fields;
  }
  json::object error{{"message", message},
                     {"type", type_for(response.status)},
                     {"param", param},
                     {"code", code.empty() ? json::value(nullptr) : json::value(code)}};
  json::object body{{"error", std::move(error)}};
  if (const std::string request_id = text("request_id"); !request_id.empty()) body["request_id"] = request_id;
  response.body = json::serialize(body);
  response.set_header("Content-Type", "application/json");
  return response;
}

}  // namespace framehouse::http
