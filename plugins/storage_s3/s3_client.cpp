#include "s3_client.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <random>
#include <thread>

#include <curl/curl.h>

namespace framehouse::storage_s3 {

using sdk::Outcome;
using sdk::Result;
using sdk::Status;

struct S3Client::Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // empty: the bucket itself
  Pairs query;         // decoded
  Pairs headers;       // beyond host and x-amz-*; all signed
  std::span<const std::byte> body;
  // Takes a 2xx response's body as it arrives (else it is kept in Response::body); returns
  // false to stop the transfer.
  std::function<bool(std::span<const std::byte>, const Response&)> on_body;
};

struct S3Client::Response {
  long status = 0;  // 0: no HTTP answer
  CURLcode transport = CURLE_OK;
  std::string transport_error;
  Pairs headers;  // lower-case names
  std::string body;
  bool stopped_by_receiver = false;

  bool ok() const { return transport == CURLE_OK && status >= 200 && status < 300; }
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

struct S3Client::Pool {
  using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
  std::mutex mutex;
  std::vector<Handle> handles;

  Handle take() {
    {
      std::lock_guard lock(mutex);
      if (!handles.empty()) {
        Handle handle = std::move(handles.back());
        handles.pop_back();
        return handle;
      }
    }
    return Handle(curl_easy_init(), &curl_easy_cleanup);
  }
  void give_back(Handle handle) {
    std::lock_guard lock(mutex);
    handles.push_back(std::move(handle));
  }
};

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxAnswerBody = 16 * 1024 * 1024;
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

bool loopback(std::string_view host) {
  if (host == "localhost") return true;
  std::string bare(host);
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, bare.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool ip_address(std::string_view host) {
  std::string bare(host);
  if (bare.size() > 2 && bare.front() == '[') return true;
  in_addr v4{};
  return inet_pton(AF_INET, bare.c_str(), &v4) == 1;
}

// S3's rules for names that work with either addressing style.
bool valid_bucket(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return name.front() != '-' && name.front() != '.' && name.back() != '-' && name.back() != '.' &&
         name.find("..") == std::string_view::npos;
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& text, const char* format) {
  std::tm parts{};
  const char* end = strptime(text.c_str(), format, &parts);
  if (end == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

// ListObjectsV2 and ListMultipartUploads: 2026-12-01T18:35:59.000Z
std::optional<std::chrono::system_clock::time_point> parse_iso8601(const std::string& text) {
  return parse_time(text, "%Y-%m-%dT%H:%M:%S");
}

// Last-Modified: Tue, 01 Dec 2026 18:35:59 GMT
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& text) {
  return parse_time(text, "%a, %d %b %Y %H:%M:%S");
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<S3Client::Response*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a 100 Continue, say): what came before was not it.
    response->headers.clear();
    const auto space = line.find(' ');
    response->status = space == std::string_view::npos ? 0 : std::strtol(line.data() + space + 1, nullptr, 10);
    return size * count;
  }
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    response->headers.emplace_back(lower(std::string(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return size * count;
}

struct Transfer {
  const S3Client::Request* request = nullptr;
  S3Client::Response* response = nullptr;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  auto& response = *transfer->response;
  if (transfer->request->on_body && response.status >= 200 && response.status < 300) {
    if (!transfer->request->on_body(std::as_bytes(std::span(data, n)), response)) {
      response.stopped_by_receiver = true;
      return 0;
    }
    return n;
  }
  // A listing of 1000 keys is a few hundred KiB; an error a few hundred bytes. Anything far
  // larger is not an S3 answer.
  const std::size_t limit = response.status >= 200 && response.status < 300 ? kMaxAnswerBody : kMaxErrorBody;
  if (response.body.size() + n > limit) return 0;
  response.body.append(data, n);
  return n;
}

bool transient(const S3Client::Response& response) {
  if (response.stopped_by_receiver) return false;
  switch (response.transport) {
    case CURLE_OK: break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
  if (response.status == 429 || response.status == 500 || response.status == 502 || response.status == 503 ||
      response.status == 504) {
    return true;
  }
  const std::string code = xml_text(response.body, "Code");
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError";
}

// What an S3 answer means to the host. Messages name the operation and S3's code, never a key.
Outcome failure(const S3Client::Response& response, std::string_view operation) {
  const std::string what = "S3 " + std::string(operation);
  if (response.status == 0 || response.transport != CURLE_OK) {
    if (response.transport == CURLE_PEER_FAILED_VERIFICATION) {
      return Outcome::failure(Status::unavailable, what + ": the store's certificate is not trusted (see ca_file): " +
                                                       response.transport_error);
    }
    return Outcome::failure(Status::unavailable, what + ": the store did not answer: " + response.transport_error);
  }
  const std::string code = xml_text(response.body, "Code");
  const std::string message = xml_text(response.body, "Message");
  const std::string detail = what + ": " + std::to_string(response.status) + (code.empty() ? "" : " " + code) +
                             (message.empty() ? "" : ": " + message);
  if (code == "NoSuchBucket") return Outcome::failure(Status::unavailable, detail + " (check bucket and endpoint)");
  if (response.status == 404) return Outcome::failure(Status::not_found, detail);
  if (response.status == 401 || response.status == 403) return Outcome::failure(Status::permission_denied, detail);
  if (response.status == 416) return Outcome::failure(Status::invalid_argument, detail);
  if (response.status == 429 || response.status >= 500) return Outcome::failure(Status::unavailable, detail);
  return Outcome::failure(Status::internal, detail);
}

// An answer that says 200 but carries an <Error> (CompleteMultipartUpload may).
bool error_in_body(const S3Client::Response& response) { return !xml_elements(response.body, "Error").empty(); }

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    const auto end = text.find(';', i);
    if (end == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    const std::string_view entity = text.substr(i + 1, end - i - 1);
    if (entity == "amp") out.push_back('&');
    else if (entity == "lt") out.push_back('<');
    else if (entity == "gt") out.push_back('>');
    else if (entity == "quot") out.push_back('"');
    else if (entity == "apos") out.push_back('\'');
    else if (!entity.empty() && entity.front() == '#') {
      const bool hexadecimal = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const unsigned long code = std::strtoul(std::string(entity.substr(hexadecimal ? 2 : 1)).c_str(), nullptr,
                                              hexadecimal ? 16 : 10);
      // UTF-8 of the code point.
      if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    } else {
      out.append(text.substr(i, end - i + 1));
    }
    i = end;
  }
  return out;
}

std::uint64_t to_u64(const std::string& text) { return std::strtoull(text.c_str(), nullptr, 10); }

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    const std::size_t after_name = at + open.size();
    if (after_name >= xml.size()) break;
    const char next = xml[after_name];
    if (next != '>' && next != ' ' && next != '/') {  // <Keys> is not <Key>
      at = after_name;
      continue;
    }
    const std::size_t tag_end = xml.find('>', after_name);
    if (tag_end == std::string_view::npos) break;
    if (xml[tag_end - 1] == '/') {  // <Tag/>
      out.emplace_back();
      at = tag_end + 1;
      continue;
    }
    const std::size_t end = xml.find(close, tag_end + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(tag_end + 1, end - tag_end - 1));
    at = end + close.size();
  }
  return out;
}

std::string xml_text(std::string_view xml, std::string_view tag) {
  const auto found = xml_elements(xml, tag);
  return found.empty() ? std::string() : decode_entities(found.front());
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<std::unique_ptr<S3Client>> S3Client::create(ClientSettings settings) {
  std::string endpoint = settings.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const auto scheme_end = endpoint.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : lower(endpoint.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return Outcome::failure(Status::invalid_argument, "endpoint must be https://host[:port] (http:// only to a loopback address)");
  }
  std::string authority = lower(endpoint.substr(scheme_end + 3));
  if (authority.empty() || authority.find_first_of("/?#@") != std::string::npos) {
    return Outcome::failure(Status::invalid_argument, "endpoint must be scheme://host[:port], without a path, user or query");
  }
  if ((scheme == "https" && authority.ends_with(":443")) || (scheme == "http" && authority.ends_with(":80"))) {
    authority.erase(authority.rfind(':'));  // what curl would send, and so what gets signed
  }
  const std::string host = authority.front() == '[' ? authority.substr(0, authority.find(']') + 1)
                                                    : authority.substr(0, authority.find(':'));
  if (scheme == "http" && !loopback(host)) {
    return Outcome::failure(Status::invalid_argument, "endpoint must use https:// (http:// is allowed only to a loopback address)");
  }
  if (!valid_bucket(settings.bucket)) {
    return Outcome::failure(Status::invalid_argument, "bucket must be 3-63 characters: lower-case letters, digits, '-' and '.'");
  }
  if (!settings.path_style && ip_address(host)) {
    return Outcome::failure(Status::invalid_argument,
                            "an endpoint given by IP address needs force_path_style = true (virtual-hosted style puts the bucket in the host name)");
  }
  if (settings.credentials.access_key_id.empty() || settings.credentials.secret_access_key.empty()) {
    return Outcome::failure(Status::invalid_argument, "access_key_id and secret_access_key are required");
  }
  if (settings.region.empty()) return Outcome::failure(Status::invalid_argument, "region is required");
  std::string signed_host = settings.path_style ? authority : settings.bucket + "." + authority;
  return std::unique_ptr<S3Client>(new S3Client(std::move(settings), scheme, std::move(signed_host)));
}

S3Client::S3Client(ClientSettings settings, std::string scheme, std::string host)
    : settings_(std::move(settings)), scheme_(std::move(scheme)), host_(std::move(host)), pool_(std::make_unique<Pool>()) {
  if (settings_.path_style) base_path_ = "/" + settings_.bucket;
}

S3Client::~S3Client() = default;

S3Client::Response S3Client::perform_once(const Request& request) {
  Response response;
  auto handle = pool_->take();
  if (!handle) {
    response.transport = CURLE_FAILED_INIT;
    response.transport_error = "libcurl could not make a handle";
    return response;
  }
  CURL* curl = handle.get();
  curl_easy_reset(curl);  // the options go; an open connection stays for the next request

  const std::string path = base_path_ + "/" + uri_encode(request.key, true);
  const std::string query = canonical_query(request.query);
  const std::string url = scheme_ + "://" + host_ + path + (query.empty() ? "" : "?" + query);
  const std::string payload_sha256 = request.body.empty() ? std::string(kEmptySha256) : sha256_hex(request.body);

  SignableRequest signable{request.method, path, request.query, request.headers, payload_sha256};
  const std::string date = amz_date(std::chrono::system_clock::now());
  signable.headers.emplace_back("host", host_);
  signable.headers.emplace_back("x-amz-content-sha256", payload_sha256);
  signable.headers.emplace_back("x-amz-date", date);
  const Signature signature = sign(signable, settings_.credentials, {settings_.region, "s3", date});

  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
  auto add_header = [&](const std::string& line) { headers.reset(curl_slist_append(headers.release(), line.c_str())); };
  for (const auto& [name, value] : signable.headers) add_header(name + ": " + value);
  add_header("Authorization: " + signature.authorization);
  add_header("Expect:");  // no 100-continue round trip
  const bool has_content_type = std::any_of(request.headers.begin(), request.headers.end(),
                                            [](const auto& header) { return lower(header.first) == "content-type"; });
  if (!has_content_type) add_header("Content-Type:");  // not curl's form-encoding default

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
  // No total timeout (a video can take a while to come down): a transfer that stalls ends.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max<long>(1, static_cast<long>(settings_.stall_timeout.count() / 1000)));
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "DELETE") {
      // The body is sent from memory, uncopied; POSTFIELDS with a custom method sends it as is.
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data()));
    }
  }
  Transfer transfer{&request, &response};
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  response.transport = curl_easy_perform(curl);
  if (response.transport != CURLE_OK) {
    response.transport_error = std::string(curl_easy_strerror(response.transport)) + (error[0] != '\0' ? std::string(": ") + error : "");
    if (!response.stopped_by_receiver && response.transport != CURLE_WRITE_ERROR) response.status = 0;
  }
  // A connection that failed is not worth keeping; the handle drops it on reuse anyway.
  pool_->give_back(std::move(handle));
  return response;
}

