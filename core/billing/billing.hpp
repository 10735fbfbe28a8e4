// Plans, entitlements and the processor's billing state, kept apart as Kill Bill keeps them.
// The entitlement (`subscriptions`) is what a user may use and until when; it alone decides
// what a user may do. The billing state (`billing_accounts`) is what the payment processor
// says: its customer and subscription ids, the subscription's state and period. Processor
// events (webhooks, each applied once) change the billing state and, from it, the entitlement;
// staff grants change only the entitlement. Any processor drops in through the SDK interface.
//
// An entitlement is active until current_period_end. Periods already paid for (granted) are
// used one after another whatever auto-renew says: auto-renew off means "ends at the
// paid-through date", and can be undone until then. When the last paid period ends with
// auto-renew on and no payment recorded (a processor's renewal failed, or an invoice is
// unpaid), the plan stays for a grace period and then expires. Every change is mailed to the
// account holder (account mail: always sent), in the transaction that makes it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "clock/clock.hpp"
#include "db/database.hpp"
#include "framehouse/sdk/payment.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/job_runner.hpp"
#include "mail/mailer.hpp"
#include "personal_data/store.hpp"
#include "plugins/host.hpp"

namespace framehouse::billing {

struct Plan {
  std::string name;
  int max_seconds = 8;
  int max_side = 1280;        // the longer side of a video, pixels
  int videos_per_day = 10;    // videos created in the last 24 hours
  int concurrent_jobs = 1;    // queued or running at once
  bool watermark = true;
  std::int64_t retention_seconds = 7 * 24 * 3600;
};

struct BillingConfig {
  std::map<std::string, Plan> plans;
  std::string default_plan = "free";
  std::int64_t period_seconds = 30 * 24 * 3600;
  // How long a plan stays after its renewal was not paid, while the processor retries.
  std::int64_t grace_seconds = 3 * 24 * 3600;
  std::string public_url;  // the app's, for the links in mail and the checkout's return
};

// The queue of calls to the payment processor that a committed change causes (auto-renew,
// cancellation): the outbox of billing, so that a crash between our commit and the
// processor's answer neither loses nor doubles a call (its job id is the idempotency key).
inline constexpr const char* kProcessorCallQueue = "payment";
inline jobs::QueueOptions processor_call_queue() { return {kProcessorCallQueue, std::chrono::seconds(120), 10}; }

enum class EntitlementStatus {
  none,     // never had a plan: the default plan
  active,   // paid (or granted) through current_period_end
  grace,    // the renewal was not paid; the plan stays until grace_until
  expired,  // ended: the default plan
};
std::string_view to_string(EntitlementStatus status);
std::optional<EntitlementStatus> entitlement_status_from(std::string_view text);

// The plans that apply when the configuration declares none.
std::map<std::string, Plan> default_plans();

struct Subscription {
  std::string plan;  // the plan in force now
  EntitlementStatus status = EntitlementStatus::none;
  std::optional<std::int64_t> current_period_end;
  bool auto_renew = false;
  int prepaid_periods = 0;
  // The end of the last period paid for: the current one and every prepaid one after it.
  // With auto-renew off the plan ends here, never earlier.
  std::optional<std::int64_t> paid_through;
  // A renewal payment is due: the plan ends then unless it is paid (in grace, or after the
  // current period when the processor reported the failure early).
  std::optional<std::int64_t> grace_until;
  // Paid through the processor (its subscription, not a staff grant): changed there.
  bool billed_by_processor = false;
};

// What became of one processor event.
enum class WebhookResult {
  applied,    // it changed what the processor says about someone (and maybe their plan)
  duplicate,  // applied before (here or on another node): nothing done again
  ignored,    // verified, but of a kind or about a subscription we do not act on
};

class Billing {
 public:
  // `processor` may be null (plans are only granted by staff). `processor_calls` holds the
  // calls a change causes until its workers (run_processor_call) make them.
  Billing(db::Database& database, plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> processor,
          BillingConfig config, mail::Mailer& mailer, jobs::JobQueue& processor_calls, UnixClock clock = unix_now);

