#include "support/stripe_api.hpp"

#include <filesystem>

#include <boost/json.hpp>

#include "support/http_client.hpp"

namespace framehouse::testing {
namespace {

const std::filesystem::path kStandIn = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/stripe_api";

}  // namespace

bool StripeApi::installed() { return std::filesystem::exists(kStandIn / "node_modules/stripe"); }

StripeApi::StripeApi(const std::string& webhook_url, const std::string& webhook_secret) {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/node", (kStandIn / "server.mjs").string()},
      std::vector<std::string>{std::string("API_KEY=") + kStripeApiKey, "WEBHOOK_SECRET=" + webhook_secret,
                               "WEBHOOK_URL=" + webhook_url, std::string("PRICES=") + kStripePrice});
  const std::string line = process_->wait_for_stdout_line("listening on", std::chrono::seconds(20));
  const auto colon = line.rfind(':');
  if (colon != std::string::npos) port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

boost::json::value StripeApi::control(const std::string& method, const std::string& target) {
  const auto response = http_request(port_, method, target);
  boost::system::error_code error;
  auto parsed = boost::json::parse(response.body, error);
  return error ? boost::json::value(response.body) : parsed;
}

boost::json::array StripeApi::requests() {
  auto answer = control("GET", "/test/requests");
  return answer.is_object() ? answer.as_object().at("requests").as_array() : boost::json::array{};
}

}  // namespace framehouse::testing
