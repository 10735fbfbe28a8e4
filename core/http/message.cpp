#include "http/message.hpp"

#include <strings.h>

#include <cctype>

#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>

namespace framehouse::http {

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string decode_form_component(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < encoded.size() && std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(encoded[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(encoded.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  auto params = boost::urls::parse_query(query);
  if (!params) return std::nullopt;
  for (const auto& param : *params) {
    if (decode_form_component(param.key) == name) return decode_form_component(param.value);
  }
  return std::nullopt;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

void Response::add_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string> Request::cookie(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto equals = pair.find('=');
      if (equals != std::string_view::npos && pair.substr(0, equals) == name) return std::string(pair.substr(equals + 1));
    }
  }
  return std::nullopt;
}

std::string to_header_value(const SetCookie& cookie) {
  std::string value = cookie.name + "=" + cookie.value + "; Path=/; Max-Age=" + std::to_string(cookie.max_age_seconds);
  if (cookie.http_only) value += "; HttpOnly";
  if (cookie.secure) value += "; Secure";
  value += "; SameSite=" + std::string(cookie.same_site);
  return value;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return std::nullopt;
}

Response Response::json(int status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.body = boost::json::serialize(body);
  response.set_header("Content-Type", "application/json");
  return response;
}

Response Response::no_content() {
  Response response;
  response.status = 204;
  return response;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", std::move(content_type));
  return response;
}

}  // namespace framehouse::http