  const BillingConfig& config() const { return config_; }
  // What the processor offers (none without one).
  const sdk::PaymentCapabilities& capabilities() const { return capabilities_; }
  // The subscription as of now (renewing or expiring it first if its period ended).
  Subscription subscription(const std::string& user_id);
  const Plan& plan_for(const std::string& user_id);
  // Status::conflict when there is no active subscription. The processor is told through
  // the processor-call queue, after the change commits.
  sdk::Outcome set_auto_renew(const std::string& user_id, bool enabled);
  // Where the user pays for `plan` at the processor. `operation_id` identifies the attempt
  // (the client's Idempotency-Key, or a new id): the same one returns the same session.
  // Status::unsupported without a checkout; invalid_argument for a plan not sold;
  // conflict when the processor already bills the user (they change it in the portal).
  sdk::Result<sdk::CheckoutSession> start_checkout(const std::string& user_id, const std::string& plan,
                                                   const std::string& operation_id);
  // The processor's page for the user's card and invoices (`operation_id` as for a checkout).
  // Status::unsupported without one; not_found when the processor knows no customer of theirs.
  sdk::Result<std::string> portal_url(const std::string& user_id, const std::string& operation_id);
  // A processor's webhook, verified by the plugin named `plugin` and applied once (the event's
  // id is recorded in the transaction that applies it, so two nodes never both do). The
  // plugin's refusal comes back as it is: permission_denied for a bad signature.
  sdk::Result<WebhookResult> receive_webhook(const std::string& plugin, const sdk::WebhookRequest& request);
  // One queued processor call (a job of kProcessorCallQueue).
  jobs::JobResult run_processor_call(const jobs::Job& job);
  // The workers that make the queued calls (a command line tool leaves them to the server's).
  void start_workers() { processor_workers_.start(1); }
  void stop_workers() { processor_workers_.stop(); }
  // An admin grants a plan or extends it by `periods` paid periods. Status::invalid_argument
  // for an unknown plan or the default plan.
  sdk::Result<Subscription> grant(const std::string& user_id, const std::string& plan, int periods);
  // Staff end a plan now (a grant made in error, a payment reversed): the account is on the
  // default plan at once, the paid periods left are gone and nothing renews; a processor's
  // subscription is canceled there (queued). Returns the plan revoked; Status::conflict
  // without an active subscription, not_found for no such user.
  sdk::Result<std::string> revoke(const std::string& user_id);
  // Renews, puts in grace or expires every subscription whose period ended. Returns how many
  // changed.
  std::int64_t renew_due();
  // Forgets processor event ids older than `keep` (the processor stops resending long before).
  std::int64_t purge_old_events(std::chrono::seconds keep);

 private:
  struct Entitlement;
  struct Account;
  enum class Cause { grant, renewal, auto_renew, revocation, processor };
  enum class ProcessorCall {
    sync_auto_renew,      // tell the processor the holder's auto-renew choice as it is when the call runs
    cancel_subscription,  // end the processor's subscription now
  };

  // A bookkeeping processor (no checkout) learns of staff grants; a card processor does not.
  bool processor_keeps_grants() const;
  // Renews, puts in grace or expires the entitlement if its time came; what it is then (none
  // without a row) and whether that changed it.
  struct Settled;
  Settled settle(db::WriteTransaction& transaction, const std::string& user_id);
  // The entitlement as of now, settled first (without the processor's billing state).
  Subscription entitlement_of(soci::session& sql, const std::string& user_id);
  // The period arithmetic: paid periods used, then grace or expiry, as of now.
  void advance(Entitlement& entitlement) const;
  // Writes the entitlement and mails the holder what changed (nothing when nothing they see did).
  void store(db::WriteTransaction& transaction, const std::string& user_id, const std::optional<Entitlement>& before,
             const Entitlement& after, Cause cause);
  void tell_holder(db::WriteTransaction& transaction, const std::string& user_id, const std::optional<Entitlement>& before,
                   const Entitlement& after, Cause cause);
  void queue_processor_call(db::WriteTransaction& transaction, const std::string& user_id, ProcessorCall call,
                            const std::string& subscription_id);
  // The processor's subscription id to change for the user, if one is to be told.
  std::optional<std::string> processor_subscription(soci::session& sql, const std::string& user_id);
  std::optional<std::string> ensure_customer(const std::string& user_id);
  void apply_event(db::WriteTransaction& transaction, const std::string& user_id, const sdk::PaymentEvent& event);

  db::Database& database_;
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> processor_;
  BillingConfig config_;
  mail::Mailer& mailer_;
  jobs::JobQueue& processor_calls_;
  UnixClock now_;
  sdk::PaymentCapabilities capabilities_;
  jobs::JobRunner processor_workers_;
};

// The entitlement and the billing state as a privacy participant.
class BillingParticipant final : public personal_data::RecordsStore {
 public:
  explicit BillingParticipant(db::Database& database) : database_(database) {}
  std::string_view name() const override { return "billing"; }
  std::vector<std::string> categories() const override { return {"subscription", "payment_reference"}; }
  std::vector<std::string> tables() const override { return {"subscriptions", "billing_accounts"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;
  // The processor's customer id, by which the payment plugin knows the person.
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) override;

 private:
  db::Database& database_;
};

}  // namespace framehouse::billing
