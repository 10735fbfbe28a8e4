#include "sigv4.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace framehouse::storage_s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

using Mac = std::array<unsigned char, 32>;

Mac hmac(std::span<const unsigned char> key, std::string_view data) {
  Mac out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out.data(), &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

std::array<unsigned char, EVP_MAX_MD_SIZE> digest(const EVP_MD* algorithm, const void* data, std::size_t size,
                                                  unsigned int& length) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  if (EVP_Digest(data, size, out.data(), &length, algorithm, nullptr) != 1) throw std::runtime_error("digest failed");
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Leading and trailing spaces go, inner runs of spaces become one.
std::string trimmed_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = !out.empty();
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string canonical_query(const Pairs& query) {
  Pairs encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string sha256_hex(std::span<const std::byte> data) {
  unsigned int length = 0;
  const auto out = digest(EVP_sha256(), data.data(), data.size(), length);
  return hex({out.data(), length});
}

std::string sha256_hex(std::string_view data) { return sha256_hex(std::as_bytes(std::span(data.data(), data.size()))); }

std::string md5_base64(std::span<const std::byte> data) {
  unsigned int length = 0;
  const auto out = digest(EVP_md5(), data.data(), data.size(), length);
  std::string encoded(4 * ((length + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), out.data(), static_cast<int>(length));
  return encoded;
}

Signature sign(const SignableRequest& request, const Credentials& credentials, const SigningScope& scope) {
  // Canonical headers: lower-case names in order, values trimmed; a repeated name's values
  // joined with commas.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(lower(name), trimmed_value(value));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';
      canonical_headers += headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += headers[i].first;
  }

  Signature out;
  out.signed_headers = signed_headers;
  out.canonical_request = request.method + "\n" + request.canonical_uri + "\n" + canonical_query(request.query) + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + request.payload_sha256;
  const std::string day = scope.amz_date.substr(0, 8);
  const std::string credential_scope = day + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + scope.amz_date + "\n" + credential_scope + "\n" +
                       sha256_hex(out.canonical_request);

  const std::string secret = "AWS4" + credentials.secret_access_key;
  Mac key = hmac(std::span(reinterpret_cast<const unsigned char*>(secret.data()), secret.size()), day);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  key = hmac(key, "aws4_request");
  out.signature = hex(hmac(key, out.string_to_sign));
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + credential_scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace framehouse::storage_s3
