// PrivacyRequests: requests from submission to their plan of tasks, their views, cancel,
// extension and retry. Intake by email is in intake.cpp, legal holds in holds.cpp, running
// tasks in worker.cpp and steps.cpp, what is left to download in downloads.cpp.
#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "accounts/validation.hpp"
#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/policy.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

}  // namespace

PrivacyRequests::PrivacyRequests(db::Database& database, Participants& participants, accounts::Accounts& accounts,
                                 storage::ObjectStore& objects, mail::Mailer& mailer,
                                 const ReceiptSigner& signer, observability::Metrics& metrics, audit::AuditLog& audit,
                                 PrivacyConfig config, UnixClock clock)
    : database_(database),
      participants_(participants),
      accounts_(accounts),
      objects_(objects),
      mailer_(mailer),
      signer_(signer),
      metrics_(metrics),
      audit_(audit),
      config_(std::move(config)),
      now_(std::move(clock)),
      subject_key_(db::server_secret(database, kSubjectKeyName)),
      address_key_secret_(db::server_secret(database, accounts::kAddressKeySecret)),
      // The queue keeps the request's time (seconds), so that a test's clock drives both.
      queue_(database, metrics, queue_options(config_), [this] { return now_() * 1000; }),
      runner_(queue_, database, [this](const jobs::Job& job, std::stop_token) { return run_job(job); }, std::chrono::seconds(1)) {
  metrics_.add_gauge("framehouse_privacy_requests_overdue", "Open privacy requests past their due date.",
                     [this] { return static_cast<double>(overdue_count()); });
}

PrivacyRequests::~PrivacyRequests() { stop_workers(); }

std::string PrivacyRequests::subject_hash(const std::string& subject) const { return crypto::keyed_hash(subject_key_, subject); }

std::string subject_pseudonym(db::Database& database, const std::string& subject) {
  return crypto::keyed_hash(db::server_secret(database, kSubjectKeyName), subject);
}

