// Framehouse SDK — payment processor interface ("payment", version in version.hpp).
//
// Modeled on hosted-checkout processors (Stripe and the like): the processor holds card
// details, we hold only its customer and subscription ids. Every state change reaches us
// through a verified webhook: a redirect back from checkout is never proof of payment.
//
// Every call that changes something at the processor carries an idempotency key derived from
// the host's own operation id: the same key again must not do the thing twice.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "framehouse/sdk/outcome.hpp"

namespace framehouse::sdk {

struct CustomerDetails {
  std::string user_id;  // our internal id, stored by the processor as a reference
  std::string email;
  std::string name;
};

struct CheckoutRequest {
  std::string user_id;
  std::string customer_id;  // from create_customer()
  std::string plan;         // the plan name from the server's configuration
  std::string success_url;
  std::string cancel_url;
  std::string idempotency_key;  // derived from our own operation id; at most 255 chars
};

struct CheckoutSession {
  std::string id;
  std::string url;  // where the user is sent to pay
};

// What a processor offers beyond customers and subscriptions, so that the host (and its app)
// offers only that: a bookkeeping processor has none of it.
struct PaymentCapabilities {
  bool checkout = false;  // create_checkout() sends the user to pay
  bool portal = false;    // create_portal_session() lets the user change their card
  bool webhooks = false;  // parse_webhook() verifies and reads the processor's events
};

struct WebhookRequest {
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // the raw bytes, exactly as received
};

enum class PaymentEventType {
  checkout_completed,
  invoice_paid,
  payment_failed,
  subscription_updated,
  subscription_deleted,
  ignored,  // verified, but of a type we do not act on
};

// The processor's subscription, in the terms the host acts on.
enum class ProcessorState {
  unknown,     // the event says nothing about the subscription's state
  incomplete,  // the first payment has not gone through (yet)
  active,      // paid (or in a trial)
  past_due,    // a renewal payment failed; the processor is still retrying
  ended,       // canceled, or unpaid after the processor's last retry
};

struct PaymentEvent {
  std::string id;  // the processor's event id: the host applies each id once
  PaymentEventType type = PaymentEventType::ignored;
  // When the processor made the event: the host applies a subscription's events in this order,
  // whatever order they arrive in.
  std::chrono::system_clock::time_point occurred_at;
  std::string user_id;  // our id, when the event carries it (client reference, metadata)
  std::string customer_id;
  std::string subscription_id;
  std::string plan;  // the host's plan name (the processor's price mapped back); "" if unknown
  ProcessorState state = ProcessorState::unknown;
  std::optional<std::chrono::system_clock::time_point> current_period_end;
  bool cancel_at_period_end = false;
};

class PaymentProcessor {
 public:
  static constexpr std::string_view kInterfaceName = "payment";

  // Returns the processor's customer id.
  virtual Result<std::string> create_customer(const CustomerDetails& customer,
                                              std::string_view idempotency_key) = 0;
  // Status::unsupported when capabilities().checkout is false.
  virtual Result<CheckoutSession> create_checkout(const CheckoutRequest& request) = 0;
  // Where the customer changes their card or sees their invoices, returning to `return_url`.
  // Status::unsupported when capabilities().portal is false.
  virtual Result<std::string> create_portal_session(std::string_view customer_id, std::string_view return_url,
                                                    std::string_view idempotency_key) = 0;
  // Auto-renew off = cancel at period end; on = undo that before the period ends.
  virtual Outcome set_auto_renew(std::string_view subscription_id, bool enabled,
                                 std::string_view idempotency_key) = 0;
  // Ends the subscription now.
  virtual Outcome cancel_subscription(std::string_view subscription_id,
                                      std::string_view idempotency_key) = 0;
  // Verifies the signature (constant time, bounded clock skew) and parses the event.
  // A bad or stale signature is Status::permission_denied.
  virtual Result<PaymentEvent> parse_webhook(const WebhookRequest& request,
                                             std::chrono::system_clock::time_point now) = 0;
  // Deletes the customer and their payment details at the processor (erasure). Idempotent:
  // an already deleted customer succeeds.
  virtual Outcome delete_customer(std::string_view customer_id) = 0;
  virtual PaymentCapabilities capabilities() const = 0;

 protected:
  ~PaymentProcessor() = default;
};

}  // namespace framehouse::sdk
