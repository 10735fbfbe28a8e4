// payment_manual: the payment processor for deployments that bill outside the app. It keeps,
// per paying user, a customer record (id, address, name) and whether auto-renew is on, in one
// JSON file under its data directory, written atomically. Payments themselves are recorded by
// admins in the core (granted periods); no card data exists anywhere.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <boost/json.hpp>
#include <framehouse/sdk/payment.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace framehouse::sdk;

class ManualPayments final : public Plugin, public PaymentProcessor, public PrivacyParticipant {
 public:
  Outcome start(HostServices& host) override {
    file_ = host.data_directory() / "customers.json";
    contact_ = host.config().string("billing_contact").value_or("your administrator");
    clock_ = &host.clock();
    lock_file_ = host.data_directory() / "customers.lock";
    Locked locked(*this);
    return locked.outcome;
  }

  void* find_interface(std::string_view name) override {
    return provide_interfaces<PaymentProcessor, PrivacyParticipant>(this, name);
  }

  Result<std::string> create_customer(const CustomerDetails& customer, std::string_view) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    const std::string id = "manual_" + customer.user_id;  // idempotent by construction
    auto& customers = section("customers");
    customers[id] = json::object{{"user_id", customer.user_id}, {"email", customer.email}, {"name", customer.name},
                                 {"created_at", now()}};
    if (auto saved = save(); !saved) return saved;
    return id;
  }

  Result<CheckoutSession> create_checkout(const CheckoutRequest&) override {
    return Outcome::failure(Status::unsupported, "payments are arranged outside the app; contact " + contact_);
  }

  Result<std::string> create_portal_session(std::string_view, std::string_view, std::string_view) override {
    return Outcome::failure(Status::unsupported, "payments are arranged outside the app; contact " + contact_);
  }

  // A bookkeeping processor: plans are granted by staff, nothing is paid in the app.
  PaymentCapabilities capabilities() const override { return {}; }

  Outcome set_auto_renew(std::string_view subscription_id, bool enabled, std::string_view) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    section("auto_renew")[subscription_id] = enabled;
    return save();
  }

  Outcome cancel_subscription(std::string_view subscription_id, std::string_view) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    section("auto_renew").erase(subscription_id);
    return save();
  }

  Result<PaymentEvent> parse_webhook(const WebhookRequest&, std::chrono::system_clock::time_point) override {
    return Outcome::failure(Status::unsupported, "manual payments send no webhooks");
  }

  Outcome delete_customer(std::string_view customer_id) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    section("customers").erase(customer_id);
    return save();
  }

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    for (const auto& [id, record] : section("customers")) {
      if (record.as_object().at("user_id").as_string() != subject.user_id) continue;
      json::object exported = record.as_object();
      exported["customer_id"] = id;
      if (auto written = sink.record("customers", json::serialize(exported)); !written) return written;
    }
    const std::string subscription = "sub_" + subject.user_id;
    if (const auto* flag = section("auto_renew").if_contains(subscription)) {
      return sink.record("auto_renew", json::serialize(json::object{{"subscription_id", subscription}, {"auto_renew", *flag}}));
    }
    return {};
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    ErasureReport report;
    auto& customers = section("customers");
    for (auto it = customers.begin(); it != customers.end();) {
      if (it->value().as_object().at("user_id").as_string() == subject.user_id) {
        it = customers.erase(it);
        ++report.records_removed;
      } else {
        ++it;
      }
    }
    report.records_removed += section("auto_renew").erase("sub_" + subject.user_id);
    if (auto saved = save(); !saved) return saved;
    report.detail = std::to_string(report.records_removed) + " payment records deleted";
    return report;
  }

  Outcome rectify(const Subject& subject, const Rectification& change) override {
    if (change.field != "email" && change.field != "name") return {};
    Locked locked(*this);
    if (!locked.outcome) return locked.outcome;
    for (auto& [id, record] : section("customers")) {
      auto& object = record.as_object();
      if (object.at("user_id").as_string() == subject.user_id) object[change.field] = change.new_value;
    }
    return save();
  }

  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  // Holds the in-process mutex and an flock on the lock file (the command line may write while
  // the server runs), and reads the file afresh: every change is read, modify, write.
  struct Locked {
    explicit Locked(ManualPayments& self) : guard(self.mutex_) {
      fd = ::open(self.lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
        outcome = Outcome::failure(Status::unavailable, "cannot lock customers.lock");
        return;
      }
      outcome = self.reload();
    }
    ~Locked() {
      if (fd >= 0) ::close(fd);  // closing releases the flock
    }
    std::lock_guard<std::mutex> guard;
    int fd = -1;
    Outcome outcome;
  };

  Outcome reload() {
    std::ifstream in(file_);
    if (!in) {
      state_ = {};
      return {};
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto parsed = json::parse(text.str(), ec);
    if (ec || !parsed.is_object()) return Outcome::failure(Status::internal, "customers.json is damaged");
    state_ = std::move(parsed.as_object());
    return {};
  }

  json::object& section(std::string_view name) {
    auto& value = state_[name];
    if (!value.is_object()) value = json::object{};
    return value.as_object();
  }

  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_->now().time_since_epoch()).count();
  }

  Outcome save() {
    const fs::path temp = file_.string() + ".tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << json::serialize(state_);
      out.flush();
      if (!out) return Outcome::failure(Status::unavailable, "cannot write customers.json");
    }
    std::error_code ec;
    fs::rename(temp, file_, ec);
    if (ec) return Outcome::failure(Status::unavailable, "cannot replace customers.json: " + ec.message());
    fs::permissions(file_, fs::perms::owner_read | fs::perms::owner_write, ec);
    return {};
  }

  fs::path file_;
  fs::path lock_file_;
  std::string contact_;
  const Clock* clock_ = nullptr;
  std::mutex mutex_;
  json::object state_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(ManualPayments)
