#include "billing/billing.hpp"

#include <algorithm>
#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "observability/log.hpp"

namespace framehouse::billing {
namespace {

namespace json = boost::json;
using observability::Log;

std::string day_of(std::int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

std::int64_t seconds_of(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// As stored in billing_accounts.state; "none": a customer without a subscription yet.
std::string_view to_string(sdk::ProcessorState state) {
  switch (state) {
    case sdk::ProcessorState::unknown: return "none";
    case sdk::ProcessorState::incomplete: return "incomplete";
    case sdk::ProcessorState::active: return "active";
    case sdk::ProcessorState::past_due: return "past_due";
    case sdk::ProcessorState::ended: return "ended";
  }
  return "unknown";
}

std::string_view to_string(sdk::PaymentEventType type) {
  switch (type) {
    case sdk::PaymentEventType::checkout_completed: return "checkout_completed";
    case sdk::PaymentEventType::invoice_paid: return "invoice_paid";
    case sdk::PaymentEventType::payment_failed: return "payment_failed";
    case sdk::PaymentEventType::subscription_updated: return "subscription_updated";
    case sdk::PaymentEventType::subscription_deleted: return "subscription_deleted";
    case sdk::PaymentEventType::ignored: return "ignored";
  }
  return "ignored";
}

sdk::ProcessorState processor_state_from(std::string_view text) {
  for (const auto state : {sdk::ProcessorState::incomplete, sdk::ProcessorState::active, sdk::ProcessorState::past_due,
                           sdk::ProcessorState::ended}) {
    if (to_string(state) == text) return state;
  }
  return sdk::ProcessorState::unknown;
}

}  // namespace

std::string_view to_string(EntitlementStatus status) {
  switch (status) {
    case EntitlementStatus::none: return "none";
    case EntitlementStatus::active: return "active";
    case EntitlementStatus::grace: return "grace";
    case EntitlementStatus::expired: return "expired";
  }
  return "none";
}

std::optional<EntitlementStatus> entitlement_status_from(std::string_view text) {
  for (const auto status : {EntitlementStatus::none, EntitlementStatus::active, EntitlementStatus::grace, EntitlementStatus::expired}) {
    if (to_string(status) == text) return status;
  }
  return std::nullopt;
}

// A row of `subscriptions`: what the user may use.
struct Billing::Entitlement {
  std::string plan;
  EntitlementStatus status = EntitlementStatus::none;
  long long period_end = 0;
  int auto_renew = 0;
  int prepaid = 0;
  std::optional<long long> grace_until;
  long long auto_renew_changed_at = 0;

  bool in_force() const { return status == EntitlementStatus::active || status == EntitlementStatus::grace; }
  long long paid_through(std::int64_t period) const { return period_end + static_cast<long long>(prepaid) * period; }

  static std::optional<Entitlement> load(soci::session& sql, const std::string& user_id, const std::string& lock = "") {
    Entitlement row;
    std::string status;
    long long grace = 0;
    soci::indicator grace_indicator = soci::i_null;
    sql << "SELECT plan, status, current_period_end, auto_renew, prepaid_periods, grace_until, auto_renew_changed_at"
           " FROM subscriptions WHERE user_id = :u" + lock,
        soci::use(user_id), soci::into(row.plan), soci::into(status), soci::into(row.period_end), soci::into(row.auto_renew),
        soci::into(row.prepaid), soci::into(grace, grace_indicator), soci::into(row.auto_renew_changed_at);
    if (!sql.got_data()) return std::nullopt;
    row.status = entitlement_status_from(status).value_or(EntitlementStatus::expired);
    if (grace_indicator == soci::i_ok) row.grace_until = grace;
    return row;
  }
};

// A row of `billing_accounts`: what the processor says about the user.
struct Billing::Account {
  std::string customer_id;
  std::string subscription_id;  // "" before a subscription exists
  sdk::ProcessorState state = sdk::ProcessorState::unknown;
  std::string plan;
  long long period_end = 0;
  int cancel_at_period_end = 0;
  long long state_at = 0;  // when the processor made the newest event applied to the state

  // The processor's subscription bills the user now: changes to it are made there.
  bool billing() const {
    return !subscription_id.empty() && (state == sdk::ProcessorState::active || state == sdk::ProcessorState::past_due ||
                                        state == sdk::ProcessorState::incomplete);
  }

  static std::optional<Account> load(soci::session& sql, const std::string& user_id, const std::string& lock = "") {
    Account row;
    std::string state;
    soci::indicator subscription_indicator = soci::i_null, plan_indicator = soci::i_null;
    sql << "SELECT customer_id, subscription_id, state, plan, period_end, cancel_at_period_end, state_at"
           " FROM billing_accounts WHERE user_id = :u" + lock,
        soci::use(user_id), soci::into(row.customer_id), soci::into(row.subscription_id, subscription_indicator),
        soci::into(state), soci::into(row.plan, plan_indicator), soci::into(row.period_end),
        soci::into(row.cancel_at_period_end), soci::into(row.state_at);
    if (!sql.got_data()) return std::nullopt;
    row.state = processor_state_from(state);
    if (subscription_indicator != soci::i_ok) row.subscription_id.clear();
    if (plan_indicator != soci::i_ok) row.plan.clear();
    return row;
  }
};

struct Billing::Settled {
  std::optional<Entitlement> entitlement;
  bool changed = false;
};

std::map<std::string, Plan> default_plans() {
  Plan free{"free", 8, 1280, 10, 1, true, 7 * 24 * 3600};
  Plan premium{"premium", 20, 1920, 200, 3, false, 30 * 24 * 3600};
  return {{free.name, free}, {premium.name, premium}};
}

Billing::Billing(db::Database& database, plugins::PluginHost& host, std::shared_ptr<plugins::LoadedPlugin> processor,
                 BillingConfig config, mail::Mailer& mailer, jobs::JobQueue& processor_calls, UnixClock clock)
    : database_(database),
      host_(host),
      processor_(std::move(processor)),
      config_(std::move(config)),
      mailer_(mailer),
      processor_calls_(processor_calls),
      now_(std::move(clock)),
      processor_workers_(processor_calls, database, [this](const jobs::Job& job, std::stop_token) { return run_processor_call(job); }) {
  if (processor_) {
    const auto offered = host_.call<sdk::PaymentProcessor>(processor_, "capabilities", [](sdk::PaymentProcessor& processor) {
      return sdk::Result<sdk::PaymentCapabilities>(processor.capabilities());
    });
    if (offered) capabilities_ = offered.value();
  }
}

bool Billing::processor_keeps_grants() const { return processor_ && !capabilities_.checkout; }

void Billing::advance(Entitlement& entitlement) const {
  if (!entitlement.in_force() && entitlement.prepaid == 0) return;
  const long long now = now_();
  // Periods already paid for are used whatever auto-renew says; one that begins settles any
  // payment still due.
  while (entitlement.period_end <= now && entitlement.prepaid > 0) {
    entitlement.period_end += config_.period_seconds;
    --entitlement.prepaid;
    entitlement.grace_until.reset();
  }
  // A failed payment reported before the period ends leaves grace_until set: the plan runs to
  // the period's end, then waits for the payment until then.
  if (entitlement.period_end > now) {
    entitlement.status = EntitlementStatus::active;
  } else if (entitlement.auto_renew != 0 && config_.grace_seconds > 0 && entitlement.status != EntitlementStatus::expired) {
    // The renewal is due and unpaid: the plan stays a while, as the processor retries.
    if (!entitlement.grace_until) entitlement.grace_until = entitlement.period_end + config_.grace_seconds;
    entitlement.status = *entitlement.grace_until > now ? EntitlementStatus::grace : EntitlementStatus::expired;
  } else {
    entitlement.status = EntitlementStatus::expired;
  }
}

void Billing::store(db::WriteTransaction& transaction, const std::string& user_id, const std::optional<Entitlement>& before,
                    const Entitlement& after, Cause cause) {
  auto& sql = transaction.session();
  const long long now = now_();
  const std::string status(to_string(after.status));
  long long grace = after.grace_until.value_or(0);
  soci::indicator grace_indicator = after.grace_until ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO subscriptions (user_id, plan, status, current_period_end, auto_renew, prepaid_periods, grace_until,"
         " auto_renew_changed_at, created_at, updated_at) VALUES (:u, :p, :s, :e, :a, :n, :g, :c, :t, :t2)"
         " ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan, status = excluded.status,"
         " current_period_end = excluded.current_period_end, auto_renew = excluded.auto_renew,"
         " prepaid_periods = excluded.prepaid_periods, grace_until = excluded.grace_until,"
         " auto_renew_changed_at = excluded.auto_renew_changed_at, updated_at = excluded.updated_at",
      soci::use(user_id), soci::use(after.plan), soci::use(status), soci::use(after.period_end), soci::use(after.auto_renew),
      soci::use(after.prepaid), soci::use(grace, grace_indicator), soci::use(after.auto_renew_changed_at), soci::use(now),
      soci::use(now);
  tell_holder(transaction, user_id, before, after, cause);
}

void Billing::tell_holder(db::WriteTransaction& transaction, const std::string& user_id, const std::optional<Entitlement>& before,
                          const Entitlement& after, Cause cause) {
  // One message for what changed, in words of what the holder can do.
  auto& sql = transaction.session();
  const long long now = now_();
  const auto& plan_name = after.plan;
  const std::string paid_through = day_of(after.paid_through(config_.period_seconds));
  const std::string settings = config_.public_url + "/#/settings/subscription";
  const bool was_in_force = before && before->in_force();
  std::string subject, body;
  if (after.status == EntitlementStatus::expired && was_in_force) {
    subject = "Your " + plan_name + " plan has ended";
    const std::string why = cause == Cause::revocation ? "It was ended by the service's staff."
                            : cause == Cause::processor ? "The subscription was canceled at the payment processor."
                            : before->status == EntitlementStatus::grace ? "The payment for its renewal did not come through."
                                                                         : "It was not renewed.";
    body = "Your " + plan_name + " plan ended on " + day_of(std::min<long long>(after.period_end, now)) + ". " + why +
           "\nYour account is on the " + config_.default_plan + " plan now; your videos stay as the plan's retention allows.\n\n"
           "You can subscribe again in the app: " + settings + "\n";
  } else if (after.grace_until && (!before || !before->grace_until)) {
    subject = "The payment for your " + plan_name + " plan has not come through";
    body = "The payment for the next period of your " + plan_name + " plan has not come through. Your plan keeps working until " +
           day_of(*after.grace_until) + "; if it is not paid by then, it ends.\n\nCheck your payment method in the app: " + settings +
           "\n";
  } else if (after.in_force() && !was_in_force) {
    subject = "Your " + plan_name + " plan is active";
    body = "Your " + plan_name + " plan is active and paid through " + paid_through + ". " +
           (after.auto_renew ? std::string("It renews automatically; you can turn that off in the app at any time.")
                             : "It ends then unless you renew it.") +
           "\n\nYour subscription: " + settings + "\n";
  } else if (after.in_force() && before && after.plan != before->plan) {
    subject = "Your plan is now " + plan_name;
    body = "Your plan is now " + plan_name + ", paid through " + paid_through + ".\n\nYour subscription: " + settings + "\n";
  } else if (after.in_force() && before &&
             (after.paid_through(config_.period_seconds) > before->paid_through(config_.period_seconds) ||
              after.period_end > before->period_end)) {
    // More paid for (a grant, a processor's renewal), or the next period paid for began.
    subject = cause == Cause::grant ? "Your " + plan_name + " plan was extended" : "Your " + plan_name + " plan was renewed";
    body = "Your " + plan_name + " plan is paid through " + paid_through + " now.\n\nYour subscription: " + settings + "\n";
  } else if (after.in_force() && before && after.auto_renew != before->auto_renew) {
    subject = after.auto_renew ? "Auto-renew is on" : "Auto-renew is off";
    body = after.auto_renew ? "Your " + plan_name + " plan renews automatically after " + paid_through +
                                  ". You can turn that off in the app at any time: " + settings + "\n"
                            : "Your " + plan_name + " plan will not renew: it ends on " + paid_through +
                                  ", and you keep it until then. You can turn auto-renew back on before that: " + settings + "\n";
  }
  if (subject.empty()) return;
  std::string to, name;
  sql << "SELECT email, name FROM users WHERE id = :u", soci::use(user_id), soci::into(to), soci::into(name);
  if (!sql.got_data()) return;
  mail::Message message{to, subject, "Hello " + name + ",\n\n" + body, "account", user_id};
  if (const auto queued = mailer_.queue(transaction, message); !queued) {
    Log::warn("billing", "a billing notice was not queued", {{"reason", queued.message()}});
  }
}

Billing::Settled Billing::settle(db::WriteTransaction& transaction, const std::string& user_id) {
  const auto before = Entitlement::load(transaction.session(), user_id, database_.dialect().for_update());
  if (!before) return {};
  Entitlement after = *before;
  advance(after);
  if (after.status == before->status && after.period_end == before->period_end && after.grace_until == before->grace_until) {
    return {before, false};
  }
  store(transaction, user_id, before, after, Cause::renewal);
  return {after, true};
}

Subscription Billing::subscription(const std::string& user_id) {
  soci::session sql(database_.pool());
  Subscription out = entitlement_of(sql, user_id);
  const auto account = Account::load(sql, user_id);
  out.billed_by_processor = account && account->billing();
  return out;
}

Subscription Billing::entitlement_of(soci::session& sql, const std::string& user_id) {
  auto row = Entitlement::load(sql, user_id);
  const long long now = now_();
  if (row && (row->in_force() || row->prepaid > 0) && (row->period_end <= now || (row->grace_until && *row->grace_until <= now))) {
    db::WriteTransaction transaction(sql, database_);
    row = settle(transaction, user_id).entitlement;
    transaction.commit();
  }
  Subscription out;
  out.plan = config_.default_plan;
  if (!row) return out;
  out.status = row->status;
  if (row->in_force() && config_.plans.count(row->plan)) out.plan = row->plan;
  out.current_period_end = row->period_end;
  out.auto_renew = row->auto_renew != 0;
  out.prepaid_periods = row->prepaid;
  if (row->in_force()) out.paid_through = row->paid_through(config_.period_seconds);
  if (row->in_force()) out.grace_until = row->grace_until;
  return out;
}

const Plan& Billing::plan_for(const std::string& user_id) {
  soci::session sql(database_.pool());
  return config_.plans.at(entitlement_of(sql, user_id).plan);
}

std::optional<std::string> Billing::processor_subscription(soci::session& sql, const std::string& user_id) {
  if (!processor_) return std::nullopt;
  if (const auto account = Account::load(sql, user_id);
      account && !account->subscription_id.empty() && account->state != sdk::ProcessorState::ended) {
    return account->subscription_id;
  }
  // A bookkeeping processor keeps a record per user under our own id.
  if (processor_keeps_grants()) return "sub_" + user_id;
  return std::nullopt;
}

void Billing::queue_processor_call(db::WriteTransaction& transaction, const std::string& user_id, ProcessorCall call,
                                   const std::string& subscription_id) {
  const char* name = call == ProcessorCall::sync_auto_renew ? "set_auto_renew" : "cancel_subscription";
  const json::object payload{{"call", name}, {"user_id", user_id}, {"subscription_id", subscription_id}};
  processor_calls_.enqueue(transaction, json::serialize(payload), user_id, std::string("payment: ") + name);
}

jobs::JobResult Billing::run_processor_call(const jobs::Job& job) {
  if (job.payload.empty()) return jobs::JobResult::finished();  // made before a crash; recorded as done
  if (!processor_) return jobs::JobResult::failed_for_good("no payment processor is configured");
  boost::system::error_code ec;
  const auto payload = json::parse(job.payload, ec);
  if (ec || !payload.is_object()) return jobs::JobResult::failed_for_good("the call is not readable");
  const auto& call = payload.as_object();
  const bool cancel = call.at("call").as_string() == "cancel_subscription";
  const std::string user_id(call.at("user_id").as_string());
  const std::string subscription_id(call.at("subscription_id").as_string());
  // Auto-renew is sent as it is now, not as it was when the call was queued: calls that run out
  // of order (a retry after a later one) still leave the processor where the holder left it.
  bool enabled = false;
  if (!cancel) {
    soci::session sql(database_.pool());
    const auto entitlement = Entitlement::load(sql, user_id);
    enabled = entitlement && entitlement->in_force() && entitlement->auto_renew != 0;
  }
  // The key is the job's id (and the value sent): a retry after a crash is the same call.
  const std::string key = "framehouse-" + job.id + (cancel ? "" : enabled ? "-on" : "-off");
  const sdk::Outcome outcome = host_.call<sdk::PaymentProcessor>(processor_, cancel ? "cancel_subscription" : "set_auto_renew",
                                                                 [&](sdk::PaymentProcessor& processor) {
                                                                   return cancel ? processor.cancel_subscription(subscription_id, key)
                                                                                 : processor.set_auto_renew(subscription_id, enabled, key);
                                                                 });
  if (outcome) return jobs::JobResult::finished();
  switch (outcome.status()) {
    case sdk::Status::invalid_argument:
    case sdk::Status::not_found:
    case sdk::Status::permission_denied:
    case sdk::Status::unsupported: return jobs::JobResult::failed_for_good(outcome.message());
    default: return jobs::JobResult::retry_later(outcome.message());
  }
}

sdk::Outcome Billing::set_auto_renew(const std::string& user_id, bool enabled) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
    const auto before = settle(transaction, user_id).entitlement;
  if (!before || !before->in_force()) return sdk::Outcome::failure(sdk::Status::conflict, "there is no active subscription");
  if ((before->auto_renew != 0) == enabled) return {};
  Entitlement after = *before;
  after.auto_renew = enabled ? 1 : 0;
  after.auto_renew_changed_at = now_();
  // Turned back on in grace, the renewal is still due: the grace goes on.
  store(transaction, user_id, before, after, Cause::auto_renew);
  if (const auto target = processor_subscription(sql, user_id)) {
    queue_processor_call(transaction, user_id, ProcessorCall::sync_auto_renew, *target);
  }
  transaction.commit();
  return {};
}

std::optional<std::string> Billing::ensure_customer(const std::string& user_id) {
  std::string email, name;
  {
    soci::session sql(database_.pool());  // released before the processor is called
    if (const auto account = Account::load(sql, user_id)) return account->customer_id;
    sql << "SELECT email, name FROM users WHERE id = :u", soci::use(user_id), soci::into(email), soci::into(name);
  }
  // The processor receives only the fields its manifest declares it receives (policy §3.1).
  const auto& declared = processor_->manifest().personal_data;
  const auto declares = [&declared](const char* category) {
    return std::find(declared.begin(), declared.end(), category) != declared.end();
  };
  const sdk::CustomerDetails details{user_id, declares("email_address") ? email : "", declares("name") ? name : ""};
  // Made with a key of our own per user: asked twice (two nodes, a retry), it is one customer.
  auto created = host_.call<sdk::PaymentProcessor>(processor_, "create_customer", [details](sdk::PaymentProcessor& processor) {
    return processor.create_customer(details, "customer-" + details.user_id);
  });
  if (!created) return std::nullopt;
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  const long long now = now_();
  std::string customer = created.value();
  sql << "INSERT INTO billing_accounts (user_id, customer_id, state, cancel_at_period_end, state_at, created_at, updated_at)"
         " VALUES (:u, :c, 'none', 0, 0, :t, :t2) ON CONFLICT (user_id) DO NOTHING",
      soci::use(user_id), soci::use(customer), soci::use(now), soci::use(now);
  transaction.commit();
  return Account::load(sql, user_id)->customer_id;
}

sdk::Result<Subscription> Billing::grant(const std::string& user_id, const std::string& plan, int periods) {
  if (!config_.plans.count(plan) || plan == config_.default_plan) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "is not a plan that can be granted");
  }
  if (periods < 1 || periods > 120) return sdk::Outcome::failure(sdk::Status::invalid_argument, "must be from 1 to 120");
  {
    soci::session sql(database_.pool());
    int exists = 0;
    sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(user_id), soci::into(exists);
    if (exists == 0) return sdk::Outcome::failure(sdk::Status::not_found, "no such user");
  }
  const bool bookkeeping = processor_keeps_grants();
  // A bookkeeping processor keeps a customer record for the admin's books.
  if (bookkeeping && !ensure_customer(user_id)) {
    return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor is not available");
  }
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
        const auto before = settle(transaction, user_id).entitlement;
    Entitlement after = before.value_or(Entitlement{});
    after.plan = plan;
    if (before && before->in_force()) {
      after.prepaid += periods;  // grants add to what is left
    } else {
      after.status = EntitlementStatus::active;
      after.period_end = now_() + config_.period_seconds;
      after.prepaid += periods - 1;  // what an earlier grant left stays
      after.grace_until.reset();
      // Only a bookkeeping processor expects the next invoice; a staff grant otherwise ends.
      after.auto_renew = bookkeeping ? 1 : 0;
      after.auto_renew_changed_at = now_();
      if (bookkeeping) queue_processor_call(transaction, user_id, ProcessorCall::sync_auto_renew, "sub_" + user_id);
    }
    advance(after);
    store(transaction, user_id, before, after, Cause::grant);
    transaction.commit();
  }
  return subscription(user_id);
}

