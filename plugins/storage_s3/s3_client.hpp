// A small S3 REST client over libcurl: the calls storage_s3 needs, each signed with SigV4 and
// retried with backoff on what S3 documents as transient (5xx, 429, SlowDown, RequestTimeout,
// a broken or refused connection). Bodies go up from memory (a part at a time) and come down
// as a stream; a download broken off half-way is resumed from the next byte with a ranged
// request that must match the same object version (If-Match on its ETag).
//
// Thread-safe: every call takes a libcurl handle from a pool (keeping its connection open for
// the next call) and gives it back.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <framehouse/sdk/outcome.hpp>
#include <framehouse/sdk/stream.hpp>

#include "sigv4.hpp"

namespace framehouse::storage_s3 {

struct ClientSettings {
  std::string endpoint;  // https://host[:port]; http:// only to a loopback address
  std::string region = "us-east-1";
  std::string bucket;
  bool path_style = false;  // false: https://<bucket>.<host>/<key>; true: https://<host>/<bucket>/<key>
  Credentials credentials;
  std::string ca_file;  // empty: the system's CAs
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds stall_timeout{30'000};  // a request that moves no byte for this long is abandoned
  int max_attempts = 4;
  std::chrono::milliseconds retry_base{200};
};

struct ObjectHead {
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  std::string etag;
};

struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

struct ObjectPage {
  std::vector<ListedObject> objects;
  std::string next_token;  // empty: the last page
};

struct PendingUpload {
  std::string key;
  std::string upload_id;
  std::optional<std::chrono::system_clock::time_point> initiated;
};

struct CompletedPart {
  int number = 0;
  std::string etag;
};

class S3Client {
 public:
  // Checks the settings (endpoint form, bucket name, addressing) without any request.
  static sdk::Result<std::unique_ptr<S3Client>> create(ClientSettings settings);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // The bucket exists and the credentials may list it.
  sdk::Outcome check_bucket();
  sdk::Outcome put_object(const std::string& key, std::span<const std::byte> body);
  sdk::Result<ObjectHead> head_object(const std::string& key);
  // Streams bytes [offset, offset + length) (length absent: to the end) into out. A range that
  // starts past the end is Status::invalid_argument, as is one that ends past it.
  sdk::Outcome get_object(const std::string& key, std::uint64_t offset, std::optional<std::uint64_t> length,
                          sdk::ByteSink& out);
  sdk::Outcome delete_object(const std::string& key);
  // DeleteObjects (at most 1000 keys): fails unless every key is gone.
  sdk::Outcome delete_objects(const std::vector<std::string>& keys);
  sdk::Result<ObjectPage> list_objects(const std::string& prefix, const std::string& continuation_token,
                                       int max_keys = 1000);

  sdk::Result<std::string> create_multipart_upload(const std::string& key);
  sdk::Result<std::string> upload_part(const std::string& key, const std::string& upload_id, int number,
                                       std::span<const std::byte> body);
  sdk::Outcome complete_multipart_upload(const std::string& key, const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts);
  sdk::Outcome abort_multipart_upload(const std::string& key, const std::string& upload_id);
  // Every unfinished upload under prefix (all pages).
  sdk::Result<std::vector<PendingUpload>> list_multipart_uploads(const std::string& prefix);

  struct Request;   // s3_client.cpp
  struct Response;  // s3_client.cpp

 private:
  S3Client(ClientSettings settings, std::string scheme, std::string host);
  Response perform_once(const Request& request);
  // Attempts until one is not transient or the attempts run out.
  Response perform(const Request& request);
  void wait_before_attempt(int attempt) const;

  struct Pool;
  ClientSettings settings_;
  std::string scheme_;
  std::string host_;  // what goes in the Host header (and is signed): [bucket.]host[:port]
  std::string base_path_;  // "/<bucket>" for path-style addressing, else empty
  std::unique_ptr<Pool> pool_;
};

// For the tests: the XML S3 answers with, read the simple way S3's documents allow (no
// namespaces needed, no nesting of a tag inside itself).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
std::string xml_text(std::string_view xml, std::string_view tag);
std::string xml_escape(std::string_view text);

}  // namespace framehouse::storage_s3
