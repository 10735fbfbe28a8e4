// email_smtp: delivers each message to the deployment's SMTP relay with libcurl.
//
// TLS is never optional: smtp:// URLs require STARTTLS (CURLUSESSL_ALL — a relay that does not
// offer it is refused, never written to in the clear), smtps:// is TLS from the first byte, and
// the relay's certificate is always verified (against ca_file when given). Connections are kept
// open between messages (one per concurrent call, in a small pool of libcurl handles).
//
// What the relay answers decides what the host does with the message (mail/delivery.cpp):
//   * 4xx, timeouts, refused connections, TLS or login problems: Status::unavailable — the
//     host's outbox retries with backoff (a relay down for a while loses nothing);
//   * 5xx to RCPT (no such mailbox, …): Status::not_found — the message fails for good and the
//     recipient goes on the suppression list, never to be mailed again;
//   * 5xx to the message itself (after DATA): Status::invalid_argument — it fails for good; the
//     recipient is not blamed.
// Nothing that identifies a recipient is logged or put in an error: libcurl's messages name
// the SMTP reply code only.
//
// Kept here, for the privacy participant: a delivery record per message (id, the person's id,
// category, recipients, when, the relay's reply) — what makes a repeat of the same message
// (the host resends when it could not record the first answer) a no-op — and the suppression
// list of mail_common (keyed hashes only).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/json.hpp>
#include <curl/curl.h>
#include <framehouse/sdk/email.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <sodium.h>

#include "mail_common.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using framehouse::mail_common::check_outgoing;
using framehouse::mail_common::for_each_record_of;
using framehouse::mail_common::plausible_address;
using framehouse::mail_common::read_file;
using framehouse::mail_common::write_file_atomically;
using framehouse::sdk::EmailMessage;
using framehouse::sdk::ErasureReport;
using framehouse::sdk::ExportSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using framehouse::sdk::Subject;

using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

// The message as libcurl reads it (it dot-stuffs lines that start with "." itself).
struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::copy_n(upload->data.data() + upload->offset, n, buffer);
  upload->offset += n;
  return n;
}

class Smtp final : public framehouse::sdk::Plugin, public framehouse::mail_common::SuppressingProvider {
 public:
  ~Smtp() override {
    handles_.clear();
    if (curl_started_) curl_global_cleanup();
  }

  Outcome start(framehouse::sdk::HostServices& host) override {
    if (sodium_init() < 0) return Outcome::failure(Status::internal, "libsodium failed to initialise");
    const auto& config = host.config();
    url_ = config.string("url").value_or("");
    if (url_.rfind("smtp://", 0) != 0 && url_.rfind("smtps://", 0) != 0) {
      return Outcome::failure(Status::invalid_argument, "url must be smtp://host:587 (STARTTLS) or smtps://host:465");
    }
    if (const std::string helo = config.string("helo_name").value_or(""); !helo.empty()) {
      while (!url_.empty() && url_.back() == '/') url_.pop_back();
      url_ += "/" + helo;  // libcurl sends the URL's path as the EHLO name
    }
    username_ = config.string("username").value_or("");
    password_ = config.string("password").value_or("");
    ca_file_ = config.string("ca_file").value_or("");
    timeout_ms_ = config.integer("timeout_ms").value_or(30'000);
    connect_timeout_ms_ = config.integer("connect_timeout_ms").value_or(10'000);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Outcome::failure(Status::internal, "libcurl failed to start");
    curl_started_ = true;
    deliveries_ = host.data_directory() / "deliveries";
    std::error_code ec;
    fs::create_directories(deliveries_, ec);
    if (ec) return Outcome::failure(Status::unavailable, "cannot create " + deliveries_.string() + ": " + ec.message());
    return load_suppressions(host.data_directory(), host.secret_key("suppression-list"));
  }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<EmailProvider, PrivacyParticipant>(this, name);
  }

  // --- email ---

  Result<std::string> send(const EmailMessage& message) override {
    if (auto checked = check_outgoing(message, suppressions_); !checked) return checked;
    if (!plausible_address(message.envelope_from)) return Outcome::failure(Status::invalid_argument, "the sender is malformed");
    // The host's id is the same on every retry of one message: one that went out already is
    // not sent twice.
    const std::string id = delivery_id(message.message_id);
    std::error_code exists_error;
    if (!message.message_id.empty() && fs::exists(record_path(id), exists_error)) return id;

    Handle handle = take_handle();
    if (!handle) return Outcome::failure(Status::internal, "libcurl could not make a handle");
    long reply = 0;  // the relay's last SMTP reply code
    const auto sent = deliver(handle.get(), message, reply);
    give_back(std::move(handle));
    if (!sent.ok()) {
      if (sent.status() == Status::not_found) {
        // The recipient's server said no for good: never again, and why.
        for (const auto& recipient : message.recipients) (void)suppressions_.suppress_everything(recipient);
      }
      return sent;
    }
    json::object record = delivery_record(id, message);
    record["relay_reply"] = static_cast<std::int64_t>(reply);
    record["sent_at"] = static_cast<std::int64_t>(std::time(nullptr));
    // The message went; if the record cannot be written, a repeat would send it again, which
    // is the lesser harm than reporting a failure for a message that was delivered.
    (void)write_file_atomically(record_path(id), json::serialize(record));
    return id;
  }

  // --- privacy ---

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    Outcome failure;
    for_each_record_of(deliveries_, subject, [&](const fs::path&, const json::object& record) {
      failure = sink.record("deliveries", json::serialize(record));
      return static_cast<bool>(failure);
    });
    return failure;
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    ErasureReport report;
    Outcome failure;
    for_each_record_of(deliveries_, subject, [&](const fs::path& path, const json::object&) {
      std::error_code ec;
      fs::remove(path, ec);
      if (ec) {
        failure = Outcome::failure(Status::unavailable, "cannot remove a delivery record: " + ec.message());
        return false;
      }
      ++report.records_removed;
      return true;
    });
    if (!failure) return failure;
    auto erased = erase_suppressions(subject);
    if (!erased) return erased.outcome();
    report.records_removed += erased.value();
    report.detail = std::to_string(report.records_removed) + " delivery records and suppression choices deleted";
    return report;
  }

