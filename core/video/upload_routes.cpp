#include "video/upload_routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "accounts/routes.hpp"
#include "http/json_input.hpp"
#include "http/multipart.hpp"
#include "http/problem.hpp"

namespace framehouse::video {
namespace {

namespace json = boost::json;
using accounts::AuthContext;
using http::Request;
using http::Response;

json::object upload_json(const Upload& upload) {
  return {{"id", upload.id},         {"object", "image"},       {"content_type", upload.content_type},
          {"width", upload.width},   {"height", upload.height}, {"bytes", upload.bytes},
          {"created_at", upload.created_at}};
}

Response storage_problem(const Request& request) {
  return http::problem(http::problems::kUnavailable, "storage is not available; try again", request.request_id);
}

}  // namespace

void add_upload_routes(http::Router& router, accounts::Accounts& accounts, Uploads& uploads) {
  router.add("POST", "/v1/images", accounts::signed_in(accounts, accounts::Scope::images_write, [&uploads](Request& request, const AuthContext& who) {
    const auto parts = http::parse_multipart(request);
    if (!parts) {
      return http::problem(http::problems::kUnsupportedMediaType, "send the image as multipart/form-data in a part named file",
                           request.request_id);
    }
    const http::FormPart* file = nullptr;
    std::vector<http::FieldProblem> problems;
    for (const auto& part : *parts) {
      if (part.name == "file" && file == nullptr) {
        file = &part;
      } else {
        problems.push_back({part.name.empty() ? "(unnamed part)" : part.name, "is not a known field"});
      }
    }
    if (file == nullptr) problems.push_back({"file", "is required"});
    if (!problems.empty()) return http::validation_problem(request, problems);
    auto added = uploads.add(who.user_id, std::string(file->data));
    if (!added) {
      if (added.outcome().status() == sdk::Status::invalid_argument) {
        return http::validation_problem(request, {{"file", added.outcome().message()}});
      }
      return storage_problem(request);
    }
    return Response::json(201, upload_json(added.value()));
  }));

  router.add("GET", "/v1/images", accounts::signed_in(accounts, accounts::Scope::images_read, [&uploads](Request&, const AuthContext& who) {
    json::array data;
    for (const auto& upload : uploads.list(who.user_id)) data.push_back(upload_json(upload));
    return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
  }));

  router.add("GET", "/v1/images/{id}", accounts::signed_in(accounts, accounts::Scope::images_read, [&uploads](Request& request, const AuthContext& who) {
    const auto upload = uploads.find(who.user_id, request.path_params.at("id"));
    if (!upload) return http::problem(http::problems::kNotFound, "", request.request_id);
    return Response::json(200, upload_json(*upload));
  }));

  router.add("GET", "/v1/images/{id}/content", accounts::signed_in(accounts, accounts::Scope::images_read, [&uploads](Request& request, const AuthContext& who) {
               const std::string& id = request.path_params.at("id");
               const auto upload = uploads.find(who.user_id, id);
               if (!upload) return http::problem(http::problems::kNotFound, "", request.request_id);
               auto bytes = uploads.content(who.user_id, id);
               if (!bytes) return storage_problem(request);
               Response response = Response::text(200, std::move(bytes.value()), upload->content_type);
               response.set_header("Cache-Control", "private, no-store");
               return response;
             }));

  router.add("DELETE", "/v1/images/{id}", accounts::signed_in(accounts, accounts::Scope::images_write, [&uploads](Request& request, const AuthContext& who) {
    const auto removed = uploads.remove(who.user_id, request.path_params.at("id"));
    if (removed.status() == sdk::Status::not_found) return http::problem(http::problems::kNotFound, "", request.request_id);
    if (!removed) return storage_problem(request);
    return Response::no_content();
  }));
}

}  // namespace framehouse::video
