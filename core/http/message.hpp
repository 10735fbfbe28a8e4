// The HTTP request and response as the rest of the core sees them: plain data, no Beast, so
// handlers and domain code compile fast and test without a socket.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace framehouse::http {

// Decodes one component of a query string or form body: %XX escapes, and '+' as a space
// (application/x-www-form-urlencoded).
std::string decode_form_component(std::string_view encoded);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path and query
  std::string path;    // the path as received (still percent-encoded), without the query
  std::string query;   // raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote_address;
  std::string request_id;
  std::map<std::string, std::string> path_params;  // filled by the router

  // The first header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string> query_param(std::string_view name) const;
  // The value of the first cookie of this name in the Cookie header(s).
  std::optional<std::string> cookie(std::string_view name) const;
};

// A Set-Cookie header's value (RFC 6265). Path is always "/" and no Domain is sent, so that a
// "__Host-" name is valid whenever `secure` is.
struct SetCookie {
  std::string name;
  std::string value;
  std::int64_t max_age_seconds = 0;  // 0: delete the cookie
  bool http_only = true;
  bool secure = true;
  std::string_view same_site = "Lax";
};
std::string to_header_value(const SetCookie& cookie);

// A response body produced over time (Server-Sent Events). The server polls it a few times a
// second on the connection's thread; poll() must not block.
class StreamSource {
 public:
  struct Chunk {
    std::string data;   // written as one HTTP chunk when not empty
    bool done = false;  // the stream ends after this chunk
  };
  virtual ~StreamSource() = default;
  virtual Chunk poll() = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close_connection = false;
  // When set, the body is streamed from here (chunked) and `body` is ignored.
  std::shared_ptr<StreamSource> stream;

  void set_header(std::string name, std::string value);
  void add_header(std::string name, std::string value);  // one more of the name (Set-Cookie)
  std::optional<std::string_view> header(std::string_view name) const;

  static Response json(int status, const boost::json::value& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response no_content();  // 204
};

}  // namespace framehouse::http
