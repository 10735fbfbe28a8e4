// payment_stripe: its webhook signature check held against the official stripe package's
// signer and verifier, and the plugin against a local stand-in of the Stripe API (form
// encoding, idempotency keys, retries, the shapes of its objects).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "framehouse/sdk/payment.hpp"
#include "framehouse/sdk/privacy.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/streams.hpp"
#include "support/stripe_api.hpp"
#include "webhook_signature.hpp"

namespace framehouse {
namespace {

namespace json = boost::json;

constexpr const char* kWebhookSecret = "whsec_framehouse_plugin_test_0123456789";

TEST(StripeSignatures, TheVerdictsOfTheOfficialLibrary) {
  ASSERT_TRUE(testing::StripeApi::installed()) << "run `npm ci` in tests/compat/stripe_api (deploy/setup.sh test does)";
  const auto made = testing::run_command(
      {"/usr/bin/node", std::string(FRAMEHOUSE_SOURCE_DIR) + "/tests/compat/stripe_api/signature_cases.mjs"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto cases = json::parse(made.out).as_object();
  const std::string secret(cases.at("secret").as_string());
  const std::int64_t now = cases.at("now").as_int64();
  int accepted = 0, refused = 0;
  for (const auto& value : cases.at("cases").as_array()) {
    const auto& one = value.as_object();
    const auto verdict = stripe::verify_signature(secret, std::string(one.at("header").as_string()),
                                                  std::string(one.at("payload").as_string()), now);
    const bool official = one.at("accepted").as_bool();
    EXPECT_EQ(verdict == stripe::SignatureVerdict::valid, official)
        << one.at("name").as_string() << ": ours says " << stripe::to_string(verdict) << ", stripe's "
        << (official ? "accepted" : one.at("message").as_string());
    (official ? accepted : refused)++;
  }
  EXPECT_EQ(accepted, 4);  // valid, 299 s old, and a right v1 before or after a wrong one
  EXPECT_GE(refused, 9);
  // The same reasons, for the log: a stale signature says so, a missing t too.
  EXPECT_EQ(stripe::verify_signature(secret, "v1=00", "{}", now), stripe::SignatureVerdict::malformed_header);
  EXPECT_EQ(stripe::verify_signature(secret, "t=1,v1=" + stripe::signature_of(secret, 1, "{}"), "{}", now),
            stripe::SignatureVerdict::outside_tolerance);
}

class StripePlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StripeApi::installed()) << "run `npm ci` in tests/compat/stripe_api (deploy/setup.sh test does)";
    // Events it sends in these tests go nowhere; the end-to-end test receives them.
    stripe_ = std::make_unique<testing::StripeApi>("http://127.0.0.1:9/none", kWebhookSecret);
    ASSERT_TRUE(stripe_->running()) << stripe_->startup_error();
    const auto error = testing::load_plugin(
        host_, testing::shipped_plugin("payment_stripe"),
        std::string("api_key = \"") + testing::kStripeApiKey + "\"\nwebhook_secret = \"" + kWebhookSecret + "\"\napi_base_url = \"" +
            stripe_->base_url() + "\"\nprices = [\"premium=" + testing::kStripePrice + "\"]\nmax_retries = 2\n");
    ASSERT_FALSE(error) << *error;
    ASSERT_FALSE(host_.start_all());
    payment_ = host_.find("payment_stripe")->find<sdk::PaymentProcessor>();
    privacy_ = host_.find("payment_stripe")->find<sdk::PrivacyParticipant>();
  }
  void TearDown() override { host_.stop_all(); }

  // The requests made to `path`, oldest first.
  std::vector<json::object> requests_to(const std::string& path) {
    std::vector<json::object> found;
    for (const auto& request : stripe_->requests()) {
      if (request.at("path").as_string() == path) found.push_back(request.as_object());
    }
    return found;
  }

  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<testing::StripeApi> stripe_;
  sdk::PaymentProcessor* payment_ = nullptr;
  sdk::PrivacyParticipant* privacy_ = nullptr;
};

TEST_F(StripePlugin, OneKeyMakesOneCustomerFormEncodedInThePinnedVersion) {
  const sdk::CustomerDetails ann{"usr_ann", "ann@example.org", "Ann Example"};
  const auto first = payment_->create_customer(ann, "customer-usr_ann");
  ASSERT_TRUE(first.ok()) << first.outcome().message();
  const auto again = payment_->create_customer(ann, "customer-usr_ann");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first.value(), again.value());
  const auto made = requests_to("/v1/customers");
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0].at("content_type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(made[0].at("stripe_version"), "2025-08-27.basil");
  EXPECT_EQ(made[0].at("idempotency_key"), "customer-usr_ann");
  EXPECT_EQ(made[0].at("form").at("metadata").at("user_id"), "usr_ann");
  EXPECT_EQ(made[0].at("form").at("name"), "Ann Example");
  EXPECT_EQ(made[1].at("replayed"), true);  // Stripe answered the second from the first
}