void S3Client::wait_before_attempt(int attempt) const {
  // Exponential backoff with full jitter (AWS's advice), capped at 10 s.
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto ceiling = std::min<std::int64_t>(10'000, settings_.retry_base.count() << std::min(attempt - 1, 16));
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 2, ceiling);
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

S3Client::Response S3Client::perform(const Request& request) {
  for (int attempt = 1;; ++attempt) {
    Response response = perform_once(request);
    if (!transient(response) || attempt >= settings_.max_attempts) return response;
    wait_before_attempt(attempt);
  }
}

Outcome S3Client::check_bucket() {
  // A listing rather than HeadBucket: a HEAD answer has no body, so no error code to report.
  const Response response = perform({"GET", "", {{"list-type", "2"}, {"max-keys", "1"}}, {}, {}, {}});
  if (response.ok()) return {};
  if (xml_text(response.body, "Code") == "NoSuchBucket") {
    return Outcome::failure(Status::unavailable, "S3 ListObjectsV2: 404 NoSuchBucket: the bucket " + settings_.bucket +
                                                     " does not exist at the endpoint");
  }
  return failure(response, "ListObjectsV2");
}

Outcome S3Client::put_object(const std::string& key, std::span<const std::byte> body) {
  const Response response = perform({"PUT", key, {}, {{"content-type", "application/octet-stream"}}, body, {}});
  return response.ok() ? Outcome{} : failure(response, "PutObject");
}

Result<ObjectHead> S3Client::head_object(const std::string& key) {
  const Response response = perform({"HEAD", key, {}, {}, {}, {}});
  if (!response.ok()) return failure(response, "HeadObject");
  ObjectHead head;
  head.size = to_u64(response.header("content-length"));
  head.modified = parse_http_date(response.header("last-modified")).value_or(std::chrono::system_clock::time_point{});
  head.etag = response.header("etag");
  return head;
}

Outcome S3Client::get_object(const std::string& key, std::uint64_t offset, std::optional<std::uint64_t> length,
                             sdk::ByteSink& out) {
  if (length && *length == 0) {
    auto head = head_object(key);
    if (!head) return head.outcome();
    if (offset > head->size) return Outcome::failure(Status::invalid_argument, "range outside the object");
    return {};
  }
  std::uint64_t delivered = 0;  // bytes given to out, over every attempt
  std::string etag;             // the version being read, once the first answer named it
  Outcome receiver_failure;
  for (int attempt = 1;; ++attempt) {
    const std::uint64_t from = offset + delivered;
    Request request{"GET", key, {}, {}, {}, {}};
    if (from > 0 || length) {
      request.headers.emplace_back(
          "range", "bytes=" + std::to_string(from) + "-" + (length ? std::to_string(offset + *length - 1) : ""));
    }
    if (!etag.empty()) request.headers.emplace_back("if-match", etag);
    bool checked = false;
    std::uint64_t skip = 0;  // a server that ignores Range sends the object from its start
    request.on_body = [&](std::span<const std::byte> chunk, const Response& response) {
      if (!checked) {
        checked = true;
        if (etag.empty()) etag = response.header("etag");
        if (response.status == 206) {
          // Content-Range: bytes first-last/total
          const std::string range = response.header("content-range");
          const auto slash = range.find('/');
          const std::uint64_t total = slash == std::string::npos ? 0 : to_u64(range.substr(slash + 1));
          if (length && offset + *length > total) {
            receiver_failure = Outcome::failure(Status::invalid_argument, "range outside the object");
            return false;
          }
        } else {
          const std::uint64_t total = to_u64(response.header("content-length"));
          if (from > total || (length && offset + *length > total)) {
            receiver_failure = Outcome::failure(Status::invalid_argument, "range outside the object");
            return false;
          }
          skip = from;
        }
      }
      if (skip >= chunk.size()) {
        skip -= chunk.size();
        return true;
      }
      chunk = chunk.subspan(static_cast<std::size_t>(skip));
      skip = 0;
      if (length) {
        const std::uint64_t wanted = *length - delivered;
        if (chunk.size() > wanted) chunk = chunk.first(static_cast<std::size_t>(wanted));
      }
      if (chunk.empty()) return true;
      if (Outcome written = out.write(chunk); !written) {
        receiver_failure = written;
        return false;
      }
      delivered += chunk.size();
      return true;
    };
    const Response response = perform_once(request);
    if (response.stopped_by_receiver) return receiver_failure;
    if (response.ok() && (!length || delivered == *length)) return {};
    if (response.status == 416) {
      // Starting exactly at the end is an empty read, not an error.
      auto head = head_object(key);
      if (!head) return head.outcome();
      if (!length && from == head->size) return {};
      return Outcome::failure(Status::invalid_argument, "range outside the object");
    }
    if (response.status == 412) {
      return Outcome::failure(Status::unavailable, "S3 GetObject: the object was replaced while it was being read");
    }
    const bool broke_off = response.ok() || transient(response);
    if (!broke_off || attempt >= settings_.max_attempts) {
      return response.ok() ? Outcome::failure(Status::unavailable, "S3 GetObject: the object came down short")
                           : failure(response, "GetObject");
    }
    wait_before_attempt(attempt);
  }
}

Outcome S3Client::delete_object(const std::string& key) {
  const Response response = perform({"DELETE", key, {}, {}, {}, {}});
  if (response.ok() || response.status == 404) return {};
  return failure(response, "DeleteObject");
}

Outcome S3Client::delete_objects(const std::vector<std::string>& keys) {
  if (keys.empty()) return {};
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const auto& key : keys) xml += "<Object><Key>" + xml_escape(key) + "</Key></Object>";
  xml += "</Delete>";
  const auto body = std::as_bytes(std::span(xml.data(), xml.size()));
  const Response response = perform(
      {"POST", "", {{"delete", ""}}, {{"content-md5", md5_base64(body)}, {"content-type", "application/xml"}}, body, {}});
  if (!response.ok()) return failure(response, "DeleteObjects");
  const auto errors = xml_elements(response.body, "Error");
  if (!errors.empty()) {
    return Outcome::failure(Status::unavailable, "S3 DeleteObjects: " + std::to_string(errors.size()) + " of " +
                                                     std::to_string(keys.size()) + " objects were not deleted (" +
                                                     xml_text(errors.front(), "Code") + ")");
  }
  return {};
}

