// What the core's own modules hold about people, declared beside each store exactly as a plugin
// declares itself in its manifest: a name, the categories of personal data (the published
// vocabulary, sdk/personal_data.hpp), the tables it answers for, and the privacy participant's
// operations over them — plus the first step of every erasure, stopping the processing of the
// person. The privacy module loops over these registrations and the plugins, and over nothing
// else; a table that names a person and belongs to no registration fails the schema test.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "db/database.hpp"
#include "framehouse/sdk/privacy.hpp"

namespace framehouse::personal_data {

// What an erasure's first step gathered from every store: what stopped (for the receipt), and
// everything else the person may be known by, which the later steps need once the account
// is gone.
struct ProcessingStopped {
  boost::json::object outcome;  // e.g. "sessions_revoked": 2; never personal data
  std::vector<std::string> addresses;
  std::map<std::string, std::string> external_ids;  // e.g. "payment_customer_id"
};

class CoreStore : public sdk::PrivacyParticipant {
 public:
  virtual std::string_view name() const = 0;
  virtual std::vector<std::string> categories() const = 0;
  virtual std::vector<std::string> tables() const = 0;
  // The erasure's first step, before any data goes: end what still runs for the person
  // (sessions, keys, jobs) and add to `stopped` what else they are known by. Idempotent.
  virtual sdk::Outcome stop_processing(const std::string& user_id, ProcessingStopped& stopped) {
    (void)user_id;
    (void)stopped;
    return {};
  }
};

// A store whose records keep no copy of a profile field and no communication choice: nothing
// in them to rectify or to opt out of.
class RecordsStore : public CoreStore {
 public:
  sdk::Outcome rectify(const sdk::Subject&, const sdk::Rectification&) override { return {}; }
  sdk::Outcome apply_opt_out(const sdk::Subject&, std::string_view) override { return {}; }
  sdk::Outcome lift_opt_out(const sdk::Subject&, std::string_view) override { return {}; }
};

// A store of one table whose rows belong to a person through one column: the subclass says how
// its rows are exported; erasure deletes them.
class TableStore : public RecordsStore {
 public:
  // `records` names the rows in the erasure report, e.g. "image records".
  TableStore(db::Database& database, std::string table, std::string owner_column, std::string records)
      : database_(database), table_(std::move(table)), owner_column_(std::move(owner_column)), records_(std::move(records)) {}

  std::vector<std::string> tables() const override { return {table_}; }
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;

 protected:
  db::Database& database_;

 private:
  std::string table_;
  std::string owner_column_;
  std::string records_;
};

}  // namespace framehouse::personal_data
