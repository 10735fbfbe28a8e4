// Errors on the OpenAI-compatible routes in OpenAI's own shape.
//
// Every route answers errors as RFC 9457 problem details, except the ones OpenAI's clients call
// (/v1/videos…, /v1/models…, /v1/images…): there the same error, with the same HTTP status,
// goes out as {"error": {"message", "type", "param", "code"}} so that the official clients set
// `error.code` and `error.param` (docs/openapi.yaml, "Errors"). The problem's fields survive:
// `code` is its slug in snake case, `param` the first field it names, `message` its detail with
// every field problem, and the request id stays in the body and in X-Request-Id.
#pragma once

#include <string_view>

#include "http/message.hpp"

namespace framehouse::http {

bool is_openai_route(std::string_view path);
// A problem+json response in OpenAI's shape; any other response unchanged.
Response as_openai_error(Response response);

}  // namespace framehouse::http
