// The privacy module's view of one task while it runs (not a public header): the request it
// belongs to, who it is about, and the JSON helpers the steps share.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "privacy/requests.hpp"

namespace framehouse::privacy {

inline boost::json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  return !ec && value.is_object() ? value.as_object() : boost::json::object{};
}

inline std::string string_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

inline void add_address(sdk::Subject& subject, const std::string& address) {
  auto& addresses = subject.email_addresses;
  if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) addresses.push_back(address);
}

struct PrivacyRequests::ClaimedTask {
  std::string request_id;
  std::string participant;
  int stage = 0;
  int attempts = 0;  // including this one
  std::string job_id;  // the job that runs it
  std::string type;
  std::string subject_id;
  std::string subject_email;
  std::string subject_hash;
  boost::json::object details;

  // Who the request is about, as every participant may know them.
  sdk::Subject subject() const {
    sdk::Subject subject{subject_id, {}, {}};
    if (!subject_email.empty()) subject.email_addresses.push_back(subject_email);
    if (const auto* snapshot = details.if_contains("subject"); snapshot && snapshot->is_object()) {
      if (const auto* emails = snapshot->as_object().if_contains("emails"); emails && emails->is_array()) {
        for (const auto& email : emails->as_array()) add_address(subject, std::string(email.as_string()));
      }
      if (const auto* ids = snapshot->as_object().if_contains("external_ids"); ids && ids->is_object()) {
        for (const auto& [key, value] : ids->as_object()) subject.external_ids[std::string(key)] = std::string(value.as_string());
      }
    }
    return subject;
  }
  // The data key that seals the subject's objects (an email-only subject has the hash).
  std::string key_person() const { return subject_id.empty() ? subject_hash : subject_id; }
};

}  // namespace framehouse::privacy
