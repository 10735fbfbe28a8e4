#include "http_client.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <span>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <curl/curl.h>

namespace framehouse::http_client {

namespace json = boost::json;
using sdk::Outcome;
using sdk::Status;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

namespace {

bool loopback_http(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return false;
  const std::string host = url.substr(7, url.find_first_of(":/", 7) - 7);
  if (host == "localhost") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

// Where a response goes: into memory, or (a download) into an output, unless it is an error.
struct Collector {
  Answer* answer;
  sdk::OutputStream* output;
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& target = *static_cast<Collector*>(user);
  const std::size_t n = size * count;
  if (target.output != nullptr && target.answer->ok()) {
    if (auto written = target.output->write(std::as_bytes(std::span(data, n))); !written) {
      target.answer->output_failure = written;
      return 0;
    }
    return n;
  }
  if (target.answer->body.size() < (1u << 20)) target.answer->body.append(data, n);
  return n;
}

// Each header line: a status line sets the status (and starts a new set of headers, after a
// 100 Continue or a redirect); the others are kept by lower-case name.
std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  Answer& answer = *static_cast<Collector*>(user)->answer;
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    answer.headers.clear();
    const auto space = line.find(' ');
    answer.status = space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
  } else if (const auto colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    answer.headers[lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

}  // namespace

Outcome normalise_base_urls(std::vector<std::string>& bases) {
  if (bases.empty()) return Outcome::failure(Status::invalid_argument, "base_url needs at least one URL");
  for (auto& base : bases) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.rfind("https://", 0) != 0 && !loopback_http(base)) {
      return Outcome::failure(Status::invalid_argument, "base_url must be https:// (http:// only to a loopback address): " + base);
    }
  }
  return {};
}

std::string Answer::describe() const {
  if (status == 0) return "the upstream did not answer: " + error;
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  std::string message;
  if (!ec && parsed.is_object()) {
    const auto* error_value = parsed.as_object().if_contains("error");
    if (error_value != nullptr && error_value->is_string()) message = std::string(error_value->as_string());
    if (error_value != nullptr && error_value->is_object()) {
      const auto* text = error_value->as_object().if_contains("message");
      if (text != nullptr && text->is_string()) message = std::string(text->as_string());
    }
  }
  return "the upstream answered " + std::to_string(status) + (message.empty() ? "" : ": " + message);
}

// One connection cache (and DNS cache) for every call of the engine, under a lock per kind.
struct HttpClient::Shared {
  CURLSH* handle = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  Shared() {
    handle = curl_share_init();
    curl_share_setopt(handle, CURLSHOPT_LOCKFUNC, +[](CURL*, curl_lock_data data, curl_lock_access, void* user) {
      static_cast<Shared*>(user)->locks[data].lock();
    });
    curl_share_setopt(handle, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data data, void* user) {
      static_cast<Shared*>(user)->locks[data].unlock();
    });
    curl_share_setopt(handle, CURLSHOPT_USERDATA, this);
    curl_share_setopt(handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  ~Shared() { curl_share_cleanup(handle); }
};

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)), shared_(std::make_unique<Shared>()) {}
HttpClient::~HttpClient() = default;

Answer HttpClient::send(const Request& request) const {
  Answer answer;
  const auto curl = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>(curl_easy_init(), &curl_easy_cleanup);
  Collector collector{&answer, request.output};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
  const auto add_header = [&](const std::string& header) { headers.reset(curl_slist_append(headers.release(), header.c_str())); };
  for (const auto& header : settings_.headers) add_header(header);
  for (const auto& header : request.headers) add_header(header);
  add_header("Expect:");
  std::unique_ptr<curl_mime, decltype(&curl_mime_free)> form(nullptr, &curl_mime_free);
  if (!request.form.empty()) {
    form.reset(curl_mime_init(curl.get()));
    for (const auto& field : request.form) {
      curl_mimepart* part = curl_mime_addpart(form.get());
      curl_mime_name(part, field.name.c_str());
      curl_mime_data(part, field.value.data(), field.value.size());
      if (!field.filename.empty()) curl_mime_filename(part, field.filename.c_str());
      if (!field.content_type.empty()) curl_mime_type(part, field.content_type.c_str());
    }
    curl_easy_setopt(curl.get(), CURLOPT_MIMEPOST, form.get());
  } else if (request.body) {
    add_header("Content-Type: " + request.content_type);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request.body->c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
  }
  if (request.method != "GET" && request.method != "POST") curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST" && request.form.empty() && !request.body) curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl.get(), CURLOPT_SHARE, shared_->handle);
  curl_easy_setopt(curl.get(), CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, settings_.ca_file.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  const std::int64_t timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : settings_.timeout_ms;
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<std::int64_t>(timeout_ms, 10'000)));
  // A download may take long; a call that moves nothing for timeout_ms is abandoned.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, std::max<long>(1, static_cast<long>(timeout_ms / 1000)));
  if (request.output == nullptr) curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &collect_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &collector);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &collector);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  if (const CURLcode code = curl_easy_perform(curl.get()); code != CURLE_OK) {
    answer.error = std::string(curl_easy_strerror(code)) + (error[0] != '\0' ? std::string(": ") + error : "");
    answer.status = 0;
  }
  return answer;
}

std::string query_escaped(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace framehouse::http_client
