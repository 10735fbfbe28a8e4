#include "mail/delivery.hpp"

#include <boost/json.hpp>

#include "framehouse/sdk/email.hpp"
#include "observability/log.hpp"

namespace framehouse::mail {
namespace {

// A provider's message may quote the recipient (an SMTP reply often does); the outbox keeps
// reasons for operators, who need the status, not the address.
std::string without_address(std::string reason, const std::string& address) {
  if (address.empty()) return reason;
  for (auto at = reason.find(address); at != std::string::npos; at = reason.find(address, at)) {
    reason.replace(at, address.size(), "<recipient>");
  }
  return reason;
}

bool permanent(sdk::Status status) {
  switch (status) {
    case sdk::Status::invalid_argument:  // the message itself is refused
    case sdk::Status::not_found:         // no such recipient
    case sdk::Status::conflict:          // the recipient is suppressed
    case sdk::Status::unsupported:
      return true;
    default:
      return false;  // down, timing out, overloaded, refusing our credentials until fixed
  }
}

}  // namespace

Delivery::Delivery(db::Database& database, jobs::JobQueue& outbox, plugins::PluginHost& host,
                   std::shared_ptr<plugins::LoadedPlugin> provider, DeliveryConfig config)
    : host_(host),
      provider_(std::move(provider)),
      config_(config),
      runner_(outbox, database, [this](const jobs::Job& job, std::stop_token) { return deliver(job); }) {}

void Delivery::start() {
  if (provider_) runner_.start(config_.workers);
}

void Delivery::stop() { runner_.stop(); }

jobs::JobResult Delivery::deliver(const jobs::Job& job) {
  const auto payload = boost::json::parse(job.payload).as_object();
  sdk::EmailMessage email;
  email.envelope_from = std::string(payload.at("envelope_from").as_string());
  for (const auto& recipient : payload.at("recipients").as_array()) email.recipients.emplace_back(recipient.as_string());
  email.category = std::string(payload.at("category").as_string());
  email.subject_user_id = job.subject_id;
  email.rfc5322 = std::string(payload.at("rfc5322").as_string());
  email.message_id = job.id;  // also its Message-ID
  const std::string recipient = email.recipients.empty() ? "" : email.recipients.front();
  const bool to_erased_person = payload.contains("to_erased_person") && payload.at("to_erased_person").as_bool();
  auto sent = host_.call<sdk::EmailProvider>(provider_, "send", [email = std::move(email)](sdk::EmailProvider& provider) {
    return provider.send(email);
  });
  if (sent) {
    observability::Log::info("mail", "message handed to the email plugin",
                             {{"category", std::string(payload.at("category").as_string())}, {"outbox_id", job.id},
                              {"provider_id", sent.value()}});
    auto result = jobs::JobResult::finished();
    result.flush_log = to_erased_person;
    return result;
  }
  const std::string reason =
      std::string(sdk::to_string(sent.outcome().status())) + ": " + without_address(sent.outcome().message(), recipient);
  auto result = permanent(sent.outcome().status()) ? jobs::JobResult::failed_for_good(reason) : jobs::JobResult::retry_later(reason);
  result.flush_log = to_erased_person;
  return result;
}

}  // namespace framehouse::mail
