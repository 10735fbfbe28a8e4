// Outgoing HTTP for the identity providers (libcurl): discovery, keys, the token endpoint.
// Certificates are always verified; plain http is refused except to a loopback host (a
// provider on the same machine, as in the tests).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace framehouse::sso {

struct FetchResponse {
  long status = 0;
  std::string body;
};

struct FetchOptions {
  std::chrono::milliseconds timeout{10'000};
  std::string ca_file;  // a private CA for the provider's certificate; empty: the system's
};

// Whether the URL may be fetched: https, or http to 127.0.0.1, ::1 or localhost.
bool allowed_url(const std::string& url);

// GET; throws std::runtime_error naming the URL on a transport failure (not on a 4xx/5xx).
FetchResponse http_get(const std::string& url, const FetchOptions& options);
// POST application/x-www-form-urlencoded with HTTP Basic client authentication.
FetchResponse http_post_form(const std::string& url, const std::string& form, const std::string& user,
                             const std::string& password, const FetchOptions& options);

// application/x-www-form-urlencoded value encoding.
std::string form_encode(const std::string& text);

}  // namespace framehouse::sso
