// Reading a request body as a JSON object (or an HTML form, for the few pages that post one),
// field by field, collecting every problem: the handler answers 400 for a body that is not
// JSON, 415 for another media type, and 422 naming each bad or unknown field.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "http/message.hpp"

namespace framehouse::http {

struct FieldProblem {
  std::string field;
  std::string message;
};

class JsonFields {
 public:
  // Parses the body as an object (an empty body counts as {}); a form-encoded body gives its
  // fields as strings, so the same handler serves both. Members not in `allowed` are
  // reported as unknown fields.
  JsonFields(const Request& request, std::initializer_list<std::string_view> allowed);

  // The 400 or 415 problem when the body could not be read at all.
  const std::optional<Response>& rejection() const { return rejection_; }

  std::optional<std::string> string(std::string_view name, bool required, std::size_t max_bytes = 4096);
  std::optional<bool> boolean(std::string_view name, bool required);
  // An array of at most `max_items` strings of at most 200 bytes each.
  std::optional<std::vector<std::string>> strings(std::string_view name, bool required, std::size_t max_items);
  void add_error(std::string field, std::string message);

  bool ok() const { return problems_.empty(); }
  const std::vector<FieldProblem>& problems() const { return problems_; }
  bool from_form() const { return from_form_; }
  const boost::json::object& object() const { return object_; }
  // 422 validation-failed with an "errors" array and every field named in the detail.
  Response problem(const Request& request) const;

 private:
  boost::json::object object_;
  std::vector<FieldProblem> problems_;
  bool from_form_ = false;
  std::optional<Response> rejection_;
};

// 422 for problems found outside JsonFields (business rules), in the same shape.
Response validation_problem(const Request& request, const std::vector<FieldProblem>& problems);

}  // namespace framehouse::http
