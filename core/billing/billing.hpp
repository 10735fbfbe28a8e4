// Plans, subscriptions and entitlements. What a user may do is decided here from the
// subscription's state, never from a payment processor's internals, so that any processor
// (the manual one that ships, or a card processor later) drops in through the SDK interface.
//
// A subscription is active until current_period_end. At the end it renews for another period
// only if auto-renew is on and a payment for that period was recorded (prepaid_periods > 0);
// otherwise it expires and the user is back on the default plan. Switching auto-renew off
// keeps the plan until the period ends, and can be undone until then.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "clock/clock.hpp"
#include "db/database.hpp"
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
};

// The plans that apply when the configuration declares none.
std::map<std::string, Plan> default_plans();

struct Subscription {
  std::string plan;    // the plan in force now
  std::string status;  // "none" (default plan), "active", "expired"
  std::optional<std::int64_t> current_period_end;
  bool auto_renew = false;
  int prepaid_periods = 0;
  // The end of the last period paid for: the current one and every prepaid one after it.
  // With auto-renew off the plan ends here, never earlier.
  std::optional<std::int64_t> paid_through;
};

class Billing {
 public:
  Billing(db::Database& database, plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> processor,
          BillingConfig config, UnixClock clock = unix_now);

  const BillingConfig& config() const { return config_; }
  // The subscription as of now (renewing or expiring it first if its period ended).
  Subscription subscription(const std::string& user_id);
  const Plan& plan_for(const std::string& user_id);
  // Status::conflict when there is no active subscription; Status::unavailable when the
  // payment processor did not take the change (then nothing changed).
  sdk::Outcome set_auto_renew(const std::string& user_id, bool enabled);
  // An admin grants a plan or extends it by `periods` paid periods. Status::invalid_argument
  // for an unknown plan or the default plan.
  sdk::Result<Subscription> grant(const std::string& user_id, const std::string& plan, int periods);
  // Staff end a plan now (a grant made in error, a payment reversed): the account is on the
  // default plan at once, the paid periods left are gone and nothing renews (the processor is
  // told first; if it does not take it, nothing changed: Status::unavailable). Returns the plan
  // revoked; Status::conflict without an active subscription, not_found for no such user.
  sdk::Result<std::string> revoke(const std::string& user_id);
  // Renews or expires every subscription whose period ended. Returns how many changed.
  std::int64_t renew_due();

 private:
  // Whether the processor (if any) took the auto-renew change; nothing is changed here when not.
  bool tell_processor_auto_renew(const std::string& user_id, bool enabled, const std::string& idempotency_key);
  void settle(soci::session& sql, const std::string& user_id);

  db::Database& database_;
  plugins::PluginHost& host_;
  std::shared_ptr<plugins::LoadedPlugin> processor_;
  BillingConfig config_;
  UnixClock now_;
};

// The subscriptions table as a privacy participant.
class BillingParticipant final : public personal_data::TableStore {
 public:
  explicit BillingParticipant(db::Database& database) : TableStore(database, "subscriptions", "user_id", "subscription records") {}
  std::string_view name() const override { return "billing"; }
  std::vector<std::string> categories() const override { return {"subscription", "payment_reference"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  // The processor's customer id, by which the payment plugin knows the person.
  sdk::Outcome stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) override;
};

}  // namespace framehouse::billing
