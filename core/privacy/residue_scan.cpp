#include "privacy/residue_scan.hpp"

#include <algorithm>
#include <map>

#include <soci/soci.h>

namespace framehouse::privacy {
namespace {

struct TextColumn {
  std::string table;
  std::string column;
};

std::vector<TextColumn> text_columns(soci::session& sql, db::Backend backend) {
  std::vector<TextColumn> columns;
  if (backend == db::Backend::postgresql) {
    std::string table, column;
    soci::statement statement =
        (sql.prepare << "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                        " AND data_type IN ('text', 'character varying', 'character') ORDER BY table_name, ordinal_position",
         soci::into(table), soci::into(column));
    statement.execute();
    while (statement.fetch()) columns.push_back({table, column});
    return columns;
  }
  std::vector<std::string> tables;
  {
    std::string table;
    soci::statement statement =
        (sql.prepare << "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
         soci::into(table));
    statement.execute();
    while (statement.fetch()) tables.push_back(table);
  }
  for (const auto& table : tables) {
    std::string column, type;
    soci::statement statement =
        (sql.prepare << "SELECT name, UPPER(type) FROM pragma_table_info(:t)", soci::use(table), soci::into(column), soci::into(type));
    statement.execute();
    while (statement.fetch()) {
      // SQLite's affinity rules: a declared type naming TEXT or CHAR (or none) holds text.
      if (type.empty() || type.find("TEXT") != std::string::npos || type.find("CHAR") != std::string::npos) {
        columns.push_back({table, column});
      }
    }
  }
  return columns;
}

// Catalog names are quoted as identifiers; they come from the database, never from input.
std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<ResidueHit> scan_for_residue(db::Database& database, const std::vector<std::string>& identifiers,
                                         const std::string& request_under_way) {
  std::vector<std::string> patterns;
  for (const auto& identifier : identifiers) {
    if (!identifier.empty()) patterns.push_back(db::containment_pattern(identifier));
  }
  std::vector<ResidueHit> hits;
  if (patterns.empty()) return hits;
  soci::session sql(database.pool());
  std::map<std::string, std::vector<std::string>> tables;
  for (auto& [table, column] : text_columns(sql, database.dialect().backend())) {
    if (std::find(std::begin(kResidueScanExempt), std::end(kResidueScanExempt), table) != std::end(kResidueScanExempt)) continue;
    tables[table].push_back(std::move(column));
  }
  // One pass over each table, counting per column the rows that contain any identifier. Both
  // operators ignore ASCII case (SQLite's LIKE does by default).
  const std::string like = database.dialect().like_ignoring_case() + ":p";
  for (const auto& [table, columns] : tables) {
    std::string text = "SELECT ";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      text += (c == 0 ? "" : ", ") + std::string("COALESCE(SUM(CASE WHEN ");
      for (std::size_t i = 0; i < patterns.size(); ++i) {
        text += (i == 0 ? "" : " OR ") + quoted(columns[c]) + like + std::to_string(i) + " ESCAPE '\\'";
      }
      text += " THEN 1 ELSE 0 END), 0)";
    }
    text += " FROM " + quoted(table);
    const bool own_row = table == "privacy_requests";
    if (own_row) text += " WHERE id <> :under_way";
    soci::row row;
    soci::statement statement(sql);
    statement.alloc();
    statement.prepare(text);
    for (std::size_t i = 0; i < patterns.size(); ++i) statement.exchange(soci::use(patterns[i], "p" + std::to_string(i)));
    if (own_row) statement.exchange(soci::use(request_under_way, "under_way"));
    statement.exchange(soci::into(row));
    statement.define_and_bind();
    statement.execute(true);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (const long long rows = db::row_integer(row, c); rows > 0) hits.push_back({table, columns[c], rows});
    }
  }
  return hits;
}

}  // namespace framehouse::privacy
