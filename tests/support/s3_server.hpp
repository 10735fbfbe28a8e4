// Test support: a real S3-compatible store on loopback — s3rver behind a front that checks
// every SigV4 signature with AWS's own signer (tests/compat/s3_server) — over HTTPS with a
// certificate from a throwaway CA; AWS's own client to read back what is in the bucket; and the
// front's control port to inject faults and see what was asked.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "support/process.hpp"

namespace framehouse::testing {

class S3Server {
 public:
  static constexpr const char* kBucket = "framehouse-test";
  static constexpr const char* kAccessKeyId = "FRAMEHOUSETESTKEY";
  static constexpr const char* kSecretAccessKey = "test/secret+with=signs";
  static constexpr const char* kRegion = "eu-test-1";

  // Makes the CA (<dir>/s3-ca.pem) and keeps the store's files under <dir>/store.
  explicit S3Server(std::filesystem::path dir);
  void start();
  void stop() { process_.reset(); }

  std::string endpoint() const;                     // https://127.0.0.1:<port> (path-style)
  std::string virtual_hosted_endpoint() const;      // https://localhost:<port> (<bucket>.localhost)
  std::filesystem::path ca_file() const { return dir_ / "certs/s3-ca.pem"; }
  // The body of a [plugins.storage_s3] table for this store (path-style, parts of 5 MiB);
  // `overrides` replaces or adds keys (values as TOML literals, "\"text\"" for a string).
  std::string plugin_settings(const std::map<std::string, std::string>& overrides = {}) const;

  // Through AWS's @aws-sdk/client-s3.
  std::string read_object(const std::string& key) const;
  std::vector<std::string> list(const std::string& prefix) const;
  std::vector<std::string> multipart_uploads(const std::string& prefix) const;

  // The front's control port: faults as the JSON array server.mjs documents.
  void inject(const std::string& faults_json) const;
  void clear_faults() const;
  boost::json::array requests() const;      // every request, oldest first
  boost::json::array open_uploads() const;  // unfinished multipart uploads, from the store's disk

 private:
  std::vector<std::string> client_command(const std::vector<std::string>& arguments) const;

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0, control_port_ = 0;
};

}  // namespace framehouse::testing
