// email_outbox: instead of sending, writes each message as <directory>/<id>.eml, a complete
// RFC 5322 message with CRLF line endings, for deployments without a mail server and for
// development. Next to it, .index/<id>.json records whom the message was for, so that a
// person's messages can be exported and erased without reading every message.
//
// The suppression list holds no addresses: only keyed hashes of normalised addresses, with
// the categories suppressed. The outer key is the host's (HostServices::secret_key, kept in
// the server's database), so whoever can read this plugin's directory cannot check whether an
// address is on the list. The rule (docs/privacy-choices.md):
//   * an opt-out of a mail category ("product_updates", "marketing") suppresses that category;
//   * the verified owner turning the category back on lifts it (lift_opt_out);
//   * erasure removes the person's messages and every category entry, and keeps only a
//     "never mail this address" entry (suppress(): a hard bounce, a complaint, a request to
//     receive nothing), which is all that stops the address from being mailed again.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <framehouse/sdk/email.hpp>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <sodium.h>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using framehouse::sdk::EmailMessage;
using framehouse::sdk::ErasureReport;
using framehouse::sdk::ExportSink;
using framehouse::sdk::Outcome;
using framehouse::sdk::Rectification;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using framehouse::sdk::Subject;

constexpr std::string_view kEverything = "*";
// The categories of mail a person can opt out of; other opt-outs (training use, sale/sharing)
// are not about mail and leave nothing here.
bool mail_category(std::string_view category) { return category == "product_updates" || category == "marketing"; }
constexpr int kSuppressionFormat = 2;

std::string normalise(std::string_view address) {
  std::string out;
  for (char c : address) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool plausible_address(std::string_view address) {
  const auto at = address.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() && address.size() <= 254 &&
         address.find_first_of(" \r\n<>,;") == std::string_view::npos;
}

std::string random_id() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

// The value of the first header field called `name` (lower case), unfolded lines aside; "" if
// there is none.
std::string header_value(std::string_view message, std::string_view name) {
  const auto end_of_headers = message.find("\r\n\r\n");
  std::size_t line_start = 0;
  while (line_start < end_of_headers) {
    const auto line_end = message.find("\r\n", line_start);
    const std::string_view line = message.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    if (colon == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < colon && same; ++i) same = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
      if (same) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
      }
    }
    line_start = line_end + 2;
  }
  return "";
}

// RFC 5322: header fields, an empty line, a body; CRLF everywhere; lines of at most 998
// characters; a From and a Date field.
Outcome check_rfc5322(std::string_view message) {
  const auto end_of_headers = message.find("\r\n\r\n");
  if (end_of_headers == std::string_view::npos) {
    return Outcome::failure(Status::invalid_argument, "message has no empty line after its header fields");
  }
  std::size_t line_start = 0;
  while (line_start < message.size()) {
    auto line_end = message.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = message.size();
    else if (line_end == 0 || message[line_end - 1] != '\r') {
      return Outcome::failure(Status::invalid_argument, "message has a bare LF: lines must end in CRLF");
    }
    if (line_end - line_start > 1000) return Outcome::failure(Status::invalid_argument, "message has a line over 998 characters");
    line_start = line_end + 1;
  }
  bool has_from = false;
  bool has_date = false;
  std::istringstream headers(std::string(message.substr(0, end_of_headers)));
  for (std::string line; std::getline(headers, line);) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Outcome::failure(Status::invalid_argument, "message has a malformed header field");
    }
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    has_from = has_from || name == "from";
    has_date = has_date || name == "date";
  }
  if (!has_from || !has_date) return Outcome::failure(Status::invalid_argument, "message lacks a From or Date field");
  return {};
}