sdk::Result<std::string> Billing::revoke(const std::string& user_id) {
  soci::session sql(database_.pool());
  int exists = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(user_id), soci::into(exists);
  if (exists == 0) return sdk::Outcome::failure(sdk::Status::not_found, "no such user");
  db::WriteTransaction transaction(sql, database_);
    const auto before = settle(transaction, user_id).entitlement;
  if (!before || !before->in_force()) return sdk::Outcome::failure(sdk::Status::conflict, "there is no active subscription");
  Entitlement after = *before;
  after.status = EntitlementStatus::expired;
  after.period_end = now_();
  after.prepaid = 0;
  after.auto_renew = 0;
  after.grace_until.reset();
  store(transaction, user_id, before, after, Cause::revocation);
  if (const auto account = Account::load(sql, user_id); account && account->billing()) {
    queue_processor_call(transaction, user_id, ProcessorCall::cancel_subscription, account->subscription_id);
  } else if (processor_keeps_grants()) {
    queue_processor_call(transaction, user_id, ProcessorCall::sync_auto_renew, "sub_" + user_id);
  }
  transaction.commit();
  return before->plan;
}

std::int64_t Billing::renew_due() {
  std::vector<std::string> due;
  {
    soci::session sql(database_.pool());
    std::string user_id;
    const long long now = now_();
    soci::statement st = (sql.prepare << "SELECT user_id FROM subscriptions WHERE status IN ('active', 'grace')"
                                         " AND current_period_end <= :n",
                          soci::use(now), soci::into(user_id));
    st.execute();
    while (st.fetch()) due.push_back(user_id);
  }
  std::int64_t changed = 0;
  for (const auto& user_id : due) {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    if (settle(transaction, user_id).changed) ++changed;
    transaction.commit();
  }
  return changed;
}

