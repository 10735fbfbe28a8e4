// The task side of PrivacyRequests: giving tasks that may run a job on the core's queue,
// running a job's task (steps.cpp has each kind of step), settling outcomes (retries and
// backoff are the queue's), and closing requests.
#include <typeinfo>

#include <boost/core/demangle.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "observability/log.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

// What a task does: one of the request's own steps, or a participant's part of it.
enum class Step { stop_processing, export_part, archive, erase, verify, receipt, preference, rectify };

Step step_of(std::string_view participant, std::string_view request_type) {
  if (participant == kStopStep) return Step::stop_processing;
  if (participant == kArchiveStep) return Step::archive;
  if (participant == kVerifyStep) return Step::verify;
  if (participant == kReceiptStep) return Step::receipt;
  if (request_type == "access") return Step::export_part;
  if (request_type == "erasure") return Step::erase;
  if (request_type == "opt_out" || request_type == "opt_in") return Step::preference;
  return Step::rectify;
}

}  // namespace

jobs::QueueOptions PrivacyRequests::queue_options(const PrivacyConfig& config) {
  return {std::string(kQueueName), std::chrono::seconds(config.lease_seconds), config.max_attempts,
          std::chrono::seconds(config.retry_base_seconds), std::chrono::hours(6)};
}

void PrivacyRequests::start_workers() {
  // Tasks planned before they ran on the job queue (or by a node that died between planning
  // and scheduling, which one transaction rules out today) get their jobs now.
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    schedule(transaction, std::nullopt);
    transaction.commit();
  }
  runner_.start(config_.workers);
  // Holds that expire end without anyone lifting them: looked for every few seconds.
  hold_watch_.start(1, "privacy_holds_", [this](const std::string&) {
    release_holds();
    return false;
  });
}

void PrivacyRequests::stop_workers() {
  hold_watch_.stop();
  runner_.stop();
}

bool PrivacyRequests::run_one(const std::string& worker) {
  release_holds();
  return runner_.run_one(worker);
}

void PrivacyRequests::schedule(db::WriteTransaction& transaction, const std::optional<std::string>& request_id) {
  soci::session& sql = transaction.session();
  // Pending tasks without a job, of open requests, whose earlier stages are settled. A held
  // task does not hold up the other participants, only the closing verification.
  struct Ready {
    std::string request_id, participant, type;
    long long not_before = 0;
  };
  std::vector<Ready> ready;
  {
    Ready row;
    const int every_request = request_id ? 0 : 1;
    const std::string only = request_id.value_or("");
    soci::statement select =
        (sql.prepare << "SELECT t.request_id, t.participant, r.type, r.not_before FROM privacy_tasks t"
                        " JOIN privacy_requests r ON r.id = t.request_id"
                        " WHERE (:every = 1 OR t.request_id = :r) AND r.status IN ('pending', 'in_progress', 'on_hold')"
                        " AND t.status = 'pending' AND t.job_id IS NULL"
                        " AND NOT EXISTS (SELECT 1 FROM privacy_tasks e WHERE e.request_id = t.request_id AND e.stage < t.stage"
                        " AND e.status NOT IN ('done', 'failed') AND NOT (e.status = 'on_hold' AND t.participant <> '@verify'))",
         soci::use(every_request), soci::use(only), soci::into(row.request_id), soci::into(row.participant), soci::into(row.type),
         soci::into(row.not_before));
    select.execute();
    while (select.fetch()) ready.push_back(row);
  }
  for (const auto& task : ready) {
    const std::string job_id = jobs::JobQueue::new_id();
    soci::statement assign = (sql.prepare << "UPDATE privacy_tasks SET job_id = :j WHERE request_id = :r AND participant = :p"
                                             " AND status = 'pending' AND job_id IS NULL",
                              soci::use(job_id), soci::use(task.request_id), soci::use(task.participant));
    assign.execute(true);
    if (assign.get_affected_rows() != 1) continue;  // another node scheduled it first
    // About no one: the payload names the request, and the job is not erased with the person
    // whose erasure it carries out.
    queue_.enqueue(transaction,
                   json::serialize(json::object{{"request_id", task.request_id}, {"participant", task.participant}}), "",
                   "privacy: " + task.type + " " + task.participant, job_id, task.not_before * 1000);
  }
}

