#include "accounts/privacy_participant.hpp"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <soci/soci.h>

#include "accounts/accounts.hpp"
#include "accounts/validation.hpp"

namespace framehouse::accounts {
namespace {

namespace json = boost::json;

sdk::Outcome emit(sdk::ExportSink& sink, std::string_view dataset, const json::object& record) {
  return sink.record(dataset, json::serialize(record));
}

}  // namespace

sdk::Outcome AccountsParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  {
    std::string email, name, role, suspension_reason;
    long long verified_at = 0, age_checked_at = 0, created = 0, updated = 0, suspended_at = 0;
    soci::indicator verified_indicator = soci::i_null, suspended_indicator = soci::i_null, reason_indicator = soci::i_null;
    sql << "SELECT email, name, role, email_verified_at, age_check_passed_at, created_at, updated_at, suspended_at,"
           " suspension_reason FROM users WHERE id = :id",
        soci::use(subject.user_id), soci::into(email), soci::into(name), soci::into(role),
        soci::into(verified_at, verified_indicator), soci::into(age_checked_at), soci::into(created), soci::into(updated),
        soci::into(suspended_at, suspended_indicator), soci::into(suspension_reason, reason_indicator);
    if (!sql.got_data()) return {};
    json::object account{{"id", subject.user_id}, {"email", email}, {"name", name}, {"role", role},
                         {"email_verified_at", verified_indicator == soci::i_ok ? json::value(verified_at) : nullptr},
                         {"age_check_passed_at", age_checked_at}, {"created_at", created}, {"updated_at", updated}};
    // A suspension, and the reason staff gave, is data about the person too.
    if (suspended_indicator == soci::i_ok) {
      account["suspended_at"] = suspended_at;
      account["suspension_reason"] = reason_indicator == soci::i_ok ? json::value(suspension_reason) : nullptr;
    }
    if (auto written = emit(sink, "account", account); !written) return written;
  }
  {
    std::string id, kind, label;
    long long created = 0, last_used = 0, expires = 0;
    soci::indicator expires_indicator = soci::i_null;
    soci::statement statement =
        (sql.prepare << "SELECT id, kind, label, created_at, last_used_at, expires_at FROM credentials WHERE user_id = :u"
                        " ORDER BY created_at",
         soci::use(subject.user_id), soci::into(id), soci::into(kind), soci::into(label), soci::into(created),
         soci::into(last_used), soci::into(expires, expires_indicator));
    statement.execute();
    while (statement.fetch()) {
      json::object record{{"id", id}, {"kind", kind}, {"label", label}, {"created_at", created},
                          {"last_used_at", last_used},
                          {"expires_at", expires_indicator == soci::i_ok ? json::value(expires) : nullptr}};
      if (auto written = emit(sink, "credentials", record); !written) return written;
    }
  }
  {
    // That two-factor sign-in is on, and since when; never the secret or a recovery code.
    long long created = 0, confirmed_at = 0;
    soci::indicator confirmed = soci::i_null;
    sql << "SELECT created_at, confirmed_at FROM totp_factors WHERE user_id = :u", soci::use(subject.user_id),
        soci::into(created), soci::into(confirmed_at, confirmed);
    if (sql.got_data()) {
      int codes_left = 0, codes_used = 0;
      sql << "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u AND used_at IS NULL", soci::use(subject.user_id),
          soci::into(codes_left);
      sql << "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u AND used_at IS NOT NULL", soci::use(subject.user_id),
          soci::into(codes_used);
      json::object record{{"method", "totp"},
                          {"set_up_at", created},
                          {"enabled_at", confirmed == soci::i_ok ? json::value(confirmed_at) : nullptr},
                          {"recovery_codes_left", codes_left},
                          {"recovery_codes_used", codes_used}};
      if (auto written = emit(sink, "two_factor", record); !written) return written;
    }
    // Which enterprise sign-ins the account is linked to (the issuer's id of the person too).
    std::string provider, external_subject;
    long long linked_at = 0, last_sign_in = 0;
    soci::statement identities =
        (sql.prepare << "SELECT provider, subject, linked_at, last_sign_in_at FROM sso_identities WHERE user_id = :u"
                        " ORDER BY linked_at",
         soci::use(subject.user_id), soci::into(provider), soci::into(external_subject), soci::into(linked_at),
         soci::into(last_sign_in));
    identities.execute();
    while (identities.fetch()) {
      if (auto written = emit(sink, "identity_providers", {{"provider", provider}, {"subject", external_subject},
                                                           {"linked_at", linked_at}, {"last_sign_in_at", last_sign_in}});
          !written) {
        return written;
      }
    }
    std::string label;
    long long expires = 0;
    soci::statement challenges =
        (sql.prepare << "SELECT label, expires_at FROM sign_in_challenges WHERE user_id = :u ORDER BY expires_at",
         soci::use(subject.user_id), soci::into(label), soci::into(expires));
    challenges.execute();
    while (challenges.fetch()) {
      if (auto written = emit(sink, "sign_ins_awaiting_second_factor", {{"client", label}, {"expires_at", expires}}); !written) {
        return written;
      }
    }
  }
  {
    std::string category;
    int enabled = 0;
    long long updated = 0;
    soci::statement statement =
        (sql.prepare << "SELECT category, enabled, updated_at FROM preferences WHERE user_id = :u ORDER BY category",
         soci::use(subject.user_id), soci::into(category), soci::into(enabled), soci::into(updated));
    statement.execute();
    while (statement.fetch()) {
      if (auto written = emit(sink, "preferences", {{"category", category}, {"enabled", enabled != 0}, {"updated_at", updated}});
          !written) {
        return written;
      }
    }
  }
  {
    std::string category, source;
    int enabled = 0;
    long long changed = 0;
    soci::statement statement =
        (sql.prepare << "SELECT category, enabled, source, changed_at FROM preference_history WHERE user_id = :u"
                        " ORDER BY id",
         soci::use(subject.user_id), soci::into(category), soci::into(enabled), soci::into(source), soci::into(changed));
    statement.execute();
    while (statement.fetch()) {
      if (auto written = emit(sink, "preference_history", {{"category", category}, {"enabled", enabled != 0},
                                                            {"source", source}, {"changed_at", changed}});
          !written) {
        return written;
      }
    }
  }
  // Records of one text and one time each: earlier addresses, which policy versions the person
  // was told about and accepted, which unsubscribe links were issued (never the link itself),
  // and how the app was used.
  struct TimedRecords {
    const char* dataset;
    const char* query;
    const char* text_key;
    const char* time_key;
  };
  for (const auto& [dataset, query, text_key, time_key] : std::initializer_list<TimedRecords>{
           {"previous_email_addresses", "SELECT email, replaced_at FROM email_history WHERE user_id = :u ORDER BY replaced_at",
            "email", "replaced_at"},
           {"policy_notices", "SELECT version, sent_at FROM policy_notices WHERE user_id = :u ORDER BY sent_at", "version", "at"},
           {"policy_acknowledgements",
            "SELECT version, acknowledged_at FROM policy_acknowledgements WHERE user_id = :u ORDER BY acknowledged_at", "version",
            "at"},
           {"unsubscribe_links", "SELECT category, created_at FROM unsubscribe_tokens WHERE user_id = :u ORDER BY created_at",
            "category", "at"},
           {"usage_events", "SELECT event_type, occurred_at FROM usage_events WHERE user_id = :u ORDER BY id", "type",
            "occurred_at"}}) {
    std::string text;
    long long at = 0;
    soci::statement statement = (sql.prepare << query, soci::use(subject.user_id), soci::into(text), soci::into(at));
    statement.execute();
    while (statement.fetch()) {
      if (auto written = emit(sink, dataset, {{text_key, text}, {time_key, at}}); !written) return written;
    }
  }
  return {};
}