std::int64_t Billing::purge_old_events(std::chrono::seconds keep) {
  soci::session sql(database_.pool());
  const long long before = now_() - keep.count();
  soci::statement st = (sql.prepare << "DELETE FROM payment_events WHERE received_at < :b", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

sdk::Result<sdk::CheckoutSession> Billing::start_checkout(const std::string& user_id, const std::string& plan,
                                                          const std::string& operation_id) {
  if (!capabilities_.checkout) {
    return sdk::Outcome::failure(sdk::Status::unsupported, "plans are not sold in the app here: ask your administrator");
  }
  if (!config_.plans.count(plan) || plan == config_.default_plan) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "is not a plan that can be bought");
  }
  if (subscription(user_id).billed_by_processor) {
    return sdk::Outcome::failure(sdk::Status::conflict, "you already pay for a plan: change it in the payment portal");
  }
  const auto customer = ensure_customer(user_id);
  if (!customer) return sdk::Outcome::failure(sdk::Status::unavailable, "the payment processor is not available");
  const std::string back = config_.public_url + "/#/settings/subscription";
  const sdk::CheckoutRequest request{user_id, *customer, plan, back, back, "checkout-" + user_id + "-" + operation_id};
  return host_.call<sdk::PaymentProcessor>(processor_, "create_checkout", [request](sdk::PaymentProcessor& processor) {
    return processor.create_checkout(request);
  });
}

