// payment_stripe: Premium paid by card through Stripe. Stripe holds the card; we hold its
// customer and subscription ids (in the core's billing tables, not here: this plugin keeps no
// file). Checkout Sessions in subscription mode with the plan's configured Price, the Customer
// Portal for card changes, auto-renew as cancel_at_period_end, the customer deleted at erasure.
// Requests are form-encoded with the API version pinned in the configuration; every POST
// carries the host's idempotency key, and a 429, a 5xx or no answer is retried with backoff.
#include <chrono>
#include <map>
#include <thread>

#include <boost/json.hpp>
#include <curl/curl.h>
#include <framehouse/sdk/payment.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>

#include "http_client.hpp"
#include "webhook_signature.hpp"

namespace {

namespace json = boost::json;
namespace http = framehouse::http_client;
using namespace framehouse::sdk;
using framehouse::stripe::SignatureVerdict;

using Form = std::vector<std::pair<std::string, std::string>>;

std::string form_encoded(const Form& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += http::query_escaped(name) + "=" + http::query_escaped(value);
  }
  return body;
}

const json::value* at_path(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* here = &root;
  for (const auto key : path) {
    if (!here->is_object()) return nullptr;
    here = here->as_object().if_contains(key);
    if (here == nullptr) return nullptr;
  }
  return here;
}

