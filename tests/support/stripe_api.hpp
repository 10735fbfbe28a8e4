// Test support: the Stripe API stand-in (tests/compat/stripe_api/server.mjs) on loopback, and
// its controls — pay a checkout, renew, resend an event, read what the server asked of it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "support/process.hpp"

namespace framehouse::testing {

inline constexpr const char* kStripeApiKey = "sk_test_framehouse_stand_in";
inline constexpr const char* kStripePrice = "price_premium_monthly";

class StripeApi {
 public:
  // Events go to `webhook_url`, signed with `webhook_secret` by the official stripe package.
  StripeApi(const std::string& webhook_url, const std::string& webhook_secret);
  bool running() const { return port_ != 0; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // POST (or GET) one of /test/... and its JSON answer.
  boost::json::value control(const std::string& method, const std::string& target);
  // Every request made to Stripe's routes, oldest first.
  boost::json::array requests();
  std::string startup_error() { return process_->stderr_text(); }
  // True when the stripe package is installed (deploy/setup.sh test runs npm ci).
  static bool installed();

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace framehouse::testing
