#include "mail_common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <sodium.h>

namespace framehouse::mail_common {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using sdk::Outcome;
using sdk::Status;

constexpr std::string_view kEverything = "*";
constexpr int kSuppressionFormat = 2;

}  // namespace

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

std::string keyed_hex(std::string_view text, const std::vector<unsigned char>& key) {
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()), text.size(), key.data(), key.size());
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

void for_each_record_of(const fs::path& folder, const sdk::Subject& subject,
                        const std::function<bool(const fs::path&, const json::object&)>& visit) {
  std::set<std::string> addresses;
  for (const auto& address : subject.email_addresses) addresses.insert(normalise(address));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".json") continue;
    boost::system::error_code parse_error;
    const json::value record = json::parse(read_file(entry.path()), parse_error);
    if (parse_error || !record.is_object()) continue;
    const auto& object = record.as_object();
    const auto* owner = object.if_contains("subject_user_id");
    bool theirs = !subject.user_id.empty() && owner != nullptr && owner->is_string() && owner->as_string() == subject.user_id;
    if (const auto* recipients = object.if_contains("recipients"); !theirs && recipients != nullptr && recipients->is_array()) {
      for (const auto& recipient : recipients->as_array()) {
        theirs = theirs || (recipient.is_string() && addresses.count(std::string(recipient.as_string())) > 0);
      }
    }
    if (theirs && !visit(entry.path(), object)) return;
  }
}

Outcome check_outgoing(const sdk::EmailMessage& message, const SuppressionList& suppressions) {
  if (message.recipients.empty()) return Outcome::failure(Status::invalid_argument, "message has no recipient");
  for (const auto& recipient : message.recipients) {
    if (!plausible_address(recipient)) return Outcome::failure(Status::invalid_argument, "a recipient address is malformed");
  }
  if (auto valid = check_rfc5322(message.rfc5322); !valid) return valid;
  for (const auto& recipient : message.recipients) {
    if (suppressions.suppressed(recipient, message.category)) {
      return Outcome::failure(Status::conflict, "a recipient is on the suppression list");
    }
  }
  return {};
}

bool mail_category(std::string_view category) { return category == "product_updates" || category == "marketing"; }

Outcome SuppressionList::load(const fs::path& file, const fs::path& install_key_file, std::string_view host_key) {
  file_ = file;
  host_key_.assign(host_key.begin(), host_key.end());
  std::string key = read_file(install_key_file);
  if (key.size() != crypto_generichash_KEYBYTES) {
    key.resize(crypto_generichash_KEYBYTES);
    randombytes_buf(key.data(), key.size());
    if (auto written = write_file_atomically(install_key_file, key); !written) return written;
  }
  install_key_.assign(key.begin(), key.end());
  boost::system::error_code ec;
  const json::value state = json::parse(read_file(file_), ec);
  if (ec || !state.is_object()) return {};
  // Format 1 (a bare object of install-key hashes) is re-keyed with the host's key once.
  const auto* format = state.as_object().if_contains("format");
  const bool legacy = format == nullptr;
  const auto* entries = legacy ? &state : state.as_object().if_contains("entries");
  if (entries == nullptr || !entries->is_object()) return {};
  std::lock_guard lock(mutex_);
  for (const auto& [hash, categories] : entries->as_object()) {
    if (!categories.is_array()) continue;
    const std::string key_of_entry = legacy ? keyed_hex(std::string(hash), host_key_) : std::string(hash);
    for (const auto& category : categories.as_array()) {
      if (category.is_string()) entries_[key_of_entry].insert(std::string(category.as_string()));
    }
  }
  return legacy ? save_locked() : Outcome{};
}

// The install key's hash (what lists of format 1 held), keyed again with the host's key.
std::string SuppressionList::address_hash(std::string_view address) const {
  return keyed_hex(keyed_hex(normalise(address), install_key_), host_key_);
}

bool SuppressionList::suppressed_locked(std::string_view address, std::string_view category) const {
  const auto it = entries_.find(address_hash(address));
  if (it == entries_.end()) return false;
  if (it->second.count(std::string(kEverything)) > 0) return true;
  return category != "account" && it->second.count(std::string(category)) > 0;
}

