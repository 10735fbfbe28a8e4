// The server's schema, one migration per step, shared by SQLite and PostgreSQL. Times are
// stored as BIGINT seconds since the epoch on both.
//
// Never edit a migration that has shipped: add a new one.
#include "db/database.hpp"

namespace framehouse::db {

const std::vector<Migration>& server_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "plugin_history",
       [](const Dialect&) -> std::vector<std::string> {
         // Every plugin version that ever ran here, with the third party behind it and the
         // personal data it received: the processors register must still name a processor
         // after its plugin was removed.
         return {
             "CREATE TABLE plugin_history ("
             " name TEXT NOT NULL,"
             " version TEXT NOT NULL,"
             " interfaces TEXT NOT NULL,"
             " personal_data TEXT NOT NULL,"
             " third_party TEXT NOT NULL,"
             " purpose TEXT NOT NULL,"
             " first_loaded_at BIGINT NOT NULL,"
             " last_loaded_at BIGINT NOT NULL,"
             " PRIMARY KEY (name, version))",
         };
       }},
  };
  return migrations;
}

}  // namespace framehouse::db
