// Test support: a minimal blocking HTTP/1.1 client over a plain socket, so that tests talk
// to the real server exactly as any client would, byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace framehouse::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::vector<std::string> set_cookies;        // every Set-Cookie, in order
  std::string body;
  bool closed = false;  // the server closed the connection after this response
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpConnection {
 public:
  HttpConnection(const std::string& host, std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends raw bytes (for malformed requests).
  void send_raw(const std::string& bytes);
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});
  // Reads one response; status 0 if the connection closed first.
  HttpResponse read_response();
  // Everything the server sends until it closes the connection (a streamed response).
  std::string read_until_closed();
  // True if the server closed the connection within the timeout.
  bool closed_by_peer(int timeout_ms);

 private:
  bool fill();
  int fd_ = -1;
  std::string buffer_;
};

// One request on a new connection.
HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = "", const std::map<std::string, std::string>& headers = {});

}  // namespace framehouse::testing
