#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/problem.hpp"
#include "http/router.hpp"
#include "workers/blocking.hpp"

namespace framehouse::http {
namespace {

Request make(std::string method, std::string path, std::string request_id = "") {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  if (!request_id.empty()) request.headers.emplace_back("x-request-id", request_id);
  return request;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.set_metrics(&metrics);
    router.add("GET", "/v1/videos/{id}", [](Request& r) { return Response::text(200, r.path_params.at("id")); });
    router.add("DELETE", "/v1/videos/{id}", [](Request&) { return Response::text(204, ""); });
    router.add("GET", "/v1/videos/{id}/content", [](Request& r) {
      return Response::text(200, "content:" + r.path_params.at("id"));
    });
    router.add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("secret@example.org"); });
  }
  Router router;
  observability::Metrics metrics;
};

TEST_F(RouterTest, MatchesPathParameters) {
  auto request = make("GET", "/v1/videos/video_123");
  EXPECT_EQ(router.dispatch(request).body, "video_123");
  auto nested = make("GET", "/v1/videos/abc/content");
  EXPECT_EQ(router.dispatch(nested).body, "content:abc");
}

TEST_F(RouterTest, UnknownPathIsProblem404) {
  auto request = make("GET", "/v1/nothing");
  const Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("Content-Type"), "application/problem+json");
  const auto body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("type"), "urn:framehouse:problem:not-found");
  EXPECT_EQ(body.at("status"), 404);
  EXPECT_EQ(body.at("request_id").as_string(), request.request_id);
}

TEST_F(RouterTest, EmptyParameterDoesNotMatch) {
  auto request = make("GET", "/v1/videos/");
  EXPECT_EQ(router.dispatch(request).status, 404);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  auto request = make("POST", "/v1/videos/x");
  const Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, DELETE");
}

TEST_F(RouterTest, HeadIsServedByGet) {
  auto request = make("HEAD", "/v1/videos/x");
  EXPECT_EQ(router.dispatch(request).status, 200);
}

TEST_F(RouterTest, HandlerExceptionIs500WithoutDetails) {
  auto request = make("GET", "/boom");
  const Response response = router.dispatch(request);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret@example.org"), std::string::npos);
  EXPECT_EQ(response.body.find("runtime_error"), std::string::npos);
}

TEST_F(RouterTest, HonoursSafeRequestIdAndReplacesUnsafeOne) {
  auto request = make("GET", "/v1/videos/x", "client-id.42");
  EXPECT_EQ(router.dispatch(request).header("X-Request-Id"), "client-id.42");
  auto unsafe = make("GET", "/v1/videos/x", "evil\r\ninjected");
  const auto id = std::string(*router.dispatch(unsafe).header("X-Request-Id"));
  EXPECT_EQ(id.size(), 24u);
  EXPECT_EQ(id.find("evil"), std::string::npos);
}

TEST_F(RouterTest, CountsRequestsByRoutePattern) {
  auto a = make("GET", "/v1/videos/one");
  auto b = make("GET", "/v1/videos/two");
  router.dispatch(a);
  router.dispatch(b);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("framehouse_http_requests_total{method=\"GET\",route=\"/v1/videos/{id}\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/v1/videos/one"), std::string::npos);
}

TEST_F(RouterTest, ARouteTriedInMemoryIsAnsweredThereOrHandedOnWithNothingRecorded) {
  bool cached = false;
  int runs = 0;
  router.add(
      "GET", "/v1/me",
      [&](Request&) {
        ++runs;
        if (!cached) workers::about_to_block();  // a database read
        return Response::text(200, cached ? "from memory" : "from the database");
      },
      Blocking::unless_in_memory);
  auto request = make("GET", "/v1/me");
  const Router::Route* route = router.route_of(request);
  ASSERT_TRUE(Router::tried_in_memory(route));
  const std::string counted = "framehouse_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"200\"} ";
  EXPECT_FALSE(router.try_in_memory(route, request));  // it would block: handed on
  EXPECT_EQ(router.run(route, request).body, "from the database");  // on a handler thread, where it may
  EXPECT_NE(metrics.render().find(counted + "1"), std::string::npos);  // counted once
  cached = true;
  const auto answered = router.try_in_memory(route, request);
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->body, "from memory");
  EXPECT_EQ(answered->header("X-Request-Id"), request.request_id);
  EXPECT_EQ(runs, 3);
  EXPECT_NE(metrics.render().find(counted + "2"), std::string::npos);
  // Outside the scope nothing is refused.
  cached = false;
  EXPECT_NO_THROW(workers::about_to_block());
}

TEST_F(RouterTest, WhatWouldBlockIsNotTakenForAFailureOfTheHandler) {
  router.add(
      "GET", "/v1/careful",
      [](Request&) -> Response {
        try {
          workers::about_to_block();
        } catch (const std::exception&) {
          return Response::text(500, "swallowed");
        }
        return Response::text(200, "ran");
      },
      Blocking::unless_in_memory);
  auto request = make("GET", "/v1/careful");
  const Router::Route* route = router.route_of(request);
  EXPECT_FALSE(router.try_in_memory(route, request));
  EXPECT_EQ(router.run(route, request).body, "ran");
}

}  // namespace
}  // namespace framehouse::http

namespace framehouse::http {
namespace {

TEST(FormDecoding, PercentEscapesAndPlusAsSpace) {
  EXPECT_EQ(decode_form_component("a+b%2B%40c"), "a b+@c");
  EXPECT_EQ(decode_form_component("100%"), "100%");
  EXPECT_EQ(decode_form_component("%zz%4"), "%zz%4");
  Request request;
  request.query = "token=fhe_a%2Db&x=1";
  EXPECT_EQ(request.query_param("token"), "fhe_a-b");
  EXPECT_EQ(request.query_param("missing"), std::nullopt);
}

}  // namespace
}  // namespace framehouse::http

TEST(Cookies, AreReadFromTheCookieHeaderByExactName) {
  framehouse::http::Request request;
  request.headers = {{"cookie", "theme=dark; __Host-fh_session=fhs_abc; fh_session=fhs_plain"}, {"cookie", "late=1"}};
  EXPECT_EQ(request.cookie("__Host-fh_session"), "fhs_abc");
  EXPECT_EQ(request.cookie("fh_session"), "fhs_plain");
  EXPECT_EQ(request.cookie("late"), "1");
  EXPECT_FALSE(request.cookie("session"));
}

TEST(Cookies, SetCookieCarriesEveryAttribute) {
  EXPECT_EQ(framehouse::http::to_header_value({"__Host-fh_session", "fhs_x", 3600, true, true, "Lax"}),
            "__Host-fh_session=fhs_x; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(framehouse::http::to_header_value({"fh_csrf", "", 0, false, false, "Strict"}),
            "fh_csrf=; Path=/; Max-Age=0; SameSite=Strict");
}
