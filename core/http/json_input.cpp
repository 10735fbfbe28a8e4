#include "http/json_input.hpp"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse_query.hpp>

#include "http/problem.hpp"

namespace framehouse::http {
namespace {

std::string_view media_type(const Request& request) {
  std::string_view type = request.header("content-type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

JsonFields::JsonFields(const Request& request, std::initializer_list<std::string_view> allowed) {
  if (request.body.empty()) return;
  const std::string_view type = media_type(request);
  if (iequals(type, "application/x-www-form-urlencoded")) {
    auto params = boost::urls::parse_query(request.body);
    if (!params) {
      rejection_ = http::problem(problems::kBadRequest, "the form body is malformed", request.request_id);
      return;
    }
    for (const auto& param : *params) object_[decode_form_component(param.key)] = decode_form_component(param.value);
    from_form_ = true;
  } else if (!iequals(type, "application/json")) {
    rejection_ = http::problem(problems::kUnsupportedMediaType, "send the body as application/json", request.request_id);
    return;
  } else {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(request.body, ec);
    if (ec || !value.is_object()) {
      rejection_ = http::problem(problems::kBadRequest,
                                 ec ? "the body is not valid JSON: " + ec.message() : "the body must be a JSON object",
                                 request.request_id);
      return;
    }
    object_ = std::move(value.as_object());
  }
  for (const auto& [key, value] : object_) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      add_error(std::string(key), "is not a known field");
    }
  }
}

std::optional<std::string> JsonFields::string(std::string_view name, bool required, std::size_t max_bytes) {
  const auto* value = object_.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required) add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (!value->is_string()) {
    add_error(std::string(name), "must be a string");
    return std::nullopt;
  }
  if (value->as_string().size() > max_bytes) {
    add_error(std::string(name), "must be at most " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  return std::string(value->as_string());
}

std::optional<std::vector<std::string>> JsonFields::strings(std::string_view name, bool required, std::size_t max_items) {
  const auto* value = object_.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required) add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (!value->is_array() || value->as_array().size() > max_items) {
    add_error(std::string(name), "must be an array of at most " + std::to_string(max_items) + " strings");
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (const auto& item : value->as_array()) {
    if (!item.is_string() || item.as_string().size() > 200) {
      add_error(std::string(name), "must hold strings of at most 200 bytes");
      return std::nullopt;
    }
    items.emplace_back(item.as_string());
  }
  return items;
}

std::optional<bool> JsonFields::boolean(std::string_view name, bool required) {
  const auto* value = object_.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required) add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (from_form_ && value->is_string()) {
    if (value->as_string() == "true") return true;
    if (value->as_string() == "false") return false;
  }
  if (!value->is_bool()) {
    add_error(std::string(name), "must be true or false");
    return std::nullopt;
  }
  return value->as_bool();
}

void JsonFields::add_error(std::string field, std::string message) {
  problems_.push_back({std::move(field), std::move(message)});
}

Response JsonFields::problem(const Request& request) const { return validation_problem(request, problems_); }

Response validation_problem(const Request& request, const std::vector<FieldProblem>& problems) {
  boost::json::array errors;
  std::string detail;
  for (const auto& item : problems) {
    errors.push_back(boost::json::object{{"field", item.field}, {"message", item.message}});
    detail += (detail.empty() ? "" : "; ") + item.field + " " + item.message;
  }
  return http::problem(problems::kValidation, detail, request.request_id, {{"errors", std::move(errors)}});
}

}  // namespace framehouse::http