std::string string_at(const json::value& root, std::initializer_list<std::string_view> path) {
  const auto* value = at_path(root, path);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

std::optional<std::int64_t> integer_at(const json::value& root, std::initializer_list<std::string_view> path) {
  const auto* value = at_path(root, path);
  if (value == nullptr || !value->is_int64()) return std::nullopt;
  return value->as_int64();
}

// The first element of a list object's `data` (a subscription's items, an invoice's lines).
const json::value* first_item(const json::value& list) {
  const auto* data = at_path(list, {"data"});
  if (data == nullptr || !data->is_array() || data->as_array().empty()) return nullptr;
  return &data->as_array()[0];
}

std::chrono::system_clock::time_point from_unix(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

ProcessorState state_of(std::string_view status) {
  if (status == "active" || status == "trialing") return ProcessorState::active;
  if (status == "past_due") return ProcessorState::past_due;
  if (status == "incomplete") return ProcessorState::incomplete;
  if (status == "canceled" || status == "unpaid" || status == "incomplete_expired" || status == "paused") {
    return ProcessorState::ended;
  }
  return ProcessorState::unknown;
}

class StripePayments final : public Plugin, public PaymentProcessor, public PrivacyParticipant {
 public:
  Outcome start(HostServices& host) override {
    const auto& config = host.config();
    api_key_ = config.string("api_key").value_or("");
    webhook_secret_ = config.string("webhook_secret").value_or("");
    if (api_key_.empty()) return Outcome::failure(Status::invalid_argument, "api_key is required (use env:NAME or file:/path)");
    if (webhook_secret_.rfind("whsec_", 0) != 0) {
      return Outcome::failure(Status::invalid_argument, "webhook_secret must be the endpoint's signing secret (whsec_…)");
    }
    std::vector<std::string> base{config.string("api_base_url").value_or("https://api.stripe.com")};
    if (auto checked = http::normalise_base_urls(base); !checked) {
      return Outcome::failure(Status::invalid_argument, "api_base_url " + checked.message().substr(checked.message().find("must")));
    }
    api_base_ = base.front();
    api_version_ = config.string("api_version").value_or("");
    for (const auto& pair : config.strings("prices").value_or(std::vector<std::string>{})) {
      const auto equals = pair.find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == pair.size()) {
        return Outcome::failure(Status::invalid_argument, "prices holds \"<plan>=<Stripe Price id>\" pairs, not \"" + pair + "\"");
      }
      price_of_plan_[pair.substr(0, equals)] = pair.substr(equals + 1);
      plan_of_price_[pair.substr(equals + 1)] = pair.substr(0, equals);
    }
    max_retries_ = static_cast<int>(config.integer("max_retries").value_or(3));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Outcome::failure(Status::internal, "libcurl failed to start");
    curl_started_ = true;
    http::HttpSettings settings;
    settings.headers = {"Authorization: Bearer " + api_key_};
    if (!api_version_.empty()) settings.headers.push_back("Stripe-Version: " + api_version_);
    settings.ca_file = config.string("ca_file").value_or("");
    timeout_ms_ = config.integer("timeout_ms").value_or(20'000);
    settings.timeout_ms = timeout_ms_;
    http_ = std::make_unique<http::HttpClient>(std::move(settings));
    return {};
  }

  void stop() override {
    http_.reset();
    if (curl_started_) curl_global_cleanup();
    curl_started_ = false;
  }

  void* find_interface(std::string_view name) override {
    return provide_interfaces<PaymentProcessor, PrivacyParticipant>(this, name);
  }

  PaymentCapabilities capabilities() const override { return {true, true, true}; }

  Result<std::string> create_customer(const CustomerDetails& customer, std::string_view idempotency_key) override {
    Form form{{"metadata[user_id]", customer.user_id}};
    if (!customer.email.empty()) form.emplace_back("email", customer.email);
    if (!customer.name.empty()) form.emplace_back("name", customer.name);
    auto created = call("POST", "/v1/customers", form, idempotency_key);
    if (!created) return created.outcome();
    return string_at(created.value(), {"id"});
  }

  Result<CheckoutSession> create_checkout(const CheckoutRequest& request) override {
    const auto price = price_of_plan_.find(request.plan);
    if (price == price_of_plan_.end()) {
      return Outcome::failure(Status::invalid_argument, "no Stripe Price is configured for the plan " + request.plan + " (prices)");
    }
    auto created = call("POST", "/v1/checkout/sessions",
                        {{"mode", "subscription"},
                         {"customer", request.customer_id},
                         {"client_reference_id", request.user_id},
                         {"line_items[0][price]", price->second},
                         {"line_items[0][quantity]", "1"},
                         {"success_url", request.success_url},
                         {"cancel_url", request.cancel_url},
                         {"metadata[user_id]", request.user_id},
                         // So that every event about the subscription names whose it is.
                         {"subscription_data[metadata][user_id]", request.user_id}},
                        request.idempotency_key);
    if (!created) return created.outcome();
    return CheckoutSession{string_at(created.value(), {"id"}), string_at(created.value(), {"url"})};
  }

  Result<std::string> create_portal_session(std::string_view customer_id, std::string_view return_url,
                                            std::string_view idempotency_key) override {
    auto created = call("POST", "/v1/billing_portal/sessions",
                        {{"customer", std::string(customer_id)}, {"return_url", std::string(return_url)}}, idempotency_key);
    if (!created) return created.outcome();
    return string_at(created.value(), {"url"});
  }

  Outcome set_auto_renew(std::string_view subscription_id, bool enabled, std::string_view idempotency_key) override {
    return call("POST", "/v1/subscriptions/" + http::query_escaped(std::string(subscription_id)),
                {{"cancel_at_period_end", enabled ? "false" : "true"}}, idempotency_key)
        .outcome();
  }

  Outcome cancel_subscription(std::string_view subscription_id, std::string_view idempotency_key) override {
    return gone_is_fine(call("DELETE", "/v1/subscriptions/" + http::query_escaped(std::string(subscription_id)), {}, idempotency_key));
  }

  Outcome delete_customer(std::string_view customer_id) override {
    return gone_is_fine(call("DELETE", "/v1/customers/" + http::query_escaped(std::string(customer_id)), {}, ""));
  }

  Result<PaymentEvent> parse_webhook(const WebhookRequest& request, std::chrono::system_clock::time_point now) override {
    const auto header = request.headers.find("stripe-signature");
    if (header == request.headers.end()) return Outcome::failure(Status::permission_denied, "no Stripe-Signature header");
    const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (const auto verdict = framehouse::stripe::verify_signature(webhook_secret_, header->second, request.body, now_seconds);
        verdict != SignatureVerdict::valid) {
      return Outcome::failure(Status::permission_denied, std::string(framehouse::stripe::to_string(verdict)));
    }
    boost::system::error_code ec;
    const json::value event = json::parse(request.body, ec);
    if (ec || !event.is_object()) return Outcome::failure(Status::invalid_argument, "the event is not a JSON object");
    PaymentEvent parsed;
    parsed.id = string_at(event, {"id"});
    if (parsed.id.empty()) return Outcome::failure(Status::invalid_argument, "the event has no id");
    parsed.occurred_at = from_unix(integer_at(event, {"created"}).value_or(now_seconds));
    const std::string type = string_at(event, {"type"});
    const json::value* object = at_path(event, {"data", "object"});
    if (object == nullptr || !object->is_object()) return parsed;  // verified, of no use: acknowledged
    if (type == "checkout.session.completed") return checkout_completed(*object, std::move(parsed));
    if (type == "invoice.paid" || type == "invoice.payment_failed") {
      return invoice_event(*object, type == "invoice.paid", std::move(parsed));
    }
    if (type == "customer.subscription.updated" || type == "customer.subscription.deleted") {
      parsed.type = type == "customer.subscription.updated" ? PaymentEventType::subscription_updated
                                                            : PaymentEventType::subscription_deleted;
      read_subscription(*object, parsed);
      if (parsed.type == PaymentEventType::subscription_deleted) parsed.state = ProcessorState::ended;
    }
    return parsed;
  }

  // privacy: the customer at Stripe is the person's, by the id the core keeps.
  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    const auto customer = customer_of(subject);
    if (customer.empty()) return {};
    auto found = call("GET", "/v1/customers/" + http::query_escaped(customer), {}, "");
    if (!found) return found.outcome().status() == Status::not_found ? Outcome{} : found.outcome();
    const auto& object = found.value();
    if (at_path(object, {"deleted"}) != nullptr) return {};  // erased: Stripe keeps only the id
    const json::object record{{"customer_id", customer},
                              {"email", string_at(object, {"email"})},
                              {"name", string_at(object, {"name"})},
                              {"created", integer_at(object, {"created"}).value_or(0)}};
    return sink.record("stripe_customer", json::serialize(record));
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    ErasureReport report;
    const auto customer = customer_of(subject);
    if (!customer.empty()) {
      if (auto deleted = delete_customer(customer); !deleted) return deleted;
      report.records_removed = 1;
    }
    report.detail = report.records_removed ? "the Stripe customer and its payment details deleted" : "no Stripe customer";
    return report;
  }

  Outcome rectify(const Subject& subject, const Rectification& change) override {
    if (change.field != "email" && change.field != "name") return {};
    const auto customer = customer_of(subject);
    if (customer.empty()) return {};
    // The same change asked again (a retried task) is the same call.
    const std::string key = "rectify-" + customer + "-" + change.field + "-" + framehouse::stripe::sha256_hex(change.new_value).substr(0, 24);
    return gone_is_fine(call("POST", "/v1/customers/" + http::query_escaped(customer), {{change.field, change.new_value}}, key));
  }

  // Stripe sends no marketing of ours: nothing to switch off there.
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  static std::string customer_of(const Subject& subject) {
    const auto it = subject.external_ids.find("payment_customer_id");
    return it == subject.external_ids.end() ? "" : it->second;
  }

  // A deletion of something Stripe no longer has is done.
  static Outcome gone_is_fine(const Result<json::value>& answer) {
    if (!answer && answer.outcome().status() == Status::not_found) return {};
    return answer.outcome();
  }

  // One API call, retried while Stripe says it may be (429, 5xx, 409 for a request with the
  // same key still running, no answer), with exponential backoff; the same idempotency key
  // every time, so that a retry of something done returns what was done. Tries and pauses
  // together stay within timeout_ms, so that the host's limit on the plugin call holds.
  Result<json::value> call(const std::string& method, const std::string& path, const Form& form, std::string_view idempotency_key) {
    http::Request request;
    request.method = method;
    request.url = api_base_ + path;
    if (!form.empty() || method == "POST") {
      request.body = form_encoded(form);
      request.content_type = "application/x-www-form-urlencoded";
    }
    if (!idempotency_key.empty()) request.headers.push_back("Idempotency-Key: " + std::string(idempotency_key));
    http::Answer answer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    for (int attempt = 0;; ++attempt) {
      request.timeout_ms = std::max<std::int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      answer = http_->send(request);
      const auto should_retry = answer.headers.find("stripe-should-retry");
      const bool retryable = should_retry != answer.headers.end()
                                 ? should_retry->second == "true"
                                 : answer.status == 0 || answer.status == 429 || answer.status == 409 || answer.status >= 500;
      const auto pause = std::chrono::milliseconds(250) * (1 << attempt);
      // Another try needs the pause and a second to run in before the deadline.
      if (answer.ok() || !retryable || attempt >= max_retries_ ||
          std::chrono::steady_clock::now() + pause + std::chrono::seconds(1) > deadline) {
        break;
      }
      std::this_thread::sleep_for(pause);
    }
    boost::system::error_code ec;
    json::value body = json::parse(answer.body, ec);
    if (answer.ok()) {
      if (ec) return Outcome::failure(Status::unavailable, "Stripe answered something that is not JSON");
      return body;
    }
    std::string message = ec ? "" : string_at(body, {"error", "message"});
    message = "Stripe answered " + (answer.status == 0 ? "nothing (" + answer.error + ")" : std::to_string(answer.status)) +
              (message.empty() ? "" : ": " + message);
    switch (answer.status) {
      case 400: case 402: return Outcome::failure(Status::invalid_argument, message);
      case 401: case 403: return Outcome::failure(Status::permission_denied, message);
      case 404: return Outcome::failure(Status::not_found, message);
      default: return Outcome::failure(Status::unavailable, message);
    }
  }

  void read_subscription(const json::value& subscription, PaymentEvent& event) {
    event.subscription_id = string_at(subscription, {"id"});
    event.customer_id = string_at(subscription, {"customer"});
    if (event.user_id.empty()) event.user_id = string_at(subscription, {"metadata", "user_id"});
    event.state = state_of(string_at(subscription, {"status"}));
    if (const auto* flag = at_path(subscription, {"cancel_at_period_end"}); flag != nullptr && flag->is_bool()) {
      event.cancel_at_period_end = flag->as_bool();
    }
    const json::value* item = nullptr;
    if (const auto* items = at_path(subscription, {"items"})) item = first_item(*items);
    // Before API version 2025-03-31 the period is the subscription's; since then its items'.
    auto period_end = integer_at(subscription, {"current_period_end"});
    if (!period_end && item != nullptr) period_end = integer_at(*item, {"current_period_end"});
    if (period_end) event.current_period_end = from_unix(*period_end);
    if (item != nullptr) {
      const auto plan = plan_of_price_.find(string_at(*item, {"price", "id"}));
      if (plan != plan_of_price_.end()) event.plan = plan->second;
    }
  }

  Result<PaymentEvent> checkout_completed(const json::value& session, PaymentEvent event) {
    if (string_at(session, {"mode"}) != "subscription") return event;  // not ours: ignored
    event.type = PaymentEventType::checkout_completed;
    event.user_id = string_at(session, {"client_reference_id"});
    event.customer_id = string_at(session, {"customer"});
    event.subscription_id = string_at(session, {"subscription"});
    if (event.subscription_id.empty()) return Outcome::failure(Status::invalid_argument, "the checkout session has no subscription");
    // The session says neither the period nor the plan: the subscription does. If Stripe does
    // not answer, the event is refused and Stripe sends it again later.
    auto subscription = call("GET", "/v1/subscriptions/" + http::query_escaped(event.subscription_id), {}, "");
    if (!subscription) return Outcome::failure(Status::unavailable, subscription.outcome().message());
    const std::string user_id = event.user_id;
    read_subscription(subscription.value(), event);
    if (!user_id.empty()) event.user_id = user_id;
    return event;
  }

  Result<PaymentEvent> invoice_event(const json::value& invoice, bool paid, PaymentEvent event) {
    // Before API version 2025-03-31 an invoice names its subscription at the top; since then
    // under parent.subscription_details.
    event.subscription_id = string_at(invoice, {"subscription"});
    if (event.subscription_id.empty()) event.subscription_id = string_at(invoice, {"parent", "subscription_details", "subscription"});
    if (event.subscription_id.empty()) return event;  // a one-off invoice: not a plan's
    event.type = paid ? PaymentEventType::invoice_paid : PaymentEventType::payment_failed;
    event.customer_id = string_at(invoice, {"customer"});
    event.user_id = string_at(invoice, {"subscription_details", "metadata", "user_id"});
    if (event.user_id.empty()) event.user_id = string_at(invoice, {"parent", "subscription_details", "metadata", "user_id"});
    event.state = paid ? ProcessorState::active : ProcessorState::past_due;
    if (const auto* lines = at_path(invoice, {"lines"})) {
      if (const auto* line = first_item(*lines)) {
        if (const auto end = integer_at(*line, {"period", "end"})) event.current_period_end = from_unix(*end);
        auto plan = plan_of_price_.find(string_at(*line, {"price", "id"}));
        if (plan == plan_of_price_.end()) plan = plan_of_price_.find(string_at(*line, {"pricing", "price_details", "price"}));
        if (plan != plan_of_price_.end()) event.plan = plan->second;
      }
    }
    return event;
  }

  std::string api_key_, webhook_secret_, api_base_, api_version_;
  std::map<std::string, std::string> price_of_plan_, plan_of_price_;
  int max_retries_ = 3;
  std::int64_t timeout_ms_ = 20'000;
  bool curl_started_ = false;
  std::unique_ptr<http::HttpClient> http_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(StripePayments)
