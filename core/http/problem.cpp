#include "http/problem.hpp"

namespace framehouse::http {

Response problem(const ProblemType& type, std::string_view detail, std::string_view request_id,
                 boost::json::object extra) {
  boost::json::object body = std::move(extra);
  body["type"] = "urn:framehouse:problem:" + std::string(type.slug);
  body["title"] = type.title;
  body["status"] = type.status;
  if (!detail.empty()) body["detail"] = detail;
  if (!request_id.empty()) body["request_id"] = request_id;
  Response response = Response::json(type.status, body);
  response.set_header("Content-Type", "application/problem+json");
  return response;
}

Response retry_later(const ProblemType& type, std::string_view detail, std::string_view request_id,
                     std::chrono::seconds retry_after) {
  Response response = problem(type, detail, request_id);
  response.set_header("Retry-After", std::to_string(retry_after.count()));
  return response;
}

}  // namespace framehouse::http
