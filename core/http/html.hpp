// The few HTML pages the server answers (links followed from mail): one page shape, escaped.
#pragma once

#include <string>
#include <string_view>

#include "http/message.hpp"

namespace framehouse::http {

std::string html_escape(std::string_view text);
// A small page: `title` (escaped) as title and heading, `body` as given (already HTML); never
// cached, no scripts, forms post only back to this server.
Response html_page(int status, std::string_view title, const std::string& body);

}  // namespace framehouse::http