Outcome write_file_atomically(const fs::path& path, std::string_view contents) {
  const fs::path temp = path.parent_path() / (".tmp-" + random_id());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Outcome::failure(Status::unavailable, "cannot create " + temp.string());
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == contents.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Outcome::failure(Status::unavailable, "cannot write " + path.string());
  }
  return {};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class Outbox final : public framehouse::sdk::Plugin,
                     public framehouse::sdk::EmailProvider,
                     public framehouse::sdk::PrivacyParticipant {
 public:
  Outcome start(framehouse::sdk::HostServices& host) override {
    if (sodium_init() < 0) return Outcome::failure(Status::internal, "libsodium failed to initialise");
    const std::string configured = host.config().string("directory").value_or("");
    directory_ = configured.empty() ? host.data_directory() / "outbox" : fs::path(configured);
    std::error_code ec;
    fs::create_directories(directory_ / ".index", ec);
    if (ec) return Outcome::failure(Status::unavailable, "cannot create " + directory_.string() + ": " + ec.message());
    suppression_file_ = host.data_directory() / "suppressions.json";
    const std::string host_key = host.secret_key("suppression-list");
    host_key_.assign(host_key.begin(), host_key.end());
    if (auto loaded = load_suppression_state(host.data_directory() / "suppression.key"); !loaded) return loaded;
    return {};
  }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<EmailProvider, PrivacyParticipant>(this, name);
  }

  // --- email ---

  Result<std::string> send(const EmailMessage& message) override {
    if (message.recipients.empty()) return Outcome::failure(Status::invalid_argument, "message has no recipient");
    for (const auto& recipient : message.recipients) {
      if (!plausible_address(recipient)) return Outcome::failure(Status::invalid_argument, "a recipient address is malformed");
    }
    if (auto valid = check_rfc5322(message.rfc5322); !valid) return valid;
    {
      std::lock_guard lock(mutex_);
      for (const auto& recipient : message.recipients) {
        if (suppressed_locked(recipient, message.category)) {
          return Outcome::failure(Status::conflict, "a recipient is on the suppression list");
        }
      }
    }
    // The same Message-ID is the same message: the host sends one again when it could not
    // record that the first try went through (a crash in between), and it is written once.
    const auto message_id = header_value(message.rfc5322, "message-id");
    const std::string id = message_id.empty() ? random_id() : keyed_hex(message_id, install_key_).substr(0, 32);
    std::error_code exists_error;
    if (!message_id.empty() && fs::exists(directory_ / (id + ".eml"), exists_error)) return id;
    json::array recipients;
    for (const auto& recipient : message.recipients) recipients.emplace_back(normalise(recipient));
    const json::object index{{"id", id},
                             {"subject_user_id", message.subject_user_id},
                             {"category", message.category},
                             {"recipients", recipients},
                             {"written_at", static_cast<std::int64_t>(std::time(nullptr))}};
    if (auto written = write_file_atomically(directory_ / (id + ".eml"), message.rfc5322); !written) return written;
    if (auto written = write_file_atomically(directory_ / ".index" / (id + ".json"), json::serialize(index)); !written) {
      fs::remove(directory_ / (id + ".eml"));
      return written;
    }
    return id;
  }

  Outcome suppress(std::string_view address, std::string_view) override {
    std::lock_guard lock(mutex_);
    suppressions_[address_hash(address)].insert(std::string(kEverything));
    return save_suppressions_locked();
  }

  Result<bool> is_suppressed(std::string_view address) override {
    std::lock_guard lock(mutex_);
    const auto it = suppressions_.find(address_hash(address));
    return it != suppressions_.end() && it->second.count(std::string(kEverything)) > 0;
  }

  // --- privacy ---

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    Outcome failure;
    for_each_message_of(subject, [&](const std::string& id, const json::object& index) {
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
    for_each_message_of(subject, [&](const std::string& id, const json::object&) {
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
    std::uint64_t entries = 0;
    {
      std::lock_guard lock(mutex_);
      for (const auto& address : subject.email_addresses) {
        const auto it = suppressions_.find(address_hash(address));
        if (it == suppressions_.end()) continue;
        const bool never_mail = it->second.count(std::string(kEverything)) > 0;
        if (never_mail && it->second.size() == 1) continue;
        ++entries;
        if (never_mail) it->second = {std::string(kEverything)};
        else suppressions_.erase(it);
      }
      if (entries > 0) {
        if (auto saved = save_suppressions_locked(); !saved) return saved;
      }
    }
    report.records_removed = entries;
    report.detail = std::to_string(report.files_removed) + " messages and " + std::to_string(entries) + " suppression choices deleted";
    return report;
  }

  // Messages already written are a record of what was sent; they are not rewritten.
  Outcome rectify(const Subject&, const Rectification&) override { return {}; }

  Outcome apply_opt_out(const Subject& subject, std::string_view category) override {
    if (!mail_category(category)) return {};
    std::lock_guard lock(mutex_);
    for (const auto& address : subject.email_addresses) suppressions_[address_hash(address)].insert(std::string(category));
    return save_suppressions_locked();
  }

  Outcome lift_opt_out(const Subject& subject, std::string_view category) override {
    if (!mail_category(category)) return {};
    std::lock_guard lock(mutex_);
    bool changed = false;
    for (const auto& address : subject.email_addresses) {
      const auto it = suppressions_.find(address_hash(address));
      if (it == suppressions_.end() || it->second.erase(std::string(category)) == 0) continue;
      changed = true;
      if (it->second.empty()) suppressions_.erase(it);
    }
    return changed ? save_suppressions_locked() : Outcome{};
  }

 private:
  template <class Fn>
  void for_each_message_of(const Subject& subject, Fn&& fn) {
    std::set<std::string> addresses;
    for (const auto& address : subject.email_addresses) addresses.insert(normalise(address));
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(directory_ / ".index", ec)) {
      if (entry.path().extension() != ".json") continue;
      boost::system::error_code parse_error;
      const json::value index = json::parse(read_file(entry.path()), parse_error);
      if (parse_error || !index.is_object()) continue;
      const auto& object = index.as_object();
      bool theirs = !subject.user_id.empty() && object.contains("subject_user_id") &&
                    object.at("subject_user_id").as_string() == subject.user_id;
      if (!theirs && object.contains("recipients")) {
        for (const auto& recipient : object.at("recipients").as_array()) {
          theirs = theirs || addresses.count(std::string(recipient.as_string())) > 0;
        }
      }
      if (theirs && !fn(entry.path().stem().string(), object)) return;
    }
  }

  static std::string keyed_hex(std::string_view text, const std::vector<unsigned char>& key) {
    unsigned char hash[crypto_generichash_BYTES];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()), text.size(), key.data(),
                       key.size());
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return hex;
  }

  // The install key's hash (what lists of format 1 held), keyed again with the host's key.
  std::string address_hash(std::string_view address) const {
    return keyed_hex(keyed_hex(normalise(address), install_key_), host_key_);
  }

  bool suppressed_locked(std::string_view address, std::string_view category) const {
    const auto it = suppressions_.find(address_hash(address));
    if (it == suppressions_.end()) return false;
    if (it->second.count(std::string(kEverything)) > 0) return true;
    return category != "account" && it->second.count(std::string(category)) > 0;
  }

  Outcome save_suppressions_locked() {
    json::object entries;
    for (const auto& [hash, categories] : suppressions_) {
      json::array list;
      for (const auto& c : categories) list.emplace_back(c);
      entries[hash] = list;
    }
    return write_file_atomically(suppression_file_,
                                 json::serialize(json::object{{"format", kSuppressionFormat}, {"entries", entries}}));
  }

  Outcome load_suppression_state(const fs::path& key_file) {
    std::string key = read_file(key_file);
    if (key.size() != crypto_generichash_KEYBYTES) {
      key.resize(crypto_generichash_KEYBYTES);
      randombytes_buf(key.data(), key.size());
      if (auto written = write_file_atomically(key_file, key); !written) return written;
    }
    install_key_.assign(key.begin(), key.end());
    boost::system::error_code ec;
    const json::value state = json::parse(read_file(suppression_file_), ec);
    if (ec || !state.is_object()) return {};
    // Format 1 (a bare object of install-key hashes) is re-keyed with the host's key once.
    const auto* format = state.as_object().if_contains("format");
    const bool legacy = format == nullptr;
    const auto* entries = legacy ? &state : state.as_object().if_contains("entries");
    if (entries == nullptr || !entries->is_object()) return {};
    for (const auto& [hash, categories] : entries->as_object()) {
      if (!categories.is_array()) continue;
      const std::string key_of_entry = legacy ? keyed_hex(std::string(hash), host_key_) : std::string(hash);
      for (const auto& category : categories.as_array()) {
        if (category.is_string()) suppressions_[key_of_entry].insert(std::string(category.as_string()));
      }
    }
    if (legacy) {
      std::lock_guard lock(mutex_);
      return save_suppressions_locked();
    }
    return {};
  }

  fs::path directory_;
  fs::path suppression_file_;
  std::vector<unsigned char> install_key_;
  std::vector<unsigned char> host_key_;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> suppressions_;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(Outbox)
