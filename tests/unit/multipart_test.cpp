#include <gtest/gtest.h>

#include "http/multipart.hpp"

namespace framehouse::http {
namespace {

Request multipart(const std::string& content_type, const std::string& body) {
  Request request;
  request.headers.emplace_back("content-type", content_type);
  request.body = body;
  return request;
}

TEST(Multipart, PartsWithNamesFilenamesAndTypes) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"
      "a cat\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
      "Content-Type: image/png\r\n\r\n"
      "\x89PNG\r\n--not-the-boundary\r\n"
      "--XyZ--\r\n";
  const auto parts = parse_multipart(multipart("multipart/form-data; boundary=XyZ", body));
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "prompt");
  EXPECT_EQ((*parts)[0].data, "a cat");
  EXPECT_FALSE((*parts)[0].filename);
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "cat.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\x89PNG\r\n--not-the-boundary");
}

TEST(Multipart, QuotedBoundaryAndMalformedBodies) {
  const std::string body = "--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b--";
  EXPECT_TRUE(parse_multipart(multipart("multipart/form-data; boundary=\"a b\"", body)));
  EXPECT_FALSE(parse_multipart(multipart("application/json", body)));
  EXPECT_FALSE(parse_multipart(multipart("multipart/form-data", body)));
  EXPECT_FALSE(parse_multipart(multipart("multipart/form-data; boundary=a b", "--a b\r\nno end")));
  EXPECT_FALSE(parse_multipart(multipart("multipart/form-data; boundary=q", "garbage")));
}

}  // namespace
}  // namespace framehouse::http
