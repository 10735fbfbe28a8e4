// Test support: TOTP codes from an independent implementation, Debian's oathtool.
#pragma once

#include <cstdint>
#include <string>

namespace framehouse::testing {

// The code of the base32 secret at a Unix time.
std::string oathtool_code(const std::string& secret, std::int64_t unix_seconds);
// The code `steps_ahead` 30-second steps from now.
std::string oathtool_code_from_now(const std::string& secret, int steps_ahead = 0);

}  // namespace framehouse::testing