TEST_F(StripePlugin, A5xxOrA429IsRetriedWithTheSameKeyAndA4xxIsNot) {
  stripe_->control("POST", "/test/faults?path=/v1/customers&status=503&times=1");
  stripe_->control("POST", "/test/faults?path=/v1/customers&status=429&times=1");
  const auto created = payment_->create_customer({"usr_bob", "", ""}, "customer-usr_bob");
  ASSERT_TRUE(created.ok()) << created.outcome().message();
  const auto tries = requests_to("/v1/customers");
  ASSERT_EQ(tries.size(), 3u);
  for (const auto& attempt : tries) EXPECT_EQ(attempt.at("idempotency_key"), "customer-usr_bob");

  stripe_->control("POST", "/test/faults?path=/v1/customers&status=503&times=5");
  const auto down = payment_->create_customer({"usr_cy", "", ""}, "customer-usr_cy");
  EXPECT_EQ(down.outcome().status(), sdk::Status::unavailable);
  EXPECT_NE(down.outcome().message().find("503"), std::string::npos) << down.outcome().message();
  EXPECT_EQ(requests_to("/v1/customers").size(), 6u);  // 1 + max_retries more

  const auto unknown = payment_->set_auto_renew("sub_none", false, "op-1");
  EXPECT_EQ(unknown.status(), sdk::Status::not_found);
  EXPECT_EQ(requests_to("/v1/subscriptions/sub_none").size(), 1u);
}

TEST_F(StripePlugin, CheckoutAndPortalSessionsCarryWhatStripeNeeds) {
  const auto customer = payment_->create_customer({"usr_ann", "ann@example.org", ""}, "customer-usr_ann").value();
  const sdk::CheckoutRequest request{"usr_ann", customer, "premium", "https://video.example.org/#/settings/subscription",
                                     "https://video.example.org/#/settings/subscription", "checkout-usr_ann-op1"};
  const auto session = payment_->create_checkout(request);
  ASSERT_TRUE(session.ok()) << session.outcome().message();
  EXPECT_EQ(session->id.rfind("cs_test_", 0), 0u);
  EXPECT_NE(session->url.find("/pay/" + session->id), std::string::npos);
  const auto sent = requests_to("/v1/checkout/sessions").at(0).at("form").as_object();
  EXPECT_EQ(sent.at("mode"), "subscription");
  EXPECT_EQ(sent.at("client_reference_id"), "usr_ann");
  EXPECT_EQ(sent.at("customer").as_string(), customer);
  EXPECT_EQ(sent.at("line_items").at(0).at("price"), testing::kStripePrice);
  EXPECT_EQ(sent.at("subscription_data").at("metadata").at("user_id"), "usr_ann");
  EXPECT_EQ(sent.at("success_url").as_string(), request.success_url);

  sdk::CheckoutRequest unsold = request;
  unsold.plan = "gold";
  unsold.idempotency_key = "checkout-usr_ann-op2";
  EXPECT_EQ(payment_->create_checkout(unsold).outcome().status(), sdk::Status::invalid_argument);
  const auto portal = payment_->create_portal_session(customer, request.success_url, "portal-usr_ann-op1");
  ASSERT_TRUE(portal.ok()) << portal.outcome().message();
  EXPECT_NE(portal.value().find("/portal/" + customer), std::string::npos);
  EXPECT_EQ(requests_to("/v1/billing_portal/sessions").at(0).at("idempotency_key"), "portal-usr_ann-op1");
  const auto offered = payment_->capabilities();
  EXPECT_TRUE(offered.checkout && offered.portal && offered.webhooks);
}

