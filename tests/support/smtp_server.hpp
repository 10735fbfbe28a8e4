// Test support: a real SMTP server on loopback — Debian's aiosmtpd (tests/compat/smtp_server)
// with a certificate from a throwaway CA made with openssl — and what it received.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "support/process.hpp"

namespace framehouse::testing {

class SmtpServer {
 public:
  static constexpr const char* kUser = "framehouse";
  static constexpr const char* kPassword = "relay secret";
  // Makes the CA (<dir>/test-ca.pem) and keeps received mail under <dir>/received.
  explicit SmtpServer(std::filesystem::path dir);
  // "starttls", "implicit" or "plain"; AUTH required. On `port`, or a free one. Returns the port.
  std::uint16_t start(const std::string& mode, std::uint16_t port = 0);
  void stop() { process_.reset(); }
  std::filesystem::path ca_file() const { return dir_ / "test-ca.pem"; }
  // Received messages in the order they came (.eml: the bytes as received).
  std::vector<std::filesystem::path> messages() const;
  // The messages (their bytes) whose first recipient is `to`, waiting up to `within` until
  // there are at least `count`.
  std::vector<std::string> messages_to(const std::string& to, std::size_t count, std::chrono::seconds within) const;
  // What the server noted beside a message: mail_from, rcpt_tos, tls, authenticated, peer_port.
  static boost::json::object envelope_of(const std::filesystem::path& message);

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace framehouse::testing