sdk::Result<std::string> Billing::portal_url(const std::string& user_id, const std::string& operation_id) {
  if (!capabilities_.portal) return sdk::Outcome::failure(sdk::Status::unsupported, "there is no payment portal here");
  std::optional<Account> account;
  {
    soci::session sql(database_.pool());
    account = Account::load(sql, user_id);
  }
  if (!account) return sdk::Outcome::failure(sdk::Status::not_found, "you have not paid through the app yet");
  const std::string customer = account->customer_id, back = config_.public_url + "/#/settings/subscription",
                    key = "portal-" + user_id + "-" + operation_id;
  return host_.call<sdk::PaymentProcessor>(processor_, "create_portal_session", [customer, back, key](sdk::PaymentProcessor& processor) {
    return processor.create_portal_session(customer, back, key);
  });
}

sdk::Result<WebhookResult> Billing::receive_webhook(const std::string& plugin, const sdk::WebhookRequest& request) {
  if (!processor_ || processor_->name() != plugin) return sdk::Outcome::failure(sdk::Status::not_found, "no such payment processor");
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(now_()));
  auto parsed = host_.call<sdk::PaymentProcessor>(processor_, "parse_webhook", [&request, now](sdk::PaymentProcessor& processor) {
    return processor.parse_webhook(request, now);
  });
  if (!parsed) return parsed.outcome();
  const sdk::PaymentEvent& event = parsed.value();
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  // The event's id is taken first: on another node at the same moment, the second insert waits
  // for the first transaction and then finds the id there.
  const long long received = now_();
  const std::string type(to_string(event.type));
  soci::statement insert = (sql.prepare << "INSERT INTO payment_events (processor, event_id, type, received_at)"
                                           " VALUES (:p, :e, :t, :r) ON CONFLICT (processor, event_id) DO NOTHING",
                            soci::use(plugin), soci::use(event.id), soci::use(type), soci::use(received));
  insert.execute(true);
  if (insert.get_affected_rows() == 0) return WebhookResult::duplicate;
  if (event.type == sdk::PaymentEventType::ignored) {
    transaction.commit();
    return WebhookResult::ignored;
  }
  // Whose it is: by the ids we keep first, then by the reference we gave the processor.
  std::string user_id;
  if (!event.subscription_id.empty()) {
    sql << "SELECT user_id FROM billing_accounts WHERE subscription_id = :s", soci::use(event.subscription_id), soci::into(user_id);
  }
  if (user_id.empty() && !event.customer_id.empty()) {
    sql << "SELECT user_id FROM billing_accounts WHERE customer_id = :c", soci::use(event.customer_id), soci::into(user_id);
  }
  if (user_id.empty() && !event.user_id.empty()) {
    sql << "SELECT id FROM users WHERE id = :u", soci::use(event.user_id), soci::into(user_id);
  }
  if (user_id.empty()) {
    Log::info("billing", "a payment event about no account here", {{"event", event.id}, {"type", type}});
    transaction.commit();
    return WebhookResult::ignored;
  }
  apply_event(transaction, user_id, event);
  transaction.commit();
  return WebhookResult::applied;
}

