// OpenAI's error shape on the OpenAI-compatible routes (http/openai_errors).
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "http/json_input.hpp"
#include "http/openai_errors.hpp"
#include "http/problem.hpp"

namespace framehouse::http {
namespace {

TEST(OpenAiErrors, OnlyTheRoutesOpenAiClientsCall) {
  for (const char* path : {"/v1/videos", "/v1/videos/video_1/content", "/v1/models", "/v1/models/sora-2", "/v1/images"}) {
    EXPECT_TRUE(is_openai_route(path)) << path;
  }
  for (const char* path : {"/v1/videosx", "/v1/me", "/v1/accounts", "/", "/v1/admin/videos", "/v1/imagesets"}) {
    EXPECT_FALSE(is_openai_route(path)) << path;
  }
}

TEST(OpenAiErrors, AValidationProblemNamesItsFirstFieldAndEveryProblemInTheMessage) {
  Request request;
  request.request_id = "req-1";
  const Response converted = as_openai_error(
      validation_problem(request, {{"size", "must be one of 512x512"}, {"seconds", "must be a whole number from 1 to 20"}}));
  EXPECT_EQ(converted.status, 422);  // the same status
  EXPECT_EQ(converted.header("Content-Type"), std::optional<std::string_view>("application/json"));
  const auto body = boost::json::parse(converted.body).as_object();
  const auto& error = body.at("error").as_object();
  EXPECT_EQ(error.at("param"), "size");
  EXPECT_EQ(error.at("code"), "validation_failed");
  EXPECT_EQ(error.at("type"), "invalid_request_error");
  EXPECT_EQ(error.at("message"), "size must be one of 512x512; seconds must be a whole number from 1 to 20");
  EXPECT_EQ(body.at("request_id"), "req-1");
}

TEST(OpenAiErrors, StatusesMapToOpenAisTypes) {
  const auto type_of = [](const ProblemType& type) {
    return std::string(boost::json::parse(as_openai_error(problem(type, "why", "")).body).at("error").at("type").as_string());
  };
  EXPECT_EQ(type_of(problems::kUnauthorized), "authentication_error");
  EXPECT_EQ(type_of(problems::kForbidden), "permission_error");
  EXPECT_EQ(type_of(problems::kNotFound), "not_found_error");
  EXPECT_EQ(type_of(problems::kTooManyRequests), "rate_limit_error");
  EXPECT_EQ(type_of(problems::kUnavailable), "server_error");
  EXPECT_EQ(type_of(problems::kConflict), "invalid_request_error");
  const auto error = boost::json::parse(as_openai_error(problem(problems::kNotFound, "", "")).body).at("error");
  EXPECT_EQ(error.at("message"), "No such resource");  // the title when there is no detail
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_EQ(error.at("code"), "not_found");
}

TEST(OpenAiErrors, ASuccessOrAnythingElseIsLeftAlone) {
  const Response ok = Response::json(200, boost::json::object{{"id", "video_1"}});
  EXPECT_EQ(as_openai_error(ok).body, ok.body);
  Response text;
  text.status = 404;
  text.body = "not json";
  text.set_header("Content-Type", "text/plain");
  EXPECT_EQ(as_openai_error(text).body, "not json");
}

}  // namespace
}  // namespace framehouse::http
