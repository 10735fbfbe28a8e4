#include "http/html.hpp"

namespace framehouse::http {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Response html_page(int status, std::string_view title, const std::string& body) {
  Response response = Response::text(
      status,
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>" + html_escape(title) + "</title></head><body><main><h1>" +
          html_escape(title) + "</h1>" + body + "</main></body></html>",
      "text/html; charset=utf-8");
  response.set_header("Cache-Control", "no-store");
  // Its buttons confirm things (an address, an unsubscribe): no other site may frame them.
  response.set_header("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace framehouse::http
