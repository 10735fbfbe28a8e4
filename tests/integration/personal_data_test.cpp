// The registry of the core's stores of personal data against the schema itself: every table
// with a column that names a person (an id or an address) belongs to a registered store, or to
// the short list of tables outside the stores with their reason. A new table of personal data
// that nobody registered fails here, not in an erasure that leaves it behind.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "app/core_stores.hpp"
#include "framehouse/sdk/personal_data.hpp"
#include "support/databases.hpp"
#include "support/mail.hpp"
#include "support/process.hpp"

namespace framehouse {
namespace {

// Column names that identify a person, directly or as a keyed hash of their address.
const std::set<std::string> kPersonColumns = {"user_id", "owner_id",      "subject_id", "person_id",   "email",
                                              "new_email", "subject_email", "throttle_key", "actor"};

class PersonalDataTables : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = test_database_.open_migrated();
    mail_ = std::make_unique<testing::TestMail>(*database_, metrics_, host_, nullptr, "noreply@example.org");
    accounts_ = std::make_unique<accounts::Accounts>(*database_, mail_->mailer, accounts::AccountsConfig{});
    keys_ = std::make_unique<storage::DataKeys>(*database_, storage::MasterKey{7});
    objects_ = std::make_unique<storage::ObjectStore>(host_, nullptr, *keys_);
    videos_ = std::make_unique<video::Videos>(*database_, host_, *objects_, metrics_,
                                              video::VideoConfig{.data_dir = dir_.path().string()});
    stores_ = std::make_unique<app::CoreStores>(*database_, *accounts_, *videos_, *objects_);
  }
  // Table → its columns, from the migrated schema.
  std::map<std::string, std::set<std::string>> schema() {
    soci::session sql(database_->pool());
    std::vector<std::string> tables;
    std::string table;
    soci::statement listed = (sql.prepare << "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                              soci::into(table));
    listed.execute();
    while (listed.fetch()) tables.push_back(table);
    std::map<std::string, std::set<std::string>> columns;
    for (const auto& name : tables) {
      std::string column;
      soci::statement described = (sql.prepare << "SELECT name FROM pragma_table_info(:t)", soci::use(name), soci::into(column));
      described.execute();
      while (described.fetch()) columns[name].insert(column);
    }
    return columns;
  }

  testing::TestDatabase test_database_{db::Backend::sqlite};
  testing::TempDir dir_;
  observability::Metrics metrics_;
  plugins::PluginHost host_{metrics_, dir_.path()};
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<testing::TestMail> mail_;
  std::unique_ptr<accounts::Accounts> accounts_;
  std::unique_ptr<storage::DataKeys> keys_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<video::Videos> videos_;
  std::unique_ptr<app::CoreStores> stores_;
};

TEST_F(PersonalDataTables, EveryTableThatNamesAPersonBelongsToARegisteredStore) {
  std::map<std::string, std::string> owner;  // table → the store that answers for it
  for (auto* store : stores_->all()) {
    for (const auto& table : store->tables()) {
      EXPECT_TRUE(owner.emplace(table, std::string(store->name())).second) << table << " is registered twice";
    }
  }
  for (const auto& outside : app::kTablesOutsideTheStores) owner.emplace(outside.table, outside.why);
  const auto tables = schema();
  for (const auto& [table, columns] : tables) {
    const auto naming = std::find_if(columns.begin(), columns.end(), [](const std::string& c) { return kPersonColumns.contains(c); });
    if (naming == columns.end()) continue;
    EXPECT_TRUE(owner.contains(table)) << "table " << table << " names a person (column " << *naming
                                       << ") but no store registers it: add it to the store of its module (app/core_stores.hpp)";
  }
  // No registration of a table that is not there (a renamed table would otherwise slip out).
  for (const auto& [table, store] : owner) EXPECT_TRUE(tables.contains(table)) << store << " registers a missing table " << table;
}

TEST_F(PersonalDataTables, EveryStoreDeclaresCategoriesFromThePublishedVocabulary) {
  for (auto* store : stores_->all()) {
    EXPECT_FALSE(store->categories().empty()) << store->name();
    for (const auto& category : store->categories()) {
      EXPECT_NE(std::find(std::begin(sdk::kPersonalDataCategories), std::end(sdk::kPersonalDataCategories), category),
                std::end(sdk::kPersonalDataCategories))
          << store->name() << ": " << category;
    }
  }
}

}  // namespace
}  // namespace framehouse