std::string PrivacyRequests::create(soci::session& sql, const NewRequest& request, const std::string& status,
                                    std::int64_t not_before) {
  const std::string id = crypto::time_ordered_id("pr_");
  const long long now = now_();
  const std::int64_t due = request.type == "access"    ? config_.access_due_seconds
                           : request.type == "erasure" ? config_.erasure_due_seconds
                           : request.type == "opt_out" ? config_.opt_out_due_seconds
                                                       : config_.rectification_due_seconds;
  const long long due_at = now + due;
  const long long start = not_before;
  json::object details;
  if (request.rectification) {
    details["rectification"] = json::object{{"field", request.rectification->field},
                                            {"old_value", request.rectification->old_value},
                                            {"new_value", request.rectification->new_value}};
  }
  if (!request.reference.empty()) details["reference"] = request.reference;
  if (!request.category.empty()) details["category"] = request.category;
  const std::string details_text = json::serialize(details);
  const std::string hash = subject_hash(request.subject_id.empty() ? request.subject_email : request.subject_id);
  soci::indicator subject_indicator = request.subject_id.empty() ? soci::i_null : soci::i_ok;
  soci::indicator email_indicator = request.subject_email.empty() ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO privacy_requests (id, type, source, status, subject_id, subject_email, subject_hash, details,"
         " not_before, due_at, created_at, updated_at) VALUES (:id, :type, :source, :status, :subject, :email, :hash,"
         " :details, :not_before, :due, :now, :now2)",
      soci::use(id), soci::use(request.type), soci::use(request.source), soci::use(status),
      soci::use(request.subject_id, subject_indicator), soci::use(request.subject_email, email_indicator), soci::use(hash),
      soci::use(details_text), soci::use(start), soci::use(due_at), soci::use(now), soci::use(now);
  return id;
}

void PrivacyRequests::plan_tasks(soci::session& sql, const std::string& id, const std::string& type,
                                 const std::optional<sdk::Rectification>& rectification) {
  std::vector<std::pair<std::string, int>> tasks;
  const auto& all = participants_.all();
  if (type == "access") {
    for (const auto& participant : all) tasks.emplace_back(participant.name, 1);
    tasks.emplace_back(std::string(kArchiveStep), 2);
  } else if (type == "erasure") {
    tasks.emplace_back(std::string(kStopStep), 0);
    for (const auto& participant : all) tasks.emplace_back(participant.name, participant.name == kCoreParticipant ? 2 : 1);
    tasks.emplace_back(std::string(kVerifyStep), 3);
    tasks.emplace_back(std::string(kReceiptStep), 4);
  } else if (type == "opt_out" || type == "opt_in") {
    // The core recorded it already, at once; the plugins follow.
    for (const auto& participant : all) {
      if (participant.name != kCoreParticipant) tasks.emplace_back(participant.name, 1);
    }
  } else {
    for (const auto& participant : all) {
      if (participant.name == kCoreParticipant) {
        tasks.emplace_back(participant.name, 1);
      } else if (rectification && participants_.holds_field(participant.name, rectification->field)) {
        tasks.emplace_back(participant.name, 2);
      }
    }
  }
  const long long now = now_();
  for (const auto& [participant, stage] : tasks) {
    sql << "INSERT INTO privacy_tasks (request_id, participant, stage, status, attempts, next_attempt_at)"
           " VALUES (:r, :p, :s, 'pending', 0, :n) ON CONFLICT (request_id, participant) DO NOTHING",
        soci::use(id), soci::use(participant), soci::use(stage), soci::use(now);
  }
}

// Sessions are held one at a time throughout this module (see changed_rows()).
Submission PrivacyRequests::submit(const NewRequest& request) {
  const std::string hash = subject_hash(request.subject_id.empty() ? request.subject_email : request.subject_id);
  std::optional<std::string> duplicate;
  std::string id;
  {
    soci::session sql(database_.pool());
    auto open_duplicate = [&]() -> std::optional<std::string> {
      if (request.type == "rectification" || request.type == "opt_out" || request.type == "opt_in") return std::nullopt;
      std::string existing;
      sql << "SELECT id FROM privacy_requests WHERE subject_hash = :h AND type = :t"
             " AND status IN ('pending', 'in_progress', 'on_hold')",
          soci::use(hash), soci::use(request.type), soci::into(existing);
      if (sql.got_data()) return existing;
      return std::nullopt;
    };
    duplicate = open_duplicate();
    if (!duplicate) {
      const std::int64_t not_before = request.source == "account_deletion" ? now_() + config_.deletion_grace_seconds : now_();
      try {
        db::WriteTransaction transaction(sql, database_);
        id = create(sql, request, "pending", not_before);
        plan_tasks(sql, id, request.type, request.rectification);
        schedule(transaction, id);
        transaction.commit();
      } catch (const soci::soci_error&) {
        // The unique index on open requests: a concurrent submission won the race.
        duplicate = open_duplicate();
        if (!duplicate) throw;
      }
    }
  }
  if (duplicate) return {*find(*duplicate), true};
  Log::info("privacy", "request received", {{"request_id", id}, {"type", request.type}, {"source", request.source}});
  audit_.record(request.actor, "privacy.request_received", id,
                json::serialize(json::object{{"type", request.type}, {"source", request.source}}));
  return {*find(id), false};
}

void PrivacyRequests::fan_out_opt_out(const std::string& user_id, const std::string& category) {
  fan_out_preference("opt_out", user_id, category);
}

void PrivacyRequests::fan_out_opt_in(const std::string& user_id, const std::string& category) {
  fan_out_preference("opt_in", user_id, category);
}

void PrivacyRequests::fan_out_preference(const std::string& type, const std::string& user_id, const std::string& category) {
  const auto user = accounts_.find(user_id);
  NewRequest request{type, "preference", user_id, user ? user->email : "", std::nullopt, "", user_id};
  request.category = category;
  const auto submitted = submit(request);
  // Nothing to push to (no plugin holds personal data): done as soon as recorded.
  update_request_status(submitted.request.id);
}

Submission PrivacyRequests::delete_account(const std::string& user_id) {
  const auto user = accounts_.find(user_id);
  return submit(NewRequest{"erasure", "account_deletion", user_id, user ? user->email : "", std::nullopt, "", user_id});
}

std::optional<RequestView> PrivacyRequests::find(const std::string& id, bool with_tasks) {
  soci::session sql(database_.pool());
  auto found = select_requests(sql, "WHERE id = :id", {{{"id", id}}, {}});
  if (found.empty()) return std::nullopt;
  if (with_tasks) found.front().tasks = select_tasks(sql, id);
  return found.front();
}

std::vector<RequestView> PrivacyRequests::list_for(const std::string& subject_id) {
  soci::session sql(database_.pool());
  return select_requests(sql, "WHERE subject_id = :id ORDER BY created_at DESC, id DESC", {{{"id", subject_id}}, {}});
}

std::vector<RequestView> PrivacyRequests::list(const RequestFilter& filter) {
  soci::session sql(database_.pool());
  std::string clauses = "WHERE 1 = 1";
  Bound bound;
  if (!filter.status.empty()) {
    clauses += " AND status = :status";
    bound.text.emplace_back("status", filter.status);
  }
  if (!filter.type.empty()) {
    clauses += " AND type = :type";
    bound.text.emplace_back("type", filter.type);
  }
  if (filter.overdue_only) {
    clauses += " AND status IN ('pending', 'in_progress', 'on_hold') AND due_at < :now";
    bound.numbers.emplace_back("now", now_());
  }
  clauses += " ORDER BY due_at, id LIMIT :limit";
  bound.numbers.emplace_back("limit", static_cast<long long>(filter.limit));
  return select_requests(sql, clauses, bound);
}

sdk::Outcome PrivacyRequests::cancel(const std::string& id, const std::string& reason, const std::string& actor) {
  const long long now = now_();
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    // An erasure under way is past the point of no return: its first step already ended access.
    soci::statement canceled =
        (sql.prepare << "UPDATE privacy_requests SET status = 'canceled', status_reason = :r, completed_at = :n, updated_at = :n2"
                        " WHERE id = :id AND (status IN ('unverified', 'pending')"
                        " OR (type <> 'erasure' AND status IN ('in_progress', 'on_hold')))"
                        " AND NOT (type = 'erasure' AND EXISTS (SELECT 1 FROM privacy_tasks t WHERE t.request_id = privacy_requests.id"
                        " AND t.status IN ('running', 'done')))",
         soci::use(reason), soci::use(now), soci::use(now), soci::use(id));
    canceled.execute(true);
    if (canceled.get_affected_rows() == 0) return sdk::Outcome::failure(sdk::Status::conflict, "the request can no longer be canceled");
    // Its waiting jobs go with it.
    std::vector<std::string> waiting;
    std::string job_id;
    soci::statement jobs = (sql.prepare << "SELECT job_id FROM privacy_tasks WHERE request_id = :id AND job_id IS NOT NULL",
                            soci::use(id), soci::into(job_id));
    jobs.execute();
    while (jobs.fetch()) waiting.push_back(job_id);
    for (const auto& job : waiting) queue_.drop_waiting(transaction, job);
    sql << "UPDATE privacy_tasks SET job_id = NULL WHERE request_id = :id", soci::use(id);
    transaction.commit();
  }
  Log::info("privacy", "request canceled", {{"request_id", id}});
  audit_.record(actor, "privacy.request_canceled", id);
  return {};
}

