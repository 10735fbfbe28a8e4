#include "billing/billing.hpp"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <soci/soci.h>

#include "framehouse/sdk/payment.hpp"
#include "observability/log.hpp"

namespace framehouse::billing {
namespace {

struct Row {
  std::string plan, status;
  long long period_end = 0;
  int auto_renew = 0, prepaid = 0;
  std::string customer;
  soci::indicator customer_indicator = soci::i_null;
};

bool load(soci::session& sql, const std::string& user_id, Row& row) {
  sql << "SELECT plan, status, current_period_end, auto_renew, prepaid_periods, customer_id FROM subscriptions"
         " WHERE user_id = :u",
      soci::use(user_id), soci::into(row.plan), soci::into(row.status), soci::into(row.period_end),
      soci::into(row.auto_renew), soci::into(row.prepaid), soci::into(row.customer, row.customer_indicator);
  return sql.got_data();
}

}  // namespace

std::map<std::string, Plan> default_plans() {
  Plan free{"free", 8, 1280, 10, 1, true, 7 * 24 * 3600};
  Plan premium{"premium", 20, 1920, 200, 3, false, 30 * 24 * 3600};
  return {{free.name, free}, {premium.name, premium}};
}

Billing::Billing(db::Database& database, plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> processor,
                 BillingConfig config, UnixClock clock)
    : database_(database), host_(host), processor_(std::move(processor)), config_(std::move(config)), now_(std::move(clock)) {}

void Billing::settle(soci::session& sql, const std::string& user_id) {
  Row row;
  // An expired row may still hold periods paid for: an earlier version dropped them when
  // auto-renew was off. They are used now, as they always should have been.
  if (!load(sql, user_id, row) || (row.status != "active" && row.prepaid == 0) || row.period_end > now_()) return;
  long long period_end = row.period_end;
  int prepaid = row.prepaid;
  // Periods already paid for are used whatever auto-renew says: auto-renew off means "end at
  // the paid-through date", and that date includes them.
  while (period_end <= now_() && prepaid > 0) {
    period_end += config_.period_seconds;
    --prepaid;
  }
  const std::string status = period_end > now_() ? "active" : "expired";
  const long long now = now_();
  sql << "UPDATE subscriptions SET status = :s, current_period_end = :e, prepaid_periods = :p, updated_at = :t"
         " WHERE user_id = :u",
      soci::use(status), soci::use(period_end), soci::use(prepaid), soci::use(now), soci::use(user_id);
}

Subscription Billing::subscription(const std::string& user_id) {
  soci::session sql(database_.pool());
  settle(sql, user_id);
  Row row;
  if (!load(sql, user_id, row)) return {config_.default_plan, "none", std::nullopt, false, 0};
  Subscription out;
  out.status = row.status;
  out.plan = row.status == "active" && config_.plans.count(row.plan) ? row.plan : config_.default_plan;
  out.current_period_end = row.period_end;
  out.auto_renew = row.auto_renew != 0;
  out.prepaid_periods = row.prepaid;
  if (row.status == "active") out.paid_through = row.period_end + static_cast<std::int64_t>(row.prepaid) * config_.period_seconds;
  return out;
}

const Plan& Billing::plan_for(const std::string& user_id) { return config_.plans.at(subscription(user_id).plan); }

bool Billing::tell_processor_auto_renew(const std::string& user_id, bool enabled, const std::string& idempotency_key) {
  if (!processor_) return true;  // no processor: nothing renews but what staff grant
  const std::string subscription_id = "sub_" + user_id;
  return host_
      .call<sdk::PaymentProcessor>(processor_, "set_auto_renew",
                                   [subscription_id, enabled, idempotency_key](sdk::PaymentProcessor& processor) {
                                     return processor.set_auto_renew(subscription_id, enabled, idempotency_key);
                                   })
      .ok();
}

sdk::Outcome Billing::set_auto_renew(const std::string& user_id, bool enabled) {
  soci::session sql(database_.pool());
  settle(sql, user_id);
  Row row;
  if (!load(sql, user_id, row) || row.status != "active") {
    return sdk::Outcome::failure(sdk::Status::conflict, "there is no active subscription");
  }
  if (!tell_processor_auto_renew(user_id, enabled, "auto-renew-" + user_id + "-" + std::to_string(now_()))) {
    return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor did not take the change");
  }
  const int value = enabled ? 1 : 0;
  const long long now = now_();
  sql << "UPDATE subscriptions SET auto_renew = :a, updated_at = :t WHERE user_id = :u", soci::use(value), soci::use(now),
      soci::use(user_id);
  return {};
}

sdk::Result<Subscription> Billing::grant(const std::string& user_id, const std::string& plan, int periods) {
  if (!config_.plans.count(plan) || plan == config_.default_plan) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "is not a plan that can be granted");
  }
  if (periods < 1 || periods > 120) return sdk::Outcome::failure(sdk::Status::invalid_argument, "must be from 1 to 120");
  {
    soci::session sql(database_.pool());  // released before subscription() takes its own
    std::string email, name;
    sql << "SELECT email, name FROM users WHERE id = :u", soci::use(user_id), soci::into(email), soci::into(name);
    if (!sql.got_data()) return sdk::Outcome::failure(sdk::Status::not_found, "no such user");
    settle(sql, user_id);
    Row row;
    const bool exists = load(sql, user_id, row);
    std::string customer = row.customer;
    if (processor_ && row.customer_indicator != soci::i_ok) {
      // The processor receives only the fields its manifest declares it receives (policy §3.1).
      const auto& declared = processor_->manifest().personal_data;
      const auto declares = [&declared](const char* category) {
        return std::find(declared.begin(), declared.end(), category) != declared.end();
      };
      const sdk::CustomerDetails details{user_id, declares("email_address") ? email : "", declares("name") ? name : ""};
      auto created = host_.call<sdk::PaymentProcessor>(processor_, "create_customer", [details](sdk::PaymentProcessor& processor) {
        return processor.create_customer(details, "customer-" + details.user_id);
      });
      if (!created) return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor is not available");
      customer = created.value();
    }
    soci::indicator customer_indicator = customer.empty() ? soci::i_null : soci::i_ok;
    const long long now = now_();
    if (exists && row.status == "active") {
      // Added in SQL, so that two grants at once both count.
      sql << "UPDATE subscriptions SET plan = :p, prepaid_periods = prepaid_periods + :n, customer_id = :c, updated_at = :t"
             " WHERE user_id = :u",
          soci::use(plan), soci::use(periods), soci::use(customer, customer_indicator), soci::use(now), soci::use(user_id);
    } else {
      if (processor_) {
        // A new subscription renews automatically; the processor keeps the same record.
        const std::string subscription_id = "sub_" + user_id;
        const sdk::Outcome told = host_.call<sdk::PaymentProcessor>(
            processor_, "set_auto_renew", [subscription_id](sdk::PaymentProcessor& processor) {
              return processor.set_auto_renew(subscription_id, true, "activate-" + subscription_id);
            });
        if (!told) return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor is not available");
      }
      const long long period_end = now + config_.period_seconds;
      const int prepaid = periods - 1;
      sql << "INSERT INTO subscriptions (user_id, plan, status, current_period_end, auto_renew, prepaid_periods, customer_id,"
             " created_at, updated_at) VALUES (:u, :p, 'active', :e, 1, :n, :c, :t, :t2)"
             " ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan, status = 'active',"
             " current_period_end = excluded.current_period_end, auto_renew = 1,"
             // Grants add: whatever is left of an earlier one stays.
             " prepaid_periods = subscriptions.prepaid_periods + excluded.prepaid_periods, customer_id = excluded.customer_id,"
             " updated_at = excluded.updated_at",
          soci::use(user_id), soci::use(plan), soci::use(period_end), soci::use(prepaid), soci::use(customer, customer_indicator),
          soci::use(now), soci::use(now);
    }
  }
  return subscription(user_id);
}