void Billing::apply_event(db::WriteTransaction& transaction, const std::string& user_id, const sdk::PaymentEvent& event) {
  auto& sql = transaction.session();
  const long long now = now_();
  const long long occurred = seconds_of(event.occurred_at);
  Account account = Account::load(sql, user_id, database_.dialect().for_update()).value_or(Account{});
  if (account.customer_id.empty()) account.customer_id = event.customer_id;
  // An event older than the newest one applied says nothing new about the state: the processor
  // sent them out of order. It is recorded (above) and otherwise left.
  const bool current = occurred >= account.state_at;
  if (current && !event.subscription_id.empty()) account.subscription_id = event.subscription_id;
  if (current && event.state != sdk::ProcessorState::unknown) {
    account.state = event.state;
    account.state_at = occurred;
    if (!event.plan.empty()) account.plan = event.plan;
    const bool tells_renewal = event.type == sdk::PaymentEventType::checkout_completed ||
                               event.type == sdk::PaymentEventType::subscription_updated ||
                               event.type == sdk::PaymentEventType::subscription_deleted;
    if (tells_renewal) account.cancel_at_period_end = event.cancel_at_period_end ? 1 : 0;
  }
  // A period paid for stays paid for, whichever event says so first.
  if (event.current_period_end && event.state == sdk::ProcessorState::active) {
    account.period_end = std::max<long long>(account.period_end, seconds_of(*event.current_period_end));
  }
  soci::indicator subscription_indicator = account.subscription_id.empty() ? soci::i_null : soci::i_ok;
  soci::indicator plan_indicator = account.plan.empty() ? soci::i_null : soci::i_ok;
  const std::string state(to_string(account.state));
  sql << "INSERT INTO billing_accounts (user_id, customer_id, subscription_id, state, plan, period_end, cancel_at_period_end,"
         " state_at, created_at, updated_at) VALUES (:u, :c, :s, :st, :p, :e, :x, :a, :t, :t2)"
         " ON CONFLICT (user_id) DO UPDATE SET customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,"
         " state = excluded.state, plan = excluded.plan, period_end = excluded.period_end,"
         " cancel_at_period_end = excluded.cancel_at_period_end, state_at = excluded.state_at, updated_at = excluded.updated_at",
      soci::use(user_id), soci::use(account.customer_id), soci::use(account.subscription_id, subscription_indicator),
      soci::use(state), soci::use(account.plan, plan_indicator), soci::use(account.period_end),
      soci::use(account.cancel_at_period_end), soci::use(account.state_at), soci::use(now), soci::use(now);
  if (!current) return;

  // The entitlement, from what the processor says now.
  const auto before = Entitlement::load(sql, user_id, database_.dialect().for_update());
  Entitlement after = before.value_or(Entitlement{});
  switch (event.state) {
    case sdk::ProcessorState::active: {
      std::string plan = account.plan.empty() ? after.plan : account.plan;
      if (!config_.plans.count(plan) || plan == config_.default_plan) {
        // A price the configuration does not map: the first plan that is not the default.
        const auto paid = std::find_if(config_.plans.begin(), config_.plans.end(),
                                       [this](const auto& entry) { return entry.first != config_.default_plan; });
        if (paid == config_.plans.end()) return;
        Log::warn("billing", "a paid subscription's price names no plan; check the payment plugin's prices",
                  {{"event", event.id}, {"plan", paid->first}});
        plan = paid->first;
      }
      after.plan = plan;
      after.period_end = after.in_force() ? std::max(after.period_end, account.period_end) : account.period_end;
      after.status = EntitlementStatus::active;
      after.grace_until.reset();
      // The holder's own latest choice stands against an older event about it.
      if (occurred >= after.auto_renew_changed_at) after.auto_renew = account.cancel_at_period_end ? 0 : 1;
      break;
    }
    case sdk::ProcessorState::past_due:
      if (!after.in_force()) return;
      if (!after.grace_until) after.grace_until = std::max<long long>(after.period_end, occurred) + config_.grace_seconds;
      break;
    case sdk::ProcessorState::ended:
      // What the processor billed ends now; periods staff granted on top of it are still used.
      if (!after.in_force()) return;
      after.status = EntitlementStatus::expired;
      after.period_end = std::min<long long>(after.period_end, now);
      after.auto_renew = 0;
      after.grace_until.reset();
      break;
    case sdk::ProcessorState::incomplete:
    case sdk::ProcessorState::unknown: return;
  }
  advance(after);
  store(transaction, user_id, before, after, Cause::processor);
}

