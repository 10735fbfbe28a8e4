// AWS Signature Version 4 (the header form, "AWS4-HMAC-SHA256"), as S3 checks it.
//
// The caller gives the path as it goes on the wire — each segment URI-encoded once, which is
// also S3's canonical URI (S3, unlike other AWS services, neither normalises nor re-encodes
// the path) — and the query as decoded names and values; the signer encodes those itself.
// Checked against AWS's published test vectors and, on random requests, against AWS's own
// signer (tests/unit/s3_sigv4_test.cpp, tests/integration/storage_s3_test.cpp).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace framehouse::storage_s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct SignableRequest {
  std::string method;
  std::string canonical_uri;  // "/bucket/a%20b": as sent
  Pairs query;                // decoded
  Pairs headers;              // every one is signed; names in any case
  std::string payload_sha256;  // lower-case hex, or "UNSIGNED-PAYLOAD"
};

struct SigningScope {
  std::string region;
  std::string service = "s3";
  std::string amz_date;  // YYYYMMDDTHHMMSSZ, also sent as x-amz-date
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header's value
};

Signature sign(const SignableRequest& request, const Credentials& credentials, const SigningScope& scope);

// RFC 3986 percent-encoding as AWS defines it: everything but A-Z a-z 0-9 - . _ ~ (and '/'
// when keep_slash) becomes %XX, upper-case hex.
std::string uri_encode(std::string_view text, bool keep_slash);
// The canonical query string: names and values encoded, sorted by name, then value.
std::string canonical_query(const Pairs& query);
std::string amz_date(std::chrono::system_clock::time_point when);
std::string sha256_hex(std::span<const std::byte> data);
std::string sha256_hex(std::string_view data);
std::string md5_base64(std::span<const std::byte> data);

}  // namespace framehouse::storage_s3
