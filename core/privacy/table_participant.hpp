// A privacy participant over one table whose rows belong to a person through one column: the
// subclass says how its rows are exported; erasure deletes them; there is nothing in such a
// table to rectify or to opt out of.
#pragma once

#include <string>

#include "db/database.hpp"
#include "framehouse/sdk/privacy.hpp"

namespace framehouse::privacy {

// A participant whose records keep no copy of a profile field and no communication choice:
// nothing in them to rectify or to opt out of.
class RecordsParticipant : public sdk::PrivacyParticipant {
 public:
  sdk::Outcome rectify(const sdk::Subject&, const sdk::Rectification&) override { return {}; }
  sdk::Outcome apply_opt_out(const sdk::Subject&, std::string_view) override { return {}; }
  sdk::Outcome lift_opt_out(const sdk::Subject&, std::string_view) override { return {}; }
};

class TableParticipant : public RecordsParticipant {
 public:
  // `records` names the rows in the erasure report, e.g. "image records".
  TableParticipant(db::Database& database, std::string table, std::string owner_column, std::string records)
      : database_(database), table_(std::move(table)), owner_column_(std::move(owner_column)), records_(std::move(records)) {}

  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;

 protected:
  db::Database& database_;

 private:
  std::string table_;
  std::string owner_column_;
  std::string records_;
};

}  // namespace framehouse::privacy
