#include "support/oathtool.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace framehouse::testing {

std::string oathtool_code(const std::string& secret, std::int64_t unix_seconds) {
  const auto result = run_command({"/usr/bin/oathtool", "--totp", "--base32", "--now=@" + std::to_string(unix_seconds), secret});
  EXPECT_EQ(result.exit_code, 0) << "oathtool (deploy/setup.sh test installs it): " << result.err;
  return result.out.substr(0, result.out.find_first_of("\r\n"));
}

std::string oathtool_code_from_now(const std::string& secret, int steps_ahead) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return oathtool_code(secret, now + 30LL * steps_ahead);
}

}  // namespace framehouse::testing
