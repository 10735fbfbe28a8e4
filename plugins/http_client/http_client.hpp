// HTTP calls from a plugin to the service behind it (an inference server, a payment
// processor) over libcurl: one connection and DNS cache per client, TLS verified (a private CA
// by file), nothing but http and https, a timeout on every call. Compiled into each plugin
// that needs it, so that a plugin stays one file that depends only on the SDK and system
// libraries. The plugin starts libcurl (curl_global_init) for its life.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <framehouse/sdk/outcome.hpp>
#include <framehouse/sdk/generation.hpp>  // sdk::OutputStream

namespace framehouse::http_client {

std::string lower(std::string text);

// Checks base URLs (https, or http to a loopback address) and drops trailing slashes.
sdk::Outcome normalise_base_urls(std::vector<std::string>& bases);

struct FormPart {
  std::string name;
  std::string value;
  std::string filename;      // set: a file part
  std::string content_type;  // of a file part
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;             // sent as it is, with content_type
  std::string content_type = "application/json";
  std::vector<FormPart> form;  // not empty: multipart/form-data (no body then)
  // A download: a 2xx body is written here (not kept in the answer). Not owned.
  sdk::OutputStream* output = nullptr;
  // This call's limit instead of the client's (a caller that retries within a budget); 0: the client's.
  std::int64_t timeout_ms = 0;
};

struct Answer {
  long status = 0;  // 0: no HTTP answer
  std::string body;  // the first MiB (of an error, for a download)
  std::string error;  // libcurl's, when status is 0
  std::map<std::string, std::string> headers;  // lower-case names
  sdk::Outcome output_failure;  // the output refused a write (a download)
  bool ok() const { return status >= 200 && status < 300; }
  // "the upstream answered 503: <its message>" / "the upstream did not answer: …", where the
  // message is the JSON body's error.message, error (a string), or nothing.
  std::string describe() const;
};

struct HttpSettings {
  std::vector<std::string> headers;  // sent with every request (an Authorization, say)
  std::string ca_file;
  std::int64_t timeout_ms = 30'000;  // a call; a download is abandoned when nothing moves this long
};

// Thread-safe; keeps connections open between calls (polling reuses them).
class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Answer send(const Request& request) const;

 private:
  struct Shared;
  HttpSettings settings_;
  std::unique_ptr<Shared> shared_;
};

// `text` escaped for a URL's query or a form field (libcurl's escaping: all but A-Z a-z 0-9 - . _ ~).
std::string query_escaped(const std::string& text);

}  // namespace framehouse::http_client
