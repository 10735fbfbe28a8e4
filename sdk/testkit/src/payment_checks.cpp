// The payment processor contract (sdk/payment.hpp), as far as it holds without the processor's
// own service: idempotent customers and deletion, what is not offered says so, and refused
// unsigned webhooks.
#include "conformance.hpp"
#include "framehouse/sdk/payment.hpp"

namespace framehouse::testkit::detail {

void register_payment_checks(const ConformanceTarget& target) {
  add_check("payment_conformance", "OneIdempotencyKeyMakesOneCustomerAndDeletionIsIdempotent", target,
            [](const ConformanceTarget& target) {
              FRAMEHOUSE_START_INTERFACE(payment, sdk::PaymentProcessor, target);
              const sdk::CustomerDetails customer{"usr_conformance", "payer@conformance.example", "Payer"};
              const auto first = payment->create_customer(customer, "op_conformance_customer");
              ASSERT_TRUE(first) << first.outcome().message();
              const auto again = payment->create_customer(customer, "op_conformance_customer");
              ASSERT_TRUE(again) << again.outcome().message();
              EXPECT_EQ(first.value(), again.value());
              EXPECT_TRUE(payment->delete_customer(first.value()));
              EXPECT_TRUE(payment->delete_customer(first.value()));
            });
  add_check("payment_conformance", "WhatIsNotOfferedIsUnsupported", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(payment, sdk::PaymentProcessor, target);
    // The host offers in its app only what capabilities() says: the rest must say so too.
    const auto offered = payment->capabilities();
    if (!offered.checkout) {
      const sdk::CheckoutRequest request{"usr_conformance", "cus_conformance", "premium", "https://app.example/back",
                                         "https://app.example/back", "op_conformance_checkout"};
      EXPECT_EQ(payment->create_checkout(request).outcome().status(), sdk::Status::unsupported);
    }
    if (!offered.portal) {
      EXPECT_EQ(payment->create_portal_session("cus_conformance", "https://app.example/back", "op_conformance_portal").outcome().status(),
                sdk::Status::unsupported);
    }
    if (!offered.webhooks) {
      EXPECT_EQ(payment->parse_webhook({{}, "{}"}, std::chrono::system_clock::now()).outcome().status(), sdk::Status::unsupported);
    }
  });
  add_check("payment_conformance", "AnUnsignedWebhookIsRefused", target, [](const ConformanceTarget& target) {
    FRAMEHOUSE_START_INTERFACE(payment, sdk::PaymentProcessor, target);
    const auto parsed = payment->parse_webhook({{}, R"({"id":"evt_forged","type":"invoice.paid"})"},
                                               std::chrono::system_clock::now());
    ASSERT_FALSE(parsed);
    // A processor that sends no webhooks says so; one that does refuses the missing signature.
    EXPECT_TRUE(parsed.outcome().status() == sdk::Status::permission_denied ||
                parsed.outcome().status() == sdk::Status::unsupported)
        << sdk::to_string(parsed.outcome().status());
  });
}

}  // namespace framehouse::testkit::detail