Result<ObjectPage> S3Client::list_objects(const std::string& prefix, const std::string& continuation_token, int max_keys) {
  Request request{"GET", "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}}, {}, {}, {}};
  if (!continuation_token.empty()) request.query.emplace_back("continuation-token", continuation_token);
  const Response response = perform(request);
  if (!response.ok()) return failure(response, "ListObjectsV2");
  ObjectPage page;
  for (const auto contents : xml_elements(response.body, "Contents")) {
    ListedObject object;
    object.key = xml_text(contents, "Key");
    object.size = to_u64(xml_text(contents, "Size"));
    object.modified = parse_iso8601(xml_text(contents, "LastModified")).value_or(std::chrono::system_clock::time_point{});
    page.objects.push_back(std::move(object));
  }
  if (xml_text(response.body, "IsTruncated") == "true") {
    page.next_token = xml_text(response.body, "NextContinuationToken");
    if (page.next_token.empty()) return Outcome::failure(Status::internal, "S3 ListObjectsV2: a truncated page without a continuation token");
  }
  return page;
}

Result<std::string> S3Client::create_multipart_upload(const std::string& key) {
  const Response response = perform({"POST", key, {{"uploads", ""}}, {{"content-type", "application/octet-stream"}}, {}, {}});
  if (!response.ok()) return failure(response, "CreateMultipartUpload");
  std::string id = xml_text(response.body, "UploadId");
  if (id.empty()) return Outcome::failure(Status::internal, "S3 CreateMultipartUpload: no UploadId in the answer");
  return id;
}

Result<std::string> S3Client::upload_part(const std::string& key, const std::string& upload_id, int number,
                                          std::span<const std::byte> body) {
  const Response response =
      perform({"PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, {}, body, {}});
  if (!response.ok()) return failure(response, "UploadPart");
  std::string etag = response.header("etag");
  if (etag.empty()) return Outcome::failure(Status::internal, "S3 UploadPart: no ETag in the answer");
  return etag;
}

Outcome S3Client::complete_multipart_upload(const std::string& key, const std::string& upload_id,
                                            const std::vector<CompletedPart>& parts) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& part : parts) {
    xml += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" + xml_escape(part.etag) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  const auto body = std::as_bytes(std::span(xml.data(), xml.size()));
  const Response response = perform({"POST", key, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, body, {}});
  if (!response.ok()) return failure(response, "CompleteMultipartUpload");
  if (error_in_body(response)) {
    return Outcome::failure(Status::unavailable, "S3 CompleteMultipartUpload: " + xml_text(response.body, "Code") + ": " +
                                                     xml_text(response.body, "Message"));
  }
  return {};
}

Outcome S3Client::abort_multipart_upload(const std::string& key, const std::string& upload_id) {
  const Response response = perform({"DELETE", key, {{"uploadId", upload_id}}, {}, {}, {}});
  if (response.ok() || response.status == 404) return {};  // NoSuchUpload: already gone
  return failure(response, "AbortMultipartUpload");
}

Result<std::vector<PendingUpload>> S3Client::list_multipart_uploads(const std::string& prefix) {
  std::vector<PendingUpload> uploads;
  std::string key_marker, upload_id_marker;
  for (;;) {
    Request request{"GET", "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}, {}};
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) request.query.emplace_back("upload-id-marker", upload_id_marker);
    const Response response = perform(request);
    if (!response.ok()) return failure(response, "ListMultipartUploads");
    for (const auto upload : xml_elements(response.body, "Upload")) {
      uploads.push_back({xml_text(upload, "Key"), xml_text(upload, "UploadId"), parse_iso8601(xml_text(upload, "Initiated"))});
    }
    if (xml_text(response.body, "IsTruncated") != "true") return uploads;
    key_marker = xml_text(response.body, "NextKeyMarker");
    upload_id_marker = xml_text(response.body, "NextUploadIdMarker");
    if (key_marker.empty()) return Outcome::failure(Status::internal, "S3 ListMultipartUploads: a truncated page without a marker");
  }
}

}  // namespace framehouse::storage_s3
