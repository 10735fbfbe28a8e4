// email_outbox: instead of sending, writes each message as <directory>/<id>.eml, a complete
// RFC 5322 message with CRLF line endings, for deployments without a mail server and for
// development. Next to it, .index/<id>.json records whom the message was for, so that a
// person's messages can be exported and erased without reading every message.
//
// The suppression list is mail_common's (keyed hashes of addresses, never the addresses).
#include <ctime>
#include <filesystem>

#include <boost/json.hpp>
#include <framehouse/sdk/email.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <sodium.h>

#include "mail_common.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using framehouse::sdk::EmailMessage;
using framehouse::sdk::ErasureReport;
using framehouse::sdk::ExportSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using framehouse::sdk::Subject;

using framehouse::mail_common::check_outgoing;
using framehouse::mail_common::for_each_record_of;
using framehouse::mail_common::header_value;
using framehouse::mail_common::read_file;
using framehouse::mail_common::write_file_atomically;

class Outbox final : public framehouse::sdk::Plugin, public framehouse::mail_common::SuppressingProvider {
 public:
  Outcome start(framehouse::sdk::HostServices& host) override {
    if (sodium_init() < 0) return Outcome::failure(Status::internal, "libsodium failed to initialise");
    const std::string configured = host.config().string("directory").value_or("");
    directory_ = configured.empty() ? host.data_directory() / "outbox" : fs::path(configured);
    std::error_code ec;
    fs::create_directories(directory_ / ".index", ec);
    if (ec) return Outcome::failure(Status::unavailable, "cannot create " + directory_.string() + ": " + ec.message());
    return load_suppressions(host.data_directory(), host.secret_key("suppression-list"));
  }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<EmailProvider, PrivacyParticipant>(this, name);
  }

  // --- email ---

  Result<std::string> send(const EmailMessage& message) override {
    if (auto checked = check_outgoing(message, suppressions_); !checked) return checked;
    // The same Message-ID is the same message: the host sends one again when it could not
    // record that the first try went through (a crash in between), and it is written once.
    const auto message_id = header_value(message.rfc5322, "message-id");
    const std::string id = delivery_id(message_id);
    std::error_code exists_error;
    if (!message_id.empty() && fs::exists(directory_ / (id + ".eml"), exists_error)) return id;
    json::object index = delivery_record(id, message);
    index["written_at"] = static_cast<std::int64_t>(std::time(nullptr));
    if (auto written = write_file_atomically(directory_ / (id + ".eml"), message.rfc5322); !written) return written;
    if (auto written = write_file_atomically(directory_ / ".index" / (id + ".json"), json::serialize(index)); !written) {
      fs::remove(directory_ / (id + ".eml"));
      return written;
    }
    return id;
  }

  // --- privacy ---

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    Outcome failure;
    for_each_record_of(directory_ / ".index", subject, [&](const fs::path& record, const json::object& index) {
      const std::string id = record.stem().string();
      if (failure = sink.record("messages", json::serialize(index)); !failure) return false;
      framehouse::sdk::BufferSource source(read_file(directory_ / (id + ".eml")));
      failure = sink.file("messages/" + id + ".eml", "message/rfc822", source);
      return static_cast<bool>(failure);
    });
    // Suppression entries are not exported: they are one-way hashes that identify no one on
    // their own, and the core exports the person's opt-out history itself.
    return failure;
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    ErasureReport report;
    Outcome failure;
    for_each_record_of(directory_ / ".index", subject, [&](const fs::path& record, const json::object&) {
      const std::string id = record.stem().string();
      std::error_code ec;
      fs::remove(directory_ / (id + ".eml"), ec);
      if (!ec) fs::remove(directory_ / ".index" / (id + ".json"), ec);
      if (ec) {
        failure = Outcome::failure(Status::unavailable, "cannot remove a message: " + ec.message());
        return false;
      }
      ++report.files_removed;
      return true;
    });
    if (!failure) return failure;
    // What survives is only "never mail this address"; the person's category choices went
    // with their account.
    auto erased = erase_suppressions(subject);
    if (!erased) return erased.outcome();
    const std::uint64_t entries = erased.value();
    report.records_removed = entries;
    report.detail = std::to_string(report.files_removed) + " messages and " + std::to_string(entries) + " suppression choices deleted";
    return report;
  }

 private:
  fs::path directory_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(Outbox)
