// Example Framehouse plugin: an email provider that keeps messages in memory instead of
// delivering them. It shows the email contract — the host builds the whole message, the
// provider delivers it (here: keeps it) and keeps its own suppression list — and, because it
// holds addresses and message text, the privacy participant over both.
#pragma once

#include <deque>
#include <mutex>
#include <set>
#include <string>

#include <framehouse/sdk/email.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>

namespace memory_email_example {

using namespace framehouse::sdk;

class MemoryEmail : public Plugin, public EmailProvider, public PrivacyParticipant {
 public:
  Outcome start(HostServices& host) override {
    max_messages_ = static_cast<std::size_t>(host.config().integer("max_messages").value_or(1000));
    // Counts only: never an address or a subject line in the log.
    host.logger().info("memory email ready");
    return {};
  }

  void* find_interface(std::string_view name) override { return provide_interfaces<EmailProvider, PrivacyParticipant>(this, name); }

  Result<std::string> send(const EmailMessage& message) override {
    std::lock_guard lock(mutex_);
    for (const auto& recipient : message.recipients) {
      if (suppressed_.count(recipient)) return Outcome::failure(Status::conflict, "a recipient is suppressed");
    }
    if (messages_.size() >= max_messages_) messages_.pop_front();
    messages_.push_back({"kept-" + std::to_string(++sent_), message.subject_user_id, message.recipients, message.rfc5322});
    return messages_.back().id;
  }

  Outcome suppress(std::string_view address, std::string_view) override {
    std::lock_guard lock(mutex_);
    suppressed_.emplace(address);
    return {};
  }

  Result<bool> is_suppressed(std::string_view address) override {
    std::lock_guard lock(mutex_);
    return suppressed_.count(std::string(address)) > 0;
  }

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    std::lock_guard lock(mutex_);
    for (const auto& message : messages_) {
      if (!about(message, subject)) continue;
      // The message itself is the person's data: its text, as sent.
      BufferSource text(message.rfc5322);
      if (auto written = sink.file(message.id + ".eml", "message/rfc822", text); !written) return written;
    }
    for (const auto& address : subject.email_addresses) {
      if (!suppressed_.count(address)) continue;
      if (auto written = sink.record("suppressions", "{\"address\":\"" + address + "\"}"); !written) return written;
    }
    return {};
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    std::lock_guard lock(mutex_);
    ErasureReport report;
    for (auto it = messages_.begin(); it != messages_.end();) {
      if (about(*it, subject)) {
        it = messages_.erase(it);
        ++report.records_removed;
      } else {
        ++it;
      }
    }
    for (const auto& address : subject.email_addresses) report.records_removed += suppressed_.erase(address);
    report.detail = std::to_string(report.records_removed) + " messages and suppressions deleted";
    return report;
  }

  // Kept messages are a record of what was sent: a new address changes none of them.
  Outcome rectify(const Subject&, const Rectification&) override { return {}; }
  // The server decides who may be mailed in which category; a provider suppresses only what
  // must never be mailed again (bounces, complaints), so an opt-out changes nothing here.
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
#if FRAMEHOUSE_SINCE(PRIVACY, 1)  // built for a privacy 1.0 host, the plugin has no such method
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }
#endif

 private:
  struct Kept {
    std::string id;
    std::string user_id;
    std::vector<std::string> recipients;
    std::string rfc5322;
  };
  static bool about(const Kept& message, const Subject& subject) {
    if (!subject.user_id.empty() && message.user_id == subject.user_id) return true;
    for (const auto& recipient : message.recipients) {
      for (const auto& address : subject.email_addresses) {
        if (recipient == address) return true;
      }
    }
    return false;
  }

  std::size_t max_messages_ = 1000;
  std::mutex mutex_;
  std::deque<Kept> messages_;
  std::set<std::string> suppressed_;
  std::uint64_t sent_ = 0;
};

}  // namespace memory_email_example
