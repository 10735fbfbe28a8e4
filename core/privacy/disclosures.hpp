// The disclosure log (policy §3.2): each disclosure made on a legal request — authority, legal
// basis, reference, categories, whom it concerned — appended by an admin, never edited. It is
// part of the person's access export unless the admin recorded a legal restriction on telling
// them (with its basis). Erasure cannot delete a record kept for a legal obligation (GDPR Art.
// 17(3)(b)); it unlinks it from the person instead, keeping only the keyed hash of the subject.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "framehouse/sdk/privacy.hpp"
#include "personal_data/store.hpp"

namespace framehouse::privacy {

struct Disclosure {
  std::string id;
  std::string subject_id;
  std::string authority;
  std::string legal_basis;
  std::string reference;
  std::vector<std::string> categories;
  std::int64_t disclosed_at = 0;
  bool notice_restricted = false;
  std::string restriction_basis;
  std::string recorded_by;
  std::int64_t recorded_at = 0;
};

class Disclosures {
 public:
  explicit Disclosures(db::Database& database) : database_(database) {}
  Disclosure record(Disclosure disclosure);
  std::vector<Disclosure> list(const std::string& subject_id);

 private:
  db::Database& database_;
};

class DisclosuresParticipant final : public personal_data::RecordsStore {
 public:
  explicit DisclosuresParticipant(db::Database& database) : database_(database) {}
  std::string_view name() const override { return "disclosures"; }
  std::vector<std::string> categories() const override { return {"privacy_requests"}; }
  std::vector<std::string> tables() const override { return {"disclosures"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;

 private:
  db::Database& database_;
};

}  // namespace framehouse::privacy
