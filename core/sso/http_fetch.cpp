#include "sso/http_fetch.hpp"

#include <cctype>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <boost/url/parse.hpp>
#include <curl/curl.h>

namespace framehouse::sso {
namespace {

std::size_t append(char* data, std::size_t size, std::size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  constexpr std::size_t kLimit = 1 << 20;  // no provider document is larger; a bigger one is refused
  if (body->size() + size * count > kLimit) return 0;
  body->append(data, size * count);
  return size * count;
}

FetchResponse perform(const std::string& url, const FetchOptions& options,
                      const std::function<void(CURL*)>& configure) {
  if (!allowed_url(url)) throw std::runtime_error(url + ": only https (or http to a loopback host) is used");
  // curl_easy_init() would do this itself on first use, but not safely from two threads at once.
  static std::once_flag started;
  std::call_once(started, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw std::runtime_error("libcurl could not start");
  FetchResponse response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  configure(curl.get());
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  if (const CURLcode code = curl_easy_perform(curl.get()); code != CURLE_OK) {
    throw std::runtime_error(url + ": " + (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

bool allowed_url(const std::string& url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return false;
  if (parsed->scheme() == "https") return true;
  const std::string host(parsed->host());
  return parsed->scheme() == "http" && (host == "127.0.0.1" || host == "localhost" || host == "[::1]");
}

FetchResponse http_get(const std::string& url, const FetchOptions& options) {
  return perform(url, options, [](CURL* curl) { curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L); });
}

FetchResponse http_post_form(const std::string& url, const std::string& form, const std::string& user,
                             const std::string& password, const FetchOptions& options) {
  return perform(url, options, [&](CURL* curl) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
    // RFC 6749 §2.3.1: the client id and secret form-encoded, then Basic.
    const std::string encoded_user = form_encode(user), encoded_password = form_encode(password);
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, encoded_user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, encoded_password.c_str());
  });
}

std::string form_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace framehouse::sso