namespace {

// The tables filed under the user's id, children before the users row.
constexpr const char* kUserTables[] = {"usage_events",       "preference_history", "preferences",        "credentials",
                                       "sign_in_challenges", "totp_factors",       "recovery_codes",     "email_tokens",
                                       "email_history",      "unsubscribe_tokens", "policy_notices",     "policy_acknowledgements",
                                       "sso_identities"};

}  // namespace

std::vector<std::string> AccountsParticipant::tables() const {
  std::vector<std::string> tables(std::begin(kUserTables), std::end(kUserTables));
  tables.emplace_back("users");
  tables.emplace_back("rate_limits");  // by account, and by keyed hashes of the addresses
  return tables;
}

sdk::Outcome AccountsParticipant::stop_processing(const std::string& user_id, personal_data::ProcessingStopped& stopped) {
  stopped.outcome["sessions_revoked"] = accounts_.revoke_sessions(user_id, "");
  int keys = 0;
  for (const auto& key : accounts_.credentials(user_id, "api_key")) keys += accounts_.revoke(user_id, key.id, "api_key") ? 1 : 0;
  stopped.outcome["api_keys_revoked"] = keys;
  for (const auto& address : accounts_.addresses(user_id)) {
    if (std::find(stopped.addresses.begin(), stopped.addresses.end(), address) == stopped.addresses.end()) {
      stopped.addresses.push_back(address);
    }
  }
  return {};
}

