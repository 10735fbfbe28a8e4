// What the email plugins share: checks of an outgoing message, files written whole, and the
// suppression list — keyed hashes of normalised addresses (never the addresses), with the
// categories suppressed. The outer key is the host's (HostServices::secret_key, kept in the
// server's database), so whoever can read a plugin's directory cannot check whether an
// address is on the list. The rule (docs/privacy-choices.md):
//   * an opt-out of a mail category ("product_updates", "marketing") suppresses that category;
//   * the verified owner turning the category back on lifts it (lift_opt_out);
//   * erasure removes every category entry and keeps only a "never mail this address" entry
//     (suppress(): a hard bounce, a complaint, a request to receive nothing), which is all
//     that stops the address from being mailed again.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <framehouse/sdk/email.hpp>
#include <framehouse/sdk/outcome.hpp>
#include <framehouse/sdk/privacy.hpp>

namespace framehouse::mail_common {

std::string normalise(std::string_view address);
bool plausible_address(std::string_view address);
std::string random_id();  // 128 random bits, hex
// The value of the first header field called `name` (lower case); "" if there is none.
std::string header_value(std::string_view message, std::string_view name);
// RFC 5322: header fields, an empty line, a body; CRLF everywhere; lines of at most 998
// characters; a From and a Date field.
sdk::Outcome check_rfc5322(std::string_view message);
// Written to a temporary file, synced, renamed: a reader sees the old contents or the new.
sdk::Outcome write_file_atomically(const std::filesystem::path& path, std::string_view contents);
std::string read_file(const std::filesystem::path& path);
// Keyed BLAKE2b, hex.
std::string keyed_hex(std::string_view text, const std::vector<unsigned char>& key);

// Each JSON record in `folder` ("*.json", with "subject_user_id" and "recipients") that is
// about the subject — by their id or one of their addresses —, until `visit` returns false.
void for_each_record_of(const std::filesystem::path& folder, const sdk::Subject& subject,
                        const std::function<bool(const std::filesystem::path&, const boost::json::object&)>& visit);

// The categories of mail a person can opt out of; other opt-outs (training use, sale/sharing)
// are not about mail and leave nothing in an email plugin.
bool mail_category(std::string_view category);

class SuppressionList;
// What every provider checks before a message goes: recipients there and plausible, a valid
// RFC 5322 message, nobody on the suppression list for its category (Status::conflict).
sdk::Outcome check_outgoing(const sdk::EmailMessage& message, const SuppressionList& suppressions);

class SuppressionList {
 public:
  // `file` holds the list; `install_key_file` the plugin's own key (made on first start).
  sdk::Outcome load(const std::filesystem::path& file, const std::filesystem::path& install_key_file, std::string_view host_key);
  // Whether a message of `category` may not go to the address ("account" mail is stopped only
  // by a "never mail" entry).
  bool suppressed(std::string_view address, std::string_view category) const;
  bool never_mail(std::string_view address) const;
  sdk::Outcome suppress_everything(std::string_view address);
  sdk::Outcome apply_opt_out(const std::vector<std::string>& addresses, std::string_view category);
  sdk::Outcome lift_opt_out(const std::vector<std::string>& addresses, std::string_view category);
  // Erasure: every category entry of the addresses goes, "never mail" stays. How many entries
  // changed.
  sdk::Result<std::uint64_t> erase(const std::vector<std::string>& addresses);
  // The plugin's own key, for ids that must not reveal what they are made from.
  const std::vector<unsigned char>& install_key() const { return install_key_; }

 private:
  std::string address_hash(std::string_view address) const;
  bool suppressed_locked(std::string_view address, std::string_view category) const;
  sdk::Outcome save_locked();

  std::filesystem::path file_;
  std::vector<unsigned char> install_key_;
  std::vector<unsigned char> host_key_;
  mutable std::mutex mutex_;
  std::map<std::string, std::set<std::string>> entries_;
};

// The part of an email plugin that is the same for every delivery method: the suppression
// list behind suppress / is_suppressed and the privacy participant's opt-outs. A plugin derives
// from it, loads the list in start() (load_suppressions) and adds send, export and erasure.
class SuppressingProvider : public sdk::EmailProvider, public sdk::PrivacyParticipant {
 public:
  sdk::Outcome suppress(std::string_view address, std::string_view reason) override;
  sdk::Result<bool> is_suppressed(std::string_view address) override;
  sdk::Outcome apply_opt_out(const sdk::Subject& subject, std::string_view category) override;
  sdk::Outcome lift_opt_out(const sdk::Subject& subject, std::string_view category) override;
  // What an email plugin keeps is a record of what was sent; it is not rewritten.
  sdk::Outcome rectify(const sdk::Subject& subject, const sdk::Rectification& change) override;

 protected:
  ~SuppressingProvider() = default;
  // <data_directory>/suppressions.json, keyed with the host's "suppression-list" key.
  sdk::Outcome load_suppressions(const std::filesystem::path& data_directory, std::string_view host_key);
  // The name a message is kept under. Made from the host's message id — the same on every
  // retry of one message, so that a repeat is recognised — keyed, so that it does not reveal
  // what it came from; random when there is no id.
  std::string delivery_id(std::string_view message_id) const;
  // What is kept of a message: its id, whom it is about, its category and its recipients
  // (normalised); the plugin adds when, and how it went.
  static boost::json::object delivery_record(const std::string& id, const sdk::EmailMessage& message);
  // Erasure's part of the list: how many of the subject's choices went (never-mail stays).
  sdk::Result<std::uint64_t> erase_suppressions(const sdk::Subject& subject) { return suppressions_.erase(subject.email_addresses); }

  SuppressionList suppressions_;
};

}  // namespace framehouse::mail_common