std::optional<PrivacyRequests::ClaimedTask> PrivacyRequests::load_task(const jobs::Job& job) {
  const auto payload = parse_object(job.payload);
  ClaimedTask task;
  task.request_id = string_at(payload, "request_id");
  task.participant = string_at(payload, "participant");
  task.job_id = job.id;
  task.attempts = job.attempt;
  soci::session sql(database_.pool());
  std::string details;
  soci::indicator subject_indicator = soci::i_null, email_indicator = soci::i_null, details_indicator = soci::i_null;
  // Only the task's current job runs it: a retry by an operator, a lifted hold or an archive
  // that found parts missing gave it a new one, and a canceled or ended request runs nothing.
  sql << "SELECT t.stage, r.type, r.subject_id, r.subject_email, r.subject_hash, r.details FROM privacy_tasks t"
         " JOIN privacy_requests r ON r.id = t.request_id WHERE t.request_id = :r AND t.participant = :p AND t.job_id = :j"
         " AND t.status IN ('pending', 'running') AND r.status IN ('pending', 'in_progress', 'on_hold')",
      soci::use(task.request_id), soci::use(task.participant), soci::use(job.id), soci::into(task.stage), soci::into(task.type),
      soci::into(task.subject_id, subject_indicator), soci::into(task.subject_email, email_indicator),
      soci::into(task.subject_hash), soci::into(details, details_indicator);
  if (!sql.got_data()) return std::nullopt;
  if (subject_indicator != soci::i_ok) task.subject_id.clear();
  if (email_indicator != soci::i_ok) task.subject_email.clear();
  task.details = parse_object(details_indicator == soci::i_ok ? details : "{}");
  return task;
}

bool PrivacyRequests::mail_due_for(const ClaimedTask& task) {
  if (task.type != "erasure" || task.participant.starts_with('@') || task.subject_id.empty()) return false;
  soci::session sql(database_.pool());
  int due = 0;
  // Due by the end of this second: the privacy clock counts whole seconds, the mail queue
  // milliseconds, and a message queued a moment ago must not look as if it waited for later.
  const long long now_ms = (now_() + 1) * 1000;
  sql << "SELECT COUNT(*) FROM jobs WHERE queue = 'mail' AND subject_id = :s"
         " AND (state = 'running' OR (state = 'ready' AND run_at_ms <= :n))",
      soci::use(task.subject_id), soci::use(now_ms), soci::into(due);
  return due > 0;
}

jobs::JobResult PrivacyRequests::run_job(const jobs::Job& job) {
  auto task = load_task(job);
  if (!task) return jobs::JobResult::finished(R"({"ran":false,"why":"the task ended or has a newer job"})");
  // A participant erases a person only once the mail queued for them went out (the notice that
  // a hold ended, say): what the email provider keeps of it is then erased with the rest, not
  // delivered after.
  if (hold_task(*task)) return jobs::JobResult::finished(R"({"ran":false,"why":"legal hold"})");
  if (mail_due_for(*task)) return jobs::JobResult::deferred(std::chrono::seconds(1));
  {
    const long long now = now_();
    soci::session sql(database_.pool());
    sql << "UPDATE privacy_tasks SET status = 'running', attempts = :a WHERE request_id = :r AND participant = :p AND job_id = :j",
        soci::use(task->attempts), soci::use(task->request_id), soci::use(task->participant), soci::use(task->job_id);
    sql << "UPDATE privacy_requests SET status = 'in_progress', updated_at = :n WHERE id = :r AND status = 'pending'",
        soci::use(now), soci::use(task->request_id);
  }
  sdk::Result<std::string> result = sdk::Outcome::failure(sdk::Status::internal, "not run");
  try {
    switch (step_of(task->participant, task->type)) {
      case Step::stop_processing: result = run_stop(*task); break;
      case Step::export_part: result = run_access_part(*task); break;
      case Step::archive: result = run_archive(*task); break;
      case Step::erase: result = run_erase(*task); break;
      case Step::verify: result = run_verify(*task); break;
      case Step::receipt: result = run_receipt(*task); break;
      case Step::preference: result = run_preference(*task); break;
      case Step::rectify: result = run_rectify(*task); break;
    }
  } catch (const std::exception& error) {
    // Its type, not its text: a database error can quote the values bound to a statement, and
    // the reason is kept on the task and shown to staff.
    result = sdk::Outcome::failure(sdk::Status::internal, "internal error (" + boost::core::demangle(typeid(error).name()) + ")");
  }
  return settle(*task, result);
}