sdk::Outcome BillingParticipant::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  soci::session sql(database_.pool());
  std::string customer;
  sql << "SELECT customer_id FROM billing_accounts WHERE user_id = :u", soci::use(user_id), soci::into(customer);
  if (sql.got_data()) stopped.external_ids["payment_customer_id"] = customer;
  return {};
}

sdk::Outcome BillingParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  std::string plan, status;
  long long period_end = 0, grace_until = 0;
  int auto_renew = 0, prepaid = 0;
  soci::indicator grace_indicator = soci::i_null;
  sql << "SELECT plan, status, current_period_end, auto_renew, prepaid_periods, grace_until FROM subscriptions WHERE user_id = :u",
      soci::use(subject.user_id), soci::into(plan), soci::into(status), soci::into(period_end), soci::into(auto_renew),
      soci::into(prepaid), soci::into(grace_until, grace_indicator);
  if (sql.got_data()) {
    const json::object record{{"plan", plan},
                              {"status", status},
                              {"current_period_end", period_end},
                              {"auto_renew", auto_renew != 0},
                              {"prepaid_periods", prepaid},
                              {"grace_until", grace_indicator == soci::i_ok ? json::value(grace_until) : json::value(nullptr)}};
    if (auto written = sink.record("subscription", json::serialize(record)); !written) return written;
  }
  const auto account = [&]() -> std::optional<json::object> {
    std::string customer, subscription, state;
    soci::indicator subscription_indicator = soci::i_null;
    long long account_period_end = 0;
    int cancel = 0;
    sql << "SELECT customer_id, subscription_id, state, period_end, cancel_at_period_end FROM billing_accounts WHERE user_id = :u",
        soci::use(subject.user_id), soci::into(customer), soci::into(subscription, subscription_indicator), soci::into(state),
        soci::into(account_period_end), soci::into(cancel);
    if (!sql.got_data()) return std::nullopt;
    return json::object{{"payment_customer_id", customer},
                        {"payment_subscription_id", subscription_indicator == soci::i_ok ? json::value(subscription) : nullptr},
                        {"processor_state", state},
                        {"processor_period_end", account_period_end},
                        {"cancel_at_period_end", cancel != 0}};
  }();
  if (account) return sink.record("payment_account", json::serialize(*account));
  return {};
}

sdk::Result<sdk::ErasureReport> BillingParticipant::erase_subject(const sdk::Subject& subject) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  sdk::ErasureReport report;
  report.records_removed = db::delete_rows(sql, "subscriptions", "user_id", subject.user_id) +
                           db::delete_rows(sql, "billing_accounts", "user_id", subject.user_id);
  transaction.commit();
  report.detail = fmt::format("{} subscription records", report.records_removed);
  return report;
}

}  // namespace framehouse::billing