 private:
  fs::path record_path(const std::string& id) const { return deliveries_ / (id + ".json"); }

  Handle take_handle() {
    {
      std::lock_guard lock(mutex_);
      if (!handles_.empty()) {
        Handle handle = std::move(handles_.back());
        handles_.pop_back();
        return handle;
      }
    }
    return Handle(curl_easy_init(), &curl_easy_cleanup);
  }

  // Back to the pool with its open connection, for the next message.
  void give_back(Handle handle) {
    std::lock_guard lock(mutex_);
    handles_.push_back(std::move(handle));
  }

  Outcome deliver(CURL* curl, const EmailMessage& message, long& reply) {
    curl_easy_reset(curl);  // the options go; the open connection stays
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
    if (!username_.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, username_.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, password_.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms_));
    const std::string from = "<" + message.envelope_from + ">";
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> recipients(nullptr, &curl_slist_free_all);
    for (const auto& recipient : message.recipients) {
      recipients.reset(curl_slist_append(recipients.release(), ("<" + recipient + ">").c_str()));
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
    Upload upload{message.rfc5322};
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    const CURLcode code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
    if (code == CURLE_OK) return {};
    const std::string what = std::string(curl_easy_strerror(code)) + (error[0] != '\0' ? std::string(": ") + error : "");
    const bool permanent = reply >= 500 && reply < 600;
    if (permanent && std::string_view(error).rfind("RCPT failed", 0) == 0) {
      return Outcome::failure(Status::not_found, "the recipient's server refused it for good (" + std::to_string(reply) + ")");
    }
    if (permanent && code != CURLE_LOGIN_DENIED && std::string_view(error).rfind("MAIL failed", 0) != 0) {
      return Outcome::failure(Status::invalid_argument, "the relay refused the message for good: " + what);
    }
    switch (code) {
      case CURLE_USE_SSL_FAILED:
        return Outcome::failure(Status::unavailable, "the relay does not offer STARTTLS; mail is never sent in the clear");
      case CURLE_PEER_FAILED_VERIFICATION:
        return Outcome::failure(Status::unavailable, "the relay's certificate is not trusted (see ca_file): " + what);
      case CURLE_LOGIN_DENIED: return Outcome::failure(Status::unavailable, "the relay refused the username or password");
      default: return Outcome::failure(Status::unavailable, "the relay did not take the message: " + what);
    }
  }

  std::string url_, username_, password_, ca_file_;
  std::int64_t timeout_ms_ = 30'000, connect_timeout_ms_ = 10'000;
  bool curl_started_ = false;
  fs::path deliveries_;
  std::mutex mutex_;
  std::vector<Handle> handles_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(Smtp)