jobs::JobResult PrivacyRequests::settle(const ClaimedTask& task, const sdk::Result<std::string>& result) {
  const long long now = now_();
  const bool exhausted = !result && task.attempts >= config_.max_attempts;
  bool recorded = false;
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    // Bound by reference: every value lives until the statement has run.
    const std::string error = result ? std::string() : result.outcome().message();
    const long long next = now + std::chrono::duration_cast<std::chrono::seconds>(queue_.backoff(task.attempts)).count();
    const std::string status = result ? "done" : exhausted ? "failed" : "pending";
    const int keep_job = !result && !exhausted ? 1 : 0;  // a retried task keeps its job: the queue runs it again
    const std::string outcome = result ? result.value() : std::string();
    soci::indicator outcome_indicator = result ? soci::i_ok : soci::i_null;
    soci::indicator error_indicator = result ? soci::i_null : soci::i_ok;
    soci::indicator completed_indicator = result ? soci::i_ok : soci::i_null;
    soci::statement update =
        (sql.prepare << "UPDATE privacy_tasks SET status = :s, outcome = COALESCE(:o, outcome), last_error = :e,"
                        " completed_at = COALESCE(:c, completed_at), next_attempt_at = :t,"
                        " job_id = CASE WHEN :keep = 1 THEN job_id ELSE NULL END"
                        " WHERE request_id = :r AND participant = :p AND job_id = :j",
         soci::use(status), soci::use(outcome, outcome_indicator), soci::use(error, error_indicator),
         soci::use(now, completed_indicator), soci::use(next), soci::use(keep_job), soci::use(task.request_id),
         soci::use(task.participant), soci::use(task.job_id));
    update.execute(true);
    recorded = update.get_affected_rows() == 1;
    // What the settled task let start.
    if (recorded && (result || exhausted)) schedule(transaction, task.request_id);
    transaction.commit();
  }
  // The step put the task back itself (an archive that found parts missing): nothing to record.
  if (!recorded) return jobs::JobResult::finished(R"({"ran":true,"rescheduled":true})");
  update_request_status(task.request_id);
  if (result) return jobs::JobResult::finished();
  metrics_.count("framehouse_privacy_task_failures_total", "Failed attempts of privacy tasks, by participant.", "participant",
                 task.participant);
  // The job's own record gets no text of the participant's: the task keeps it, for staff.
  const std::string job_reason = "the " + task.participant + " step failed (the request's task says why)";
  if (!exhausted) {
    Log::warn("privacy", "a privacy task failed; it will be retried",
              {{"request_id", task.request_id}, {"participant", task.participant}, {"attempt", std::to_string(task.attempts)}});
    return jobs::JobResult::retry_later(job_reason);
  }
  // The alert: a participant that cannot do its part needs an operator.
  metrics_.count("framehouse_privacy_participant_exhausted_total",
                 "Privacy tasks that failed after every retry, by participant (alert on any).", "participant", task.participant);
  audit_.record("system", "privacy.task_exhausted", task.request_id, json::serialize(json::object{{"participant", task.participant}}));
  Log::error("privacy", "a privacy task failed after every retry",
             {{"request_id", task.request_id}, {"participant", task.participant}, {"error", result.outcome().message()}});
  return jobs::JobResult::failed_for_good(job_reason);
}

