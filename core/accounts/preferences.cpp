// Accounts: communication and data-use preferences, their history, opt-outs and the Global
// Privacy Control signal.
#include <soci/soci.h>

#include "accounts/accounts.hpp"

namespace framehouse::accounts {

void Accounts::write_preference(soci::session& sql, const std::string& user_id, const std::string& category,
                                bool enabled, const std::string& source) {
  const int value = enabled ? 1 : 0;
  const long long now = now_();
  sql << "INSERT INTO preferences (user_id, category, enabled, updated_at) VALUES (:u, :c, :e, :t)"
         " ON CONFLICT (user_id, category) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
      soci::use(user_id), soci::use(category), soci::use(value), soci::use(now);
  sql << "INSERT INTO preference_history (user_id, category, enabled, source, changed_at) VALUES (:u, :c, :e, :s, :t)",
      soci::use(user_id), soci::use(category), soci::use(value), soci::use(source), soci::use(now);
}

std::map<std::string, bool> Accounts::preferences(const std::string& user_id) {
  std::map<std::string, bool> out;
  for (const auto& category : preference_categories()) out[category] = category == "account";
  soci::session sql(database_.pool());
  std::string category;
  int enabled = 0;
  soci::statement statement = (sql.prepare << "SELECT category, enabled FROM preferences WHERE user_id = :u",
                               soci::use(user_id), soci::into(category), soci::into(enabled));
  statement.execute();
  while (statement.fetch()) out[category] = enabled != 0;
  out["account"] = true;
  return out;
}

std::vector<Accounts::PreferenceChange> Accounts::preference_history(const std::string& user_id, int limit) {
  soci::session sql(database_.pool());
  std::vector<PreferenceChange> changes;
  PreferenceChange change;
  int enabled = 0;
  long long changed_at = 0;
  soci::statement statement =
      (sql.prepare << "SELECT category, enabled, source, changed_at FROM preference_history WHERE user_id = :u"
                      " ORDER BY id DESC LIMIT :n",
       soci::use(user_id), soci::use(limit), soci::into(change.category), soci::into(enabled), soci::into(change.source),
       soci::into(changed_at));
  statement.execute();
  while (statement.fetch()) {
    change.enabled = enabled != 0;
    change.changed_at = changed_at;
    changes.push_back(change);
  }
  return changes;
}

FieldErrors Accounts::set_preferences(const std::string& user_id, const std::map<std::string, bool>& changes,
                                      const std::string& source) {
  FieldErrors errors;
  for (const auto& [category, enabled] : changes) {
    const auto& known = preference_categories();
    if (std::find(known.begin(), known.end(), category) == known.end()) {
      errors.push_back({category, "is not a preference category"});
    } else if (category == "account" && !enabled) {
      errors.push_back({"account", "security and legal notices cannot be turned off"});
    }
  }
  if (!errors.empty()) return errors;
  const auto current = preferences(user_id);
  bool changed = false;
  std::vector<std::string> turned_off, turned_on;
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    for (const auto& [category, enabled] : changes) {
      if (category == "account" || current.at(category) == enabled) continue;
      write_preference(sql, user_id, category, enabled, source);
      changed = true;
      (enabled ? turned_on : turned_off).push_back(category);
    }
    transaction.commit();
  }
  if (changed) record_event(user_id, "preferences_changed");
  for (const auto& category : turned_off) {
    if (opted_out_) opted_out_(user_id, category);
  }
  // Only the verified owner of the address may lift a suppression of it: someone who signed
  // up with another person's address cannot undo that person's unsubscribe.
  if (!turned_on.empty() && opted_in_) {
    if (const auto user = find(user_id); user && user->email_verified) {
      for (const auto& category : turned_on) opted_in_(user_id, category);
    }
  }
  return {};
}

bool Accounts::opt_out(const std::string& user_id, const std::string& category, const std::string& source) {
  const auto& known = preference_categories();
  if (category == "account" || std::find(known.begin(), known.end(), category) == known.end()) return false;
  {
    soci::session sql(database_.pool());
    int exists = 0;
    sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(user_id), soci::into(exists);
    if (exists == 0) return false;
    db::WriteTransaction transaction(sql, database_);
    write_preference(sql, user_id, category, false, source);
    transaction.commit();
  }
  if (opted_out_) opted_out_(user_id, category);
  return true;
}

bool Accounts::record_global_privacy_control(const std::string& user_id) {
  if (gpc_recorded(user_id)) return false;
  return opt_out(user_id, "sale_sharing", "gpc");
}

bool Accounts::gpc_recorded(const std::string& user_id) {
  soci::session sql(database_.pool());
  // Once per signal: recorded unless a GPC opt-out already stands since the last time the
  // person allowed sale/sharing themselves.
  // (History rows are ordered by id: several may share a second.)
  long long last_allowed = -1;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT MAX(id) FROM preference_history WHERE user_id = :u AND category = 'sale_sharing' AND enabled = 1",
      soci::use(user_id), soci::into(last_allowed, indicator);
  if (indicator != soci::i_ok) last_allowed = -1;
  int recorded = 0;
  sql << "SELECT COUNT(*) FROM preference_history WHERE user_id = :u AND category = 'sale_sharing' AND source = 'gpc'"
         " AND id > :t",
      soci::use(user_id), soci::use(last_allowed), soci::into(recorded);
  return recorded > 0;
}

}  // namespace framehouse::accounts
