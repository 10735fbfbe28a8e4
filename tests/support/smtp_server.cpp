#include "support/smtp_server.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace framehouse::testing {
namespace {

namespace fs = std::filesystem;

void openssl(const std::vector<std::string>& arguments) {
  std::vector<std::string> command{"/usr/bin/openssl"};
  command.insert(command.end(), arguments.begin(), arguments.end());
  const auto run = run_command(command);
  ASSERT_EQ(run.exit_code, 0) << run.err;
}

}  // namespace

void make_certificates(const fs::path& dir, const std::string& ca) {
  fs::create_directories(dir);
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", (dir / (ca + ".key")).string(), "-out",
           (dir / (ca + ".pem")).string(), "-days", "2", "-subj", "/CN=" + ca});
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", (dir / "server.key").string(), "-out",
           (dir / "server.csr").string(), "-subj", "/CN=localhost"});
  write_file(dir / "ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl({"x509", "-req", "-in", (dir / "server.csr").string(), "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
           (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / "server.pem").string(), "-days", "2",
           "-extfile", (dir / "ext.cnf").string()});
}

SmtpServer::SmtpServer(fs::path dir) : dir_(std::move(dir)) {
  make_certificates(dir_, "test-ca");
  fs::create_directories(dir_ / "received");
}

std::uint16_t SmtpServer::start(const std::string& mode, std::uint16_t port) {
  const fs::path script = fs::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/smtp_server/server.py";
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "/usr/bin/python3", script.string(), "--folder", (dir_ / "received").string(), "--cert", (dir_ / "server.pem").string(),
      "--key", (dir_ / "server.key").string(), "--mode", mode, "--user", kUser, "--password", kPassword, "--port",
      std::to_string(port)});
  const std::string line = process_->wait_for_stdout_line("listening on", std::chrono::seconds(20));
  EXPECT_FALSE(line.empty()) << process_->stderr_text();
  return line.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(' ') + 1)));
}

std::vector<fs::path> SmtpServer::messages() const {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_ / "received")) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

boost::json::object SmtpServer::envelope_of(const fs::path& message) {
  auto meta = message;
  return boost::json::parse(read_file(meta.replace_extension(".json"))).as_object();
}

}  // namespace framehouse::testing
