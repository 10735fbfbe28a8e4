// multipart/form-data (RFC 7578) bodies: the parts, each with its field name, file name and
// content type. The body is already bounded by the server's body limit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace framehouse::http {

struct FormPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;  // "text/plain" when the part declares none
  std::string_view data;     // points into the request body
};

// The parts of a multipart/form-data request, or nothing when the content type is not
// multipart/form-data with a boundary, or the body is malformed.
std::optional<std::vector<FormPart>> parse_multipart(const Request& request);

}  // namespace framehouse::http
