#include "support/certificates.hpp"

#include <gtest/gtest.h>

#include "support/process.hpp"

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

void make_certificates(const fs::path& dir, const std::string& ca, const std::vector<std::string>& extra_dns_names) {
  fs::create_directories(dir);
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", (dir / (ca + ".key")).string(), "-out",
           (dir / (ca + ".pem")).string(), "-days", "2", "-subj", "/CN=" + ca});
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", (dir / "server.key").string(), "-out",
           (dir / "server.csr").string(), "-subj", "/CN=localhost"});
  std::string names = "IP:127.0.0.1,DNS:localhost";
  for (const auto& name : extra_dns_names) names += ",DNS:" + name;
  write_file(dir / "ext.cnf", "subjectAltName=" + names + "\nextendedKeyUsage=serverAuth\n");
  openssl({"x509", "-req", "-in", (dir / "server.csr").string(), "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
           (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / "server.pem").string(), "-days", "2",
           "-extfile", (dir / "ext.cnf").string()});
}

}  // namespace framehouse::testing