sdk::Result<sdk::ErasureReport> AccountsParticipant::erase_subject(const sdk::Subject& subject) {
  soci::session sql(database_.pool());
  sdk::ErasureReport report;
  db::WriteTransaction transaction(sql, database_);
  // Children first, so that the count is right on SQLite and PostgreSQL alike.
  for (const char* table : kUserTables) {
    report.records_removed += db::delete_rows(sql, table, "user_id", subject.user_id);
  }
  report.records_removed += db::delete_rows(sql, "users", "id", subject.user_id);
  report.records_removed += delete_account_throttles(sql, "user:" + subject.user_id);
  for (const auto& address : subject.email_addresses) {
    report.records_removed += delete_account_throttles(sql, sign_in_throttle_key(address_key_secret_, address));
    report.records_removed += db::delete_rows(sql, "rate_limits", "throttle_key", mail_throttle_key(address_key_secret_, address));
  }
  transaction.notify(Accounts::kChangeTopic);  // no node keeps using what it read of them
  transaction.commit();
  report.detail = std::to_string(report.records_removed) + " account records deleted";
  return report;
}

sdk::Outcome AccountsParticipant::rectify(const sdk::Subject& subject, const sdk::Rectification& change) {
  // Idempotent: a change made through the profile is already here and is written again as is.
  if (change.field != "name" && change.field != "email") return {};
  soci::session sql(database_.pool());
  const long long now = unix_now();
  db::WriteTransaction transaction(sql, database_);
  if (change.field == "email") {
    std::string current;
    sql << "SELECT email FROM users WHERE id = :id", soci::use(subject.user_id), soci::into(current);
    if (sql.got_data() && current != change.new_value) remember_previous_email(sql, subject.user_id, current, now);
  }
  const std::string column = change.field;  // one of two fixed names, never input
  sql << "UPDATE users SET " + column + " = :v, updated_at = :t WHERE id = :id", soci::use(change.new_value), soci::use(now),
      soci::use(subject.user_id);
  transaction.notify(Accounts::kChangeTopic);
  transaction.commit();
  return {};
}

sdk::Outcome AccountsParticipant::apply_opt_out(const sdk::Subject& subject, std::string_view category) {
  const auto& categories = preference_categories();
  if (category == "account" || std::find(categories.begin(), categories.end(), category) == categories.end()) {
    return {};  // e.g. "sale_sharing": nothing of it is kept here
  }
  soci::session sql(database_.pool());
  const std::string name(category);
  const long long now = unix_now();
  int exists = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(subject.user_id), soci::into(exists);
  if (exists == 0) return {};
  db::WriteTransaction transaction(sql, database_);
  sql << "INSERT INTO preferences (user_id, category, enabled, updated_at) VALUES (:u, :c, 0, :t)"
         " ON CONFLICT (user_id, category) DO UPDATE SET enabled = 0, updated_at = excluded.updated_at",
      soci::use(subject.user_id), soci::use(name), soci::use(now);
  sql << "INSERT INTO preference_history (user_id, category, enabled, source, changed_at) VALUES (:u, :c, 0, 'privacy_request', :t)",
      soci::use(subject.user_id), soci::use(name), soci::use(now);
  transaction.commit();
  return {};
}

}  // namespace framehouse::accounts