sdk::Result<std::string> Billing::revoke(const std::string& user_id) {
  soci::session sql(database_.pool());
  int exists = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(user_id), soci::into(exists);
  if (exists == 0) return sdk::Outcome::failure(sdk::Status::not_found, "no such user");
  settle(sql, user_id);
  Row row;
  if (!load(sql, user_id, row) || row.status != "active") {
    return sdk::Outcome::failure(sdk::Status::conflict, "there is no active subscription");
  }
  if (!tell_processor_auto_renew(user_id, false, "revoke-" + user_id + "-" + std::to_string(now_()))) {
    return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor did not take the change");
  }
  const long long now = now_();
  sql << "UPDATE subscriptions SET status = 'expired', current_period_end = :e, prepaid_periods = 0, auto_renew = 0,"
         " updated_at = :t WHERE user_id = :u",
      soci::use(now), soci::use(now), soci::use(user_id);
  return row.plan;
}

std::int64_t Billing::renew_due() {
  std::vector<std::string> due;
  {
    soci::session sql(database_.pool());
    std::string user_id;
    const long long now = now_();
    soci::statement st = (sql.prepare << "SELECT user_id FROM subscriptions WHERE status = 'active' AND current_period_end <= :n",
                          soci::use(now), soci::into(user_id));
    st.execute();
    while (st.fetch()) due.push_back(user_id);
  }
  for (const auto& user_id : due) {
    soci::session sql(database_.pool());
    settle(sql, user_id);
  }
  return static_cast<std::int64_t>(due.size());
}

sdk::Outcome BillingParticipant::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  soci::session sql(database_.pool());
  std::string customer;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT customer_id FROM subscriptions WHERE user_id = :u", soci::use(user_id), soci::into(customer, indicator);
  if (sql.got_data() && indicator == soci::i_ok) stopped.external_ids["payment_customer_id"] = customer;
  return {};
}

sdk::Outcome BillingParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  Row row;
  if (!load(sql, subject.user_id, row)) return {};
  return sink.record("subscription", boost::json::serialize(boost::json::object{
                                         {"plan", row.plan},
                                         {"status", row.status},
                                         {"current_period_end", row.period_end},
                                         {"auto_renew", row.auto_renew != 0},
                                         {"prepaid_periods", row.prepaid},
                                         {"payment_customer_id", row.customer_indicator == soci::i_ok
                                                                     ? boost::json::value(row.customer)
                                                                     : boost::json::value(nullptr)}}));
}

}  // namespace framehouse::billing