sdk::Outcome PrivacyRequests::extend(const std::string& id, const std::string& reason, const std::string& actor) {
  const long long now = now_();
  const long long extension = config_.extension_seconds;
  if (changed_rows(database_,
                   "UPDATE privacy_requests SET due_at = due_at + :e, extension_reason = :r, extended_at = :n, updated_at = :n2"
                   " WHERE id = :id AND extension_reason IS NULL AND status IN ('unverified', 'pending', 'in_progress', 'on_hold')",
                   soci::use(extension), soci::use(reason), soci::use(now), soci::use(now), soci::use(id)) == 0) {
    return sdk::Outcome::failure(sdk::Status::conflict, "the request was extended already, or has ended");
  }
  audit_.record(actor, "privacy.request_extended", id);
  const auto request = find(id);
  if (request) {
    std::string email;
    soci::indicator indicator = soci::i_null;
    {
      soci::session sql(database_.pool());
      sql << "SELECT subject_email FROM privacy_requests WHERE id = :id", soci::use(id), soci::into(email, indicator);
    }
    if (indicator == soci::i_ok) {
      mail_subject(email, request->subject_id.value_or(""), "Your privacy request needs more time",
                   fmt::format("We need more time to complete your {} request {}.\nReason: {}\nNew due date: {}\n",
                               request->type, id, reason, accounts::utc_date(request->due_at) + " (UTC)"));
    }
  }
  return {};
}

sdk::Outcome PrivacyRequests::retry(const std::string& id, const std::string& actor) {
  const long long now = now_();
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    soci::statement statement = (sql.prepare << "UPDATE privacy_tasks SET status = 'pending', attempts = 0, next_attempt_at = :n,"
                                                " job_id = NULL WHERE request_id = :id AND status = 'failed'",
                                 soci::use(now), soci::use(id));
    statement.execute(true);
    if (statement.get_affected_rows() == 0) return sdk::Outcome::failure(sdk::Status::conflict, "no task of the request failed");
    // The closing step runs again over what the retried tasks produce.
    sql << "UPDATE privacy_tasks SET status = 'pending', attempts = 0, next_attempt_at = :n, job_id = NULL"
           " WHERE request_id = :id AND participant IN ('@archive', '@verify', '@receipt')",
        soci::use(now), soci::use(id);
    sql << "UPDATE privacy_requests SET status = 'in_progress', completed_at = NULL, updated_at = :n WHERE id = :id",
        soci::use(now), soci::use(id);
    schedule(transaction, id);
    transaction.commit();
  }
  audit_.record(actor, "privacy.request_retried", id);
  return {};
}

std::int64_t PrivacyRequests::overdue_count() {
  soci::session sql(database_.pool());
  long long count = 0;
  const long long now = now_();
  sql << "SELECT COUNT(*) FROM privacy_requests WHERE status IN ('pending', 'in_progress', 'on_hold') AND due_at < :n",
      soci::use(now), soci::into(count);
  return count;
}

void PrivacyRequests::mail_subject(db::WriteTransaction& transaction, const std::string& email, const std::string& user_id,
                                   const std::string& subject, const std::string& body) {
  const auto queued =
      mailer_.queue(transaction, {email, subject, body + "\n" + privacy_contact_line(config_.contact), "account", user_id});
  if (!queued) Log::warn("privacy", "a privacy message could not be queued", {{"error", queued.message()}});
}

void PrivacyRequests::mail_subject(const std::string& email, const std::string& user_id, const std::string& subject,
                                   const std::string& body) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  mail_subject(transaction, email, user_id, subject, body);
  transaction.commit();
}

}  // namespace framehouse::privacy