void PrivacyRequests::update_request_status(const std::string& id) {
  // The new final status, or "" while the request is still open.
  const std::string final_status = [&]() -> std::string {
    soci::session sql(database_.pool());
    std::string type, status;
    sql << "SELECT type, status FROM privacy_requests WHERE id = :id", soci::use(id), soci::into(type), soci::into(status);
    if (!sql.got_data() || !(status == "pending" || status == "in_progress" || status == "on_hold")) return std::string();
    const auto tasks = select_tasks(sql, id);
    int open = 0, holding = 0;
    std::vector<std::string> failed;
    bool residue = false;
    std::vector<std::string> left_behind;  // participants that could not remove everything
    for (const auto& task : tasks) {
      if (task.status == "pending" || task.status == "running") ++open;
      if (task.status == "on_hold") ++holding;
      if (task.status == "failed") failed.push_back(task.participant);
      if (!task.outcome) continue;
      const auto outcome = parse_object(*task.outcome);
      if (task.participant == kVerifyStep) {
        if (const auto* left = outcome.if_contains("residue"); left && left->is_array() && !left->as_array().empty()) residue = true;
      } else if (const auto* left = outcome.if_contains("not_removed"); left && left->is_array() && !left->as_array().empty()) {
        left_behind.push_back(task.participant);
      }
    }
    const long long now = now_();
    if (open > 0 || holding > 0) {
      const std::string next = open > 0 && status != "on_hold" ? "in_progress" : status;
      if (holding == 0 && status == "on_hold") {
        sql << "UPDATE privacy_requests SET status = 'in_progress', status_reason = NULL, updated_at = :n WHERE id = :id",
            soci::use(now), soci::use(id);
      } else if (next != status) {
        sql << "UPDATE privacy_requests SET status = :s, updated_at = :n WHERE id = :id", soci::use(next), soci::use(now), soci::use(id);
      }
      return std::string();
    }
    const bool closing_step_failed = std::any_of(failed.begin(), failed.end(), [&](const std::string& name) {
      return name == kArchiveStep || name == kVerifyStep || name == kReceiptStep ||
             (type == "rectification" && name == kCoreParticipant);
    });
    const bool exceptions = !failed.empty() || residue || !left_behind.empty();
    const std::string final_status = closing_step_failed ? "failed" : exceptions ? "completed_with_exceptions" : "completed";
    std::string reason;
    for (const auto& name : failed) reason += (reason.empty() ? "did not complete: " : ", ") + name;
    if (residue) reason += std::string(reason.empty() ? "" : "; ") + "data still found after erasure (see the receipt)";
    for (const auto& name : left_behind) {
      reason += std::string(reason.empty() ? "" : "; ") + name + " could not remove everything (see its outcome)";
    }
    soci::indicator reason_indicator = reason.empty() ? soci::i_null : soci::i_ok;
    sql << "UPDATE privacy_requests SET status = :s, status_reason = :why, completed_at = :n, updated_at = :n2 WHERE id = :id",
        soci::use(final_status), soci::use(reason, reason_indicator), soci::use(now), soci::use(now), soci::use(id);
    if (type == "rectification") {
      // The new value has reached every participant; the request keeps only which field changed.
      sql << "UPDATE privacy_requests SET details = '{}' WHERE id = :id", soci::use(id);
    }
    if (type == "opt_out") {
      long long created = now;
      sql << "SELECT created_at FROM privacy_requests WHERE id = :id", soci::use(id), soci::into(created);
      metrics_.observe("framehouse_privacy_opt_out_seconds", "Time from an opt-out to the last plugin applying it.",
                       static_cast<double>(now - created));
    }
    return final_status;
  }();
  if (final_status.empty()) return;
  Log::info("privacy", "request ended", {{"request_id", id}, {"status", final_status}});
  audit_.record("system", "privacy.request_ended", id, json::serialize(json::object{{"status", final_status}}));
}

}  // namespace framehouse::privacy
