#include "support/s3_server.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/certificates.hpp"
#include "support/http_client.hpp"

namespace framehouse::testing {

namespace fs = std::filesystem;

namespace {

fs::path compat_dir() { return fs::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/s3_server"; }

}  // namespace

S3Server::S3Server(fs::path dir) : dir_(std::move(dir)) {
  make_certificates(dir_ / "certs", "s3-ca", {std::string(kBucket) + ".localhost"});
  fs::create_directories(dir_ / "store");
}

void S3Server::start() {
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "/usr/bin/node", (compat_dir() / "server.mjs").string(), "--directory", (dir_ / "store").string(), "--bucket", kBucket,
      "--access-key-id", kAccessKeyId, "--secret-access-key", kSecretAccessKey, "--region", kRegion, "--cert",
      (dir_ / "certs/server.pem").string(), "--key", (dir_ / "certs/server.key").string()});
  const std::string line = process_->wait_for_stdout_line("listening on", std::chrono::seconds(30));
  ASSERT_FALSE(line.empty()) << "the S3 store did not start: " << process_->stderr_text();
  std::istringstream ports(line.substr(line.find("on ") + 3));
  ports >> port_ >> control_port_;
}

std::string S3Server::endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }
std::string S3Server::virtual_hosted_endpoint() const { return "https://localhost:" + std::to_string(port_); }

std::string S3Server::plugin_settings(const std::map<std::string, std::string>& overrides) const {
  const auto quoted = [](const std::string& text) { return "\"" + text + "\""; };
  std::map<std::string, std::string> settings{{"endpoint", quoted(endpoint())},
                                              {"region", quoted(kRegion)},
                                              {"bucket", quoted(kBucket)},
                                              {"access_key_id", quoted(kAccessKeyId)},
                                              {"secret_access_key", quoted(kSecretAccessKey)},
                                              {"force_path_style", "true"},
                                              {"ca_file", quoted(ca_file().string())},
                                              {"part_size_mib", "5"}};
  for (const auto& [key, value] : overrides) settings[key] = value;
  std::string toml;
  for (const auto& [key, value] : settings) toml += key + " = " + value + "\n";
  return toml;
}

std::vector<std::string> S3Server::client_command(const std::vector<std::string>& arguments) const {
  std::vector<std::string> command{"/usr/bin/node", (compat_dir() / "client.mjs").string(), "--endpoint", endpoint(),
                                   "--bucket",   kBucket, "--region", kRegion, "--access-key-id", kAccessKeyId,
                                   "--secret-access-key", kSecretAccessKey};
  command.insert(command.end(), arguments.begin(), arguments.end());
  return command;
}

std::string S3Server::read_object(const std::string& key) const {
  const fs::path out = dir_ / "read-back";
  const auto run = run_command(client_command({"get", key, out.string()}), {"NODE_EXTRA_CA_CERTS=" + ca_file().string()});
  if (run.exit_code != 0) {
    ADD_FAILURE() << "@aws-sdk/client-s3 could not read the object back: " << run.err;
    return {};
  }
  return read_file(out);
}

namespace {

std::vector<std::string> keys_of(const CommandResult& run) {
  std::vector<std::string> keys;
  if (run.exit_code != 0) {
    ADD_FAILURE() << "@aws-sdk/client-s3 failed: " << run.err;
    return keys;
  }
  const auto listed = boost::json::parse(run.out);
  for (const auto& entry : listed.as_array()) keys.emplace_back(entry.at("key").as_string());
  return keys;
}

boost::json::array control(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = "") {
  const auto response = http_request(port, method, target, body, {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 200) << response.body;
  return response.status == 200 ? boost::json::parse(response.body).as_array() : boost::json::array{};
}

}  // namespace

std::vector<std::string> S3Server::list(const std::string& prefix) const {
  return keys_of(run_command(client_command({"list", prefix}), {"NODE_EXTRA_CA_CERTS=" + ca_file().string()}));
}

std::vector<std::string> S3Server::multipart_uploads(const std::string& prefix) const {
  return keys_of(run_command(client_command({"uploads", prefix}), {"NODE_EXTRA_CA_CERTS=" + ca_file().string()}));
}

void S3Server::inject(const std::string& faults_json) const { control(control_port_, "POST", "/faults", faults_json); }
void S3Server::clear_faults() const { control(control_port_, "DELETE", "/faults"); }
boost::json::array S3Server::requests() const { return control(control_port_, "GET", "/log"); }
boost::json::array S3Server::open_uploads() const { return control(control_port_, "GET", "/uploads"); }

}  // namespace framehouse::testing
