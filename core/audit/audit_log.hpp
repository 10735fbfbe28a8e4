// The security log (policy §4): every admin action and every privacy action, appended to
// `audit_log` as a hash chain — each entry's hash covers the one before it — so that an
// edited, removed or reordered entry is found by `framehouse audit verify`. Entries carry
// internal ids only, never personal data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace framehouse::audit {

struct Entry {
  std::int64_t seq = 0;
  std::int64_t occurred_at = 0;
  std::string actor;   // a user id, or "system"
  std::string action;  // e.g. "admin.request", "privacy.request_created"
  std::string target;  // an internal id, or ""
  std::string detail;  // a JSON object without personal data
  std::string prev_hash;
  std::string entry_hash;
};

struct VerifyReport {
  std::int64_t entries = 0;
  std::vector<std::string> problems;  // each names the entry where the chain breaks
};

class AuditLog {
 public:
  explicit AuditLog(db::Database& database) : database_(database) {}

  // Appends one entry. Writers are serialised (one chain, no forks), across processes too.
  void record(const std::string& actor, const std::string& action, const std::string& target, const std::string& detail = "{}");
  // Newest first.
  std::vector<Entry> recent(std::size_t limit, std::int64_t before_seq = 0);
  // Walks the whole chain.
  VerifyReport verify();

  static std::string hash_of(const Entry& entry);
  static constexpr std::string_view kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

 private:
  db::Database& database_;
};

}  // namespace framehouse::audit