TEST_F(StripePlugin, EventsAreVerifiedAndReadInBothApiShapes) {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto signed_by = [&](const std::string& body) {
    return sdk::WebhookRequest{{{"stripe-signature", "t=" + std::to_string(seconds) + ",v1=" + stripe::signature_of(kWebhookSecret, seconds, body)}},
                               body};
  };
  // A subscription update in the current shape (the period on its items)...
  const std::string updated = R"({"id":"evt_1","type":"customer.subscription.updated","created":1795000100,"data":{"object":)"
                              R"({"id":"sub_1","object":"subscription","customer":"cus_1","status":"past_due","cancel_at_period_end":true,)"
                              R"("metadata":{"user_id":"usr_ann"},"items":{"data":[{"price":{"id":"price_premium_monthly"},)"
                              R"("current_period_end":1797592100}]}}}})";
  const auto event = payment_->parse_webhook(signed_by(updated), now);
  ASSERT_TRUE(event.ok()) << event.outcome().message();
  EXPECT_EQ(event->type, sdk::PaymentEventType::subscription_updated);
  EXPECT_EQ(event->state, sdk::ProcessorState::past_due);
  EXPECT_EQ(event->user_id, "usr_ann");
  EXPECT_EQ(event->plan, "premium");
  EXPECT_TRUE(event->cancel_at_period_end);
  EXPECT_EQ(event->current_period_end, std::chrono::system_clock::time_point(std::chrono::seconds(1797592100)));
  EXPECT_EQ(event->occurred_at, std::chrono::system_clock::time_point(std::chrono::seconds(1795000100)));
  // ...and an invoice in the shape before 2025-03-31 (its subscription at the top).
  const std::string paid = R"({"id":"evt_2","type":"invoice.paid","created":1795000200,"data":{"object":{"id":"in_1","object":"invoice",)"
                           R"("customer":"cus_1","subscription":"sub_1","lines":{"data":[{"period":{"end":1797592100},)"
                           R"("price":{"id":"price_premium_monthly"}}]}}}})";
  const auto invoice = payment_->parse_webhook(signed_by(paid), now);
  ASSERT_TRUE(invoice.ok()) << invoice.outcome().message();
  EXPECT_EQ(invoice->type, sdk::PaymentEventType::invoice_paid);
  EXPECT_EQ(invoice->subscription_id, "sub_1");
  EXPECT_EQ(invoice->state, sdk::ProcessorState::active);
  EXPECT_EQ(invoice->plan, "premium");
  // Another verified type is acknowledged and ignored; a bad signature is refused.
  const std::string other = R"({"id":"evt_3","type":"customer.created","created":1795000300,"data":{"object":{}}})";
  EXPECT_EQ(payment_->parse_webhook(signed_by(other), now)->type, sdk::PaymentEventType::ignored);
  auto forged = signed_by(updated);
  forged.body[10] = 'X';
  EXPECT_EQ(payment_->parse_webhook(forged, now).outcome().status(), sdk::Status::permission_denied);
  EXPECT_EQ(payment_->parse_webhook({{}, updated}, now).outcome().status(), sdk::Status::permission_denied);
}

TEST_F(StripePlugin, ErasureDeletesTheCustomerAtStripeAndExportReadsIt) {
  const auto customer = payment_->create_customer({"usr_ann", "ann@example.org", "Ann"}, "customer-usr_ann").value();
  const sdk::Subject ann{"usr_ann", {"ann@example.org"}, {{"payment_customer_id", customer}}};
  testing::RecordingExportSink exported;
  ASSERT_TRUE(privacy_->export_subject(ann, exported));
  ASSERT_EQ(exported.records.size(), 1u);
  EXPECT_NE(exported.records[0].second.find("ann@example.org"), std::string::npos);
  ASSERT_TRUE(privacy_->rectify(ann, {"email", "ann@example.org", "ann@new.example"}));
  EXPECT_EQ(stripe_->control("GET", "/test/customers/" + customer).at("email"), "ann@new.example");
  const auto updated = requests_to("/v1/customers/" + customer).back();
  EXPECT_EQ(updated.at("idempotency_key").as_string().rfind("rectify-" + customer + "-email-", 0), 0u) << updated;

  const auto erased = privacy_->erase_subject(ann);
  ASSERT_TRUE(erased.ok()) << erased.outcome().message();
  EXPECT_EQ(erased->records_removed, 1u);
  const auto at_stripe = stripe_->control("GET", "/test/customers/" + customer).as_object();
  EXPECT_EQ(at_stripe.at("deleted"), true);
  EXPECT_FALSE(at_stripe.contains("email"));
  testing::RecordingExportSink after;
  ASSERT_TRUE(privacy_->export_subject(ann, after));
  EXPECT_TRUE(after.empty());  // nothing of Ann's is left at Stripe to export
  // Again (a retried erasure): Stripe has no such customer any more, and that is done.
  EXPECT_TRUE(privacy_->erase_subject(ann).ok());
  EXPECT_EQ(requests_to("/v1/customers/" + customer).size(), 5u);  // two exports, rectify, two deletions
}

}  // namespace
}  // namespace framehouse
