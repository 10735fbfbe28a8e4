// Test support: a throwaway CA and a server certificate it signed, made with openssl.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace framehouse::testing {

// A CA named `ca` (<dir>/<ca>.pem) and a certificate it signed for 127.0.0.1, localhost and
// `extra_dns_names` (<dir>/server.pem, server.key).
void make_certificates(const std::filesystem::path& dir, const std::string& ca,
                       const std::vector<std::string>& extra_dns_names = {});

}  // namespace framehouse::testing