bool SuppressionList::suppressed(std::string_view address, std::string_view category) const {
  std::lock_guard lock(mutex_);
  return suppressed_locked(address, category);
}

bool SuppressionList::never_mail(std::string_view address) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(address_hash(address));
  return it != entries_.end() && it->second.count(std::string(kEverything)) > 0;
}

Outcome SuppressionList::suppress_everything(std::string_view address) {
  std::lock_guard lock(mutex_);
  entries_[address_hash(address)].insert(std::string(kEverything));
  return save_locked();
}

Outcome SuppressionList::apply_opt_out(const std::vector<std::string>& addresses, std::string_view category) {
  if (!mail_category(category)) return {};
  std::lock_guard lock(mutex_);
  for (const auto& address : addresses) entries_[address_hash(address)].insert(std::string(category));
  return save_locked();
}

Outcome SuppressionList::lift_opt_out(const std::vector<std::string>& addresses, std::string_view category) {
  if (!mail_category(category)) return {};
  std::lock_guard lock(mutex_);
  bool changed = false;
  for (const auto& address : addresses) {
    const auto it = entries_.find(address_hash(address));
    if (it == entries_.end() || it->second.erase(std::string(category)) == 0) continue;
    changed = true;
    if (it->second.empty()) entries_.erase(it);
  }
  return changed ? save_locked() : Outcome{};
}

sdk::Result<std::uint64_t> SuppressionList::erase(const std::vector<std::string>& addresses) {
  std::uint64_t changed = 0;
  std::lock_guard lock(mutex_);
  for (const auto& address : addresses) {
    const auto it = entries_.find(address_hash(address));
    if (it == entries_.end()) continue;
    const bool never = it->second.count(std::string(kEverything)) > 0;
    if (never && it->second.size() == 1) continue;
    ++changed;
    if (never) it->second = {std::string(kEverything)};
    else entries_.erase(it);
  }
  if (changed > 0) {
    if (auto saved = save_locked(); !saved) return saved;
  }
  return changed;
}

Outcome SuppressionList::save_locked() {
  json::object entries;
  for (const auto& [hash, categories] : entries_) {
    json::array list;
    for (const auto& c : categories) list.emplace_back(c);
    entries[hash] = list;
  }
  return write_file_atomically(file_, json::serialize(json::object{{"format", kSuppressionFormat}, {"entries", entries}}));
}

std::string SuppressingProvider::delivery_id(std::string_view message_id) const {
  return message_id.empty() ? random_id() : keyed_hex(message_id, suppressions_.install_key()).substr(0, 32);
}

boost::json::object SuppressingProvider::delivery_record(const std::string& id, const sdk::EmailMessage& message) {
  boost::json::array recipients;
  for (const auto& recipient : message.recipients) recipients.emplace_back(normalise(recipient));
  return {{"id", id}, {"subject_user_id", message.subject_user_id}, {"category", message.category}, {"recipients", recipients}};
}

Outcome SuppressingProvider::suppress(std::string_view address, std::string_view) {
  return suppressions_.suppress_everything(address);
}

sdk::Result<bool> SuppressingProvider::is_suppressed(std::string_view address) { return suppressions_.never_mail(address); }

Outcome SuppressingProvider::apply_opt_out(const sdk::Subject& subject, std::string_view category) {
  return suppressions_.apply_opt_out(subject.email_addresses, category);
}

Outcome SuppressingProvider::lift_opt_out(const sdk::Subject& subject, std::string_view category) {
  return suppressions_.lift_opt_out(subject.email_addresses, category);
}

Outcome SuppressingProvider::rectify(const sdk::Subject&, const sdk::Rectification&) { return {}; }

Outcome SuppressingProvider::load_suppressions(const fs::path& data_directory, std::string_view host_key) {
  return suppressions_.load(data_directory / "suppressions.json", data_directory / "suppression.key", host_key);
}

}  // namespace framehouse::mail_common
