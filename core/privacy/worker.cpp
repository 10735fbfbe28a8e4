// The task side of PrivacyRequests: giving tasks that may run a job on the core's queue,
// running each kind of step, settling outcomes (retries and backoff are the queue's), and
// closing requests.
#include <set>
#include <thread>
#include <typeinfo>

#include <boost/core/demangle.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/export_archive.hpp"
#include "privacy/policy.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/residue_scan.hpp"

namespace framehouse::privacy {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using observability::Log;

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  return !ec && value.is_object() ? value.as_object() : json::object{};
}

std::string string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

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

void add_address(sdk::Subject& subject, const std::string& address) {
  auto& addresses = subject.email_addresses;
  if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) addresses.push_back(address);
}

}  // namespace

struct PrivacyRequests::ClaimedTask {
  std::string request_id;
  std::string participant;
  int stage = 0;
  int attempts = 0;  // including this one
  std::string job_id;  // the job that runs it
  std::string type;
  std::string subject_id;
  std::string subject_email;
  std::string subject_hash;
  json::object details;

  // Who the request is about, as every participant may know them.
  sdk::Subject subject() const {
    sdk::Subject subject{subject_id, {}, {}};
    if (!subject_email.empty()) subject.email_addresses.push_back(subject_email);
    if (const auto* snapshot = details.if_contains("subject"); snapshot && snapshot->is_object()) {
      if (const auto* emails = snapshot->as_object().if_contains("emails"); emails && emails->is_array()) {
        for (const auto& email : emails->as_array()) add_address(subject, std::string(email.as_string()));
      }
      if (const auto* ids = snapshot->as_object().if_contains("external_ids"); ids && ids->is_object()) {
        for (const auto& [key, value] : ids->as_object()) subject.external_ids[std::string(key)] = std::string(value.as_string());
      }
    }
    return subject;
  }
  // The data key that seals the subject's objects (an email-only subject has the hash).
  std::string key_person() const { return subject_id.empty() ? subject_hash : subject_id; }
};

sdk::Subject PrivacyRequests::subject_of(const ClaimedTask& task) {
  sdk::Subject subject = task.subject();
  // Before an erasure's snapshot (and for every other request) the account says which
  // addresses it had; after it, the snapshot does, since the account is gone.
  if (!task.subject_id.empty() && !task.details.contains("subject")) {
    for (const auto& address : accounts_.addresses(task.subject_id)) add_address(subject, address);
  }
  return subject;
}

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

bool PrivacyRequests::held(const std::string& subject_id) {
  if (subject_id.empty()) return false;
  soci::session sql(database_.pool());
  return held(sql, subject_id);
}

bool PrivacyRequests::held(soci::session& sql, const std::string& subject_id) {
  if (subject_id.empty()) return false;
  int count = 0;
  const long long now = now_();
  sql << "SELECT COUNT(*) FROM legal_holds WHERE subject_id = :s AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > :n)",
      soci::use(subject_id), soci::use(now), soci::into(count);
  return count > 0;
}

bool PrivacyRequests::account_frozen(const std::string& user_id) {
  if (user_id.empty()) return false;
  soci::session sql(database_.pool());
  if (!held(sql, user_id)) return false;
  int erasures = 0;
  const long long now = now_();
  // An erasure that has begun (a "delete my account" still in its grace period can be
  // canceled by signing in, so it does not freeze the account).
  sql << "SELECT COUNT(*) FROM privacy_requests WHERE subject_id = :s AND type = 'erasure'"
         " AND status IN ('pending', 'in_progress', 'on_hold') AND not_before <= :n",
      soci::use(user_id), soci::use(now), soci::into(erasures);
  return erasures > 0;
}

void PrivacyRequests::mail_hold_notice(db::WriteTransaction& transaction, const HoldNotice& notice) {
  if (notice.email.empty()) return;
  if (notice.placed) {
    mail_subject(transaction, notice.email, notice.user_id, "Your erasure request is on hold",
                 fmt::format("Your erasure request {} is on hold: the law requires us to keep some of your data for now.\n\n"
                             "Ground (GDPR Art. 17(3)): {}\n\n"
                             "While the hold applies your account is frozen: no one can sign in, create keys or make videos, "
                             "and the data under hold is kept untouched and used for nothing else. We will write again when "
                             "the hold ends; the erasure then completes.\n",
                             notice.request_id, notice.reason));
  } else {
    mail_subject(transaction, notice.email, notice.user_id, "The hold on your erasure request has ended",
                 fmt::format("The legal hold on your erasure request {} has ended. The erasure continues now; you will "
                             "receive its signed receipt when it is complete.\n",
                             notice.request_id));
  }
}

void PrivacyRequests::release_holds() {
  std::vector<HoldNotice> waiting;
  {
    soci::session sql(database_.pool());
    std::string request, subject, email;
    soci::indicator subject_indicator = soci::i_null, email_indicator = soci::i_null;
    soci::statement statement =
        (sql.prepare << "SELECT DISTINCT r.id, r.subject_id, r.subject_email FROM privacy_requests r"
                        " JOIN privacy_tasks t ON t.request_id = r.id WHERE t.status = 'on_hold' AND r.status = 'on_hold'",
         soci::into(request), soci::into(subject, subject_indicator), soci::into(email, email_indicator));
    statement.execute();
    while (statement.fetch()) {
      waiting.push_back({request, email_indicator == soci::i_ok ? email : "", subject_indicator == soci::i_ok ? subject : "", "",
                         false});
    }
  }
  for (const auto& notice : waiting) {
    if (held(notice.user_id)) continue;
    // The data key the hold kept goes first (see run_stop()); a crash before the tasks resume
    // leaves them on hold, and the next look destroys nothing twice.
    objects_.keys().destroy(notice.user_id);
    // Whoever moves the tasks off hold (several workers and the lift itself may try at once)
    // tells the requester, in the same transaction. The participants erase only once that
    // message went out (see claim), so the erasure of the person's mail takes it too.
    {
      soci::session sql(database_.pool());
      db::WriteTransaction transaction(sql, database_);
      const long long now = now_();
      soci::statement resume = (sql.prepare << "UPDATE privacy_tasks SET status = 'pending', next_attempt_at = :n, job_id = NULL"
                                               " WHERE request_id = :r AND status = 'on_hold'",
                                soci::use(now), soci::use(notice.request_id));
      resume.execute(true);
      if (resume.get_affected_rows() == 0) continue;
      mail_hold_notice(transaction, notice);
      schedule(transaction, notice.request_id);
      transaction.commit();
    }
    update_request_status(notice.request_id);
    Log::info("privacy", "legal hold ended; erasure resumes", {{"request_id", notice.request_id}});
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
  const long long now_ms = now_() * 1000;
  sql << "SELECT COUNT(*) FROM jobs WHERE queue = 'mail' AND subject_id = :s"
         " AND (state = 'running' OR (state = 'ready' AND run_at_ms <= :n))",
      soci::use(task.subject_id), soci::use(now_ms), soci::into(due);
  return due > 0;
}

bool PrivacyRequests::hold_task(const ClaimedTask& task) {
  if (task.type != "erasure" || task.participant == kStopStep || task.subject_id.empty()) return false;
  soci::session sql(database_.pool());
  if (!held(sql, task.subject_id)) return false;
  std::string reason;
  sql << "SELECT reason FROM legal_holds WHERE subject_id = :s AND lifted_at IS NULL ORDER BY placed_at LIMIT 1",
      soci::use(task.subject_id), soci::into(reason);
  const std::string status_reason = "legal hold: " + reason;
  const long long now = now_();
  db::WriteTransaction transaction(sql, database_);
  sql << "UPDATE privacy_tasks SET status = 'on_hold', job_id = NULL WHERE request_id = :r AND participant = :p AND job_id = :j",
      soci::use(task.request_id), soci::use(task.participant), soci::use(task.job_id);
  soci::statement hold = (sql.prepare << "UPDATE privacy_requests SET status = 'on_hold', status_reason = :why, updated_at = :n"
                                         " WHERE id = :r AND status <> 'on_hold'",
                          soci::use(status_reason), soci::use(now), soci::use(task.request_id));
  hold.execute(true);
  // Told once, when the request first waits (its data stays as it is until then).
  if (hold.get_affected_rows() == 1) {
    mail_hold_notice(transaction, {task.request_id, task.subject_email, task.subject_id, reason, true});
  }
  transaction.commit();
  return true;
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
    for (const auto& task : tasks) {
      if (task.status == "pending" || task.status == "running") ++open;
      if (task.status == "on_hold") ++holding;
      if (task.status == "failed") failed.push_back(task.participant);
      if (task.participant == kVerifyStep && task.outcome) {
        const auto outcome = parse_object(*task.outcome);
        if (const auto* left = outcome.if_contains("residue"); left && left->is_array() && !left->as_array().empty()) residue = true;
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
    const std::string final_status = closing_step_failed                 ? "failed"
                                     : !failed.empty() || residue        ? "completed_with_exceptions"
                                                                         : "completed";
    std::string reason;
    for (const auto& name : failed) reason += (reason.empty() ? "did not complete: " : ", ") + name;
    if (residue) reason += std::string(reason.empty() ? "" : "; ") + "data still found after erasure (see the receipt)";
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

fs::path PrivacyRequests::work_directory(const std::string& request_id) const { return config_.work_directory / request_id; }

sdk::Result<std::string> PrivacyRequests::run_access_part(const ClaimedTask& task) {
  const fs::path directory = work_directory(task.request_id);
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot create the export directory: " + ec.message());
  auto writer = std::make_shared<PartWriter>(directory, task.participant, objects_.keys().existing(task.key_person()));
  if (auto exported = participants_.export_subject(task.participant, subject_of(task), writer); !exported) {
    writer->abandon();
    return exported;
  }
  if (auto finished = writer->finish(); !finished) return finished;
  const auto count = writer->count();
  json::object datasets;
  for (const auto& [name, records] : count.datasets) datasets[name] = records;
  return json::serialize(json::object{{"records", count.records}, {"files", count.files}, {"datasets", datasets}});
}

sdk::Result<std::string> PrivacyRequests::run_archive(const ClaimedTask& task) {
  const fs::path directory = work_directory(task.request_id);
  std::vector<std::string> failed;
  std::vector<std::string> missing;
  std::vector<TaskView> parts;
  {
    soci::session sql(database_.pool());
    parts = select_tasks(sql, task.request_id);
  }
  for (const auto& part : parts) {
    if (part.participant == kArchiveStep) continue;
    if (part.status == "failed") failed.push_back(part.participant);
    if (part.status == "done" && !fs::exists(PartWriter::part_file(directory, part.participant))) missing.push_back(part.participant);
  }
  if (!missing.empty()) {
    // Parts are written on the node that exported them; one that took over (or lost its disk)
    // exports them again, and the archive waits for them.
    const long long now = now_();
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    for (const auto& participant : missing) {
      sql << "UPDATE privacy_tasks SET status = 'pending', attempts = 0, next_attempt_at = :n, job_id = NULL"
             " WHERE request_id = :r AND participant = :p",
          soci::use(now), soci::use(task.request_id), soci::use(participant);
    }
    sql << "UPDATE privacy_tasks SET status = 'pending', next_attempt_at = :n, job_id = NULL WHERE request_id = :r AND participant = :p",
        soci::use(now), soci::use(task.request_id), soci::use(task.participant);
    schedule(transaction, task.request_id);
    transaction.commit();
    return sdk::Outcome::failure(sdk::Status::unavailable, "export parts missing on this node; exporting them again");
  }
  auto archive = open_archive(directory, participants_.all(), failed, task.request_id, config_.contact);
  if (!archive) return archive.outcome();
  const auto bytes = archive->size;
  const std::string object = task.request_id + ".zip";
  if (auto stored = objects_.put({std::string(kExportOwner), object}, std::move(archive->source), task.key_person()); !stored) {
    return stored;
  }
  std::error_code ec;
  fs::remove_all(directory, ec);
  const std::string token = crypto::random_token("dl_");
  const std::string token_hash = crypto::token_hash(token);
  const long long expires = now_() + config_.export_link_seconds;
  {
    soci::session sql(database_.pool());
    db::WriteTransaction transaction(sql, database_);
    sql << "UPDATE privacy_requests SET export_object = :o, export_expires_at = :e, download_token_hash = :t WHERE id = :id",
        soci::use(object), soci::use(expires), soci::use(token_hash), soci::use(task.request_id);
    if (!task.subject_email.empty()) {
      const std::string link = fmt::format("{}/v1/privacy/requests/{}/download?token={}", config_.public_url, task.request_id, token);
      mail_subject(transaction, task.subject_email, task.subject_id, "Your data is ready to download",
                   fmt::format("The copy of your personal data you asked for (request {}) is ready:\n\n{}\n\n"
                               "The link works only for you and expires in {} days. The archive's README explains each file.\n",
                               task.request_id, link, config_.export_link_seconds / 86400));
    }
    transaction.commit();
  }
  return json::serialize(json::object{{"bytes", bytes}, {"incomplete", failed.size()}});
}

sdk::Result<std::string> PrivacyRequests::run_stop(const ClaimedTask& task) {
  // No new processing: every core store ends what runs for the person (sessions, keys, jobs)
  // and says what else they are known by, kept until the erasure ends.
  personal_data::ProcessingStopped stopped;
  if (!task.subject_id.empty()) {
    if (auto ended = participants_.stop_processing(task.subject_id, stopped); !ended) return ended;
  }
  json::object snapshot{{"emails", json::array{}}, {"external_ids", json::object{}}};
  for (const auto& address : stopped.addresses) snapshot["emails"].as_array().emplace_back(address);
  for (const auto& [kind, id] : stopped.external_ids) snapshot["external_ids"].as_object()[kind] = id;
  json::object details = task.details;
  details["subject"] = snapshot;
  {
    const std::string text = json::serialize(details);
    soci::session sql(database_.pool());
    sql << "UPDATE privacy_requests SET details = :d WHERE id = :id", soci::use(text), soci::use(task.request_id);
  }
  // Crypto-shredding first: from here every sealed copy, backups included, is unreadable. Under
  // a legal hold the key stays until the hold ends (the held data must stay readable); the
  // end of the hold destroys it (release_holds()).
  json::object outcome = std::move(stopped.outcome);
  const bool hold = held(task.subject_id);
  outcome["data_key_destroyed"] = hold ? false : objects_.keys().destroy(task.key_person());
  outcome["data_key_deferred_by_hold"] = hold;
  return json::serialize(outcome);
}

sdk::Result<std::string> PrivacyRequests::run_erase(const ClaimedTask& task) {
  auto erased = participants_.erase_subject(task.participant, subject_of(task));
  if (!erased) return erased.outcome();
  return json::serialize(json::object{{"records_removed", erased->records_removed},
                                      {"files_removed", erased->files_removed},
                                      {"detail", erased->detail}});
}

sdk::Result<std::string> PrivacyRequests::run_rectify(const ClaimedTask& task) {
  const auto* change = task.details.if_contains("rectification");
  if (!change || !change->is_object()) return json::serialize(json::object{{"applied", false}});
  const sdk::Rectification rectification{string_at(change->as_object(), "field"), string_at(change->as_object(), "old_value"),
                                         string_at(change->as_object(), "new_value")};
  if (auto applied = participants_.rectify(task.participant, subject_of(task), rectification); !applied) return applied;
  return json::serialize(json::object{{"applied", true}, {"field", rectification.field}});
}

sdk::Result<std::string> PrivacyRequests::run_preference(const ClaimedTask& task) {
  // The person's choice as it stands now, not as it was when the request was made: an opt-out
  // and an opt-in in quick succession may run in either order, and the later state wins.
  const std::string category = string_at(task.details, "category");
  const auto user = accounts_.find(task.subject_id);
  const bool allowed = user && accounts_.preferences(task.subject_id)[category];
  const sdk::Subject subject = subject_of(task);
  if (!allowed) {
    if (auto applied = participants_.apply_opt_out(task.participant, subject, category); !applied) return applied;
    return json::serialize(json::object{{"applied", "opt_out"}, {"category", category}});
  }
  if (!user->email_verified) {
    return json::serialize(json::object{{"applied", "nothing"}, {"category", category}, {"reason", "the address is not verified"}});
  }
  const sdk::Outcome lifted = participants_.lift_opt_out(task.participant, subject, category);
  if (lifted.status() == sdk::Status::unsupported) {
    // A plugin built against privacy 1.0 has no lift_opt_out(): said, not retried.
    return json::serialize(json::object{{"applied", "nothing"}, {"category", category}, {"reason", lifted.message()}});
  }
  if (!lifted) return lifted;
  return json::serialize(json::object{{"applied", "opt_in"}, {"category", category}});
}

std::vector<std::string> PrivacyRequests::identifiers_of(const sdk::Subject& subject) const {
  std::vector<std::string> identifiers;
  if (!subject.user_id.empty()) identifiers.push_back(subject.user_id);
  for (const auto& address : subject.email_addresses) {
    identifiers.push_back(address);
    // The rows the core files under an address without naming it.
    identifiers.push_back(accounts::sign_in_throttle_key(address_key_secret_, address));
    identifiers.push_back(accounts::mail_throttle_key(address_key_secret_, address));
  }
  for (const auto& [kind, id] : subject.external_ids) identifiers.push_back(id);
  return identifiers;
}

sdk::Result<std::string> PrivacyRequests::run_verify(const ClaimedTask& task) {
  const sdk::Subject subject = subject_of(task);
  json::array residue;
  for (const auto& participant : participants_.all()) {
    auto counter = std::make_shared<CountingSink>();
    if (auto exported = participants_.export_subject(participant.name, subject, counter); !exported) {
      return sdk::Outcome::failure(exported.status(), "verification could not read " + participant.name + ": " + exported.message());
    }
    if (counter->items() > 0) residue.emplace_back(participant.name);
  }
  if (objects_.keys().existing(task.key_person())) residue.emplace_back("data_keys");
  // Whatever the participants' code knows to look for, every row of the core's database that
  // still names the person counts (table and column only: the receipt names no one).
  for (const auto& hit : scan_for_residue(database_, identifiers_of(subject), task.request_id)) {
    residue.emplace_back(fmt::format("core:{}.{}", hit.table, hit.column));
  }

  // The receipt: per participant what was removed and when, signed. No personal data: the
  // subject appears only as a keyed hash.
  long long created = 0;
  std::vector<TaskView> done_steps;
  {
    soci::session sql(database_.pool());
    sql << "SELECT created_at FROM privacy_requests WHERE id = :id", soci::use(task.request_id), soci::into(created);
    done_steps = select_tasks(sql, task.request_id);
  }
  json::array steps;
  for (const auto& step : done_steps) {
    if (step.participant == kVerifyStep) continue;
    json::object entry{{"participant", step.participant}, {"status", step.status}};
    if (step.outcome) entry["outcome"] = parse_object(*step.outcome);
    if (step.completed_at) entry["completed_at"] = *step.completed_at;
    if (step.status == "failed" && step.last_error) entry["error"] = *step.last_error;
    steps.push_back(std::move(entry));
  }
  const long long now = now_();
  const std::string payload = json::serialize(json::object{{"kind", "framehouse.erasure-receipt.v1"},
                                                           {"request_id", task.request_id},
                                                           {"subject", task.subject_hash},
                                                           {"requested_at", created},
                                                           {"completed_at", now},
                                                           {"steps", steps},
                                                           {"verified_empty", residue.empty()},
                                                           {"residue", residue}});
  const std::string receipt = json::serialize(json::object{
      {"payload", payload}, {"signature", signer_.sign(payload)}, {"algorithm", "Ed25519"}, {"key_id", signer_.key_id()}});
  changed_rows(database_, "UPDATE privacy_requests SET receipt = :r WHERE id = :id", soci::use(receipt), soci::use(task.request_id));
  // Requests planned before the receipt became a step of its own get it now.
  const long long now_again = now_();
  changed_rows(database_,
               "INSERT INTO privacy_tasks (request_id, participant, stage, status, attempts, next_attempt_at)"
               " VALUES (:r, :p, 4, 'pending', 0, :n) ON CONFLICT (request_id, participant) DO NOTHING",
               soci::use(task.request_id), soci::use(std::string(kReceiptStep)), soci::use(now_again));
  return json::serialize(json::object{{"residue", residue}});
}

sdk::Outcome PrivacyRequests::flush_deleted_rows(const std::string& request_id) {
  // A reader holding an older snapshot (a backup, a long report) keeps the log from being
  // truncated. A few short tries here; past them the step fails and is retried with backoff,
  // so no worker or pooled connection waits on a backup for long.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    if (database_.flush_deleted_rows().complete) return {};
  }
  metrics_.count("framehouse_privacy_erasure_log_flush_blocked_total",
                 "Erasures that could not yet overwrite deleted rows in the database's write-ahead log (a reader holds an "
                 "old snapshot); each is retried and not reported complete until it can.",
                 "backend", database_.dialect().name());
  const std::string reason =
      "the database still holds the deleted rows in its write-ahead log while another connection reads an older snapshot;"
      " retrying, and not complete until they are overwritten";
  changed_rows(database_, "UPDATE privacy_requests SET status_reason = :why WHERE id = :id", soci::use(reason),
               soci::use(request_id));
  return sdk::Outcome::failure(sdk::Status::unavailable, reason);
}

sdk::Result<std::string> PrivacyRequests::run_receipt(const ClaimedTask& task) {
  json::object outcome;
  int failed = 0;
  std::string receipt, email;
  soci::indicator receipt_indicator = soci::i_null, email_indicator = soci::i_null;
  {
    soci::session sql(database_.pool());
    sql << "SELECT COUNT(*) FROM privacy_tasks WHERE request_id = :id AND status = 'failed'", soci::use(task.request_id),
        soci::into(failed);
    sql << "SELECT receipt, subject_email FROM privacy_requests WHERE id = :id", soci::use(task.request_id),
        soci::into(receipt, receipt_indicator), soci::into(email, email_indicator);
  }
  // With a failed step the subject stays on the request so that an operator can retry it.
  const bool anonymise = failed == 0;
  if (anonymise) {
    // Only non-identifying data stays: id, the keyed hash of the subject, outcomes, receipt —
    // and the address until the receipt has gone to it.
    changed_rows(database_, "UPDATE privacy_requests SET subject_id = NULL, details = '{}', client_hash = NULL WHERE id = :id",
                 soci::use(task.request_id));
    // The receipt says "erased": not while the deleted rows can still be read.
    if (auto flushed = flush_deleted_rows(task.request_id); !flushed) return flushed;
  }
  if (email_indicator == soci::i_ok && receipt_indicator == soci::i_ok) {
    const std::string token = crypto::random_token("rcpt_");
    const std::string token_hash = crypto::token_hash(token);
    const long long expires = now_() + config_.receipt_link_seconds;
    {
      // The link, the message (queued in the outbox, which retries a provider that is down)
      // and forgetting the address: all or nothing.
      soci::session sql(database_.pool());
      db::WriteTransaction transaction(sql, database_);
      sql << "UPDATE privacy_requests SET receipt_token_hash = :t, receipt_expires_at = :e WHERE id = :id",
          soci::use(token_hash), soci::use(expires), soci::use(task.request_id);
      if (const sdk::Outcome queued = mail_receipt(transaction, email, task.request_id, receipt, token, anonymise); !queued) {
        return queued;
      }
      if (anonymise) sql << "UPDATE privacy_requests SET subject_email = NULL WHERE id = :id", soci::use(task.request_id);
      transaction.commit();
    }
    outcome["receipt_queued"] = true;
    if (anonymise) {
      if (auto flushed = flush_deleted_rows(task.request_id); !flushed) return flushed;
    }
  }
  changed_rows(database_, "UPDATE privacy_requests SET status_reason = NULL WHERE id = :id", soci::use(task.request_id));
  outcome["anonymised"] = anonymise;
  return json::serialize(outcome);
}

sdk::Outcome PrivacyRequests::mail_receipt(db::WriteTransaction& transaction, const std::string& email, const std::string& request_id, const std::string& receipt,
                                           const std::string& token, bool every_step_done) {
  // About no one any more (the account is gone): the provider files it under no user, and the
  // erasure of the person's mail, which ran before, leaves it to be delivered.
  const std::string outcome = every_step_done
                                  ? "is complete"
                                  : "has ended, but a part of the system could not finish its part yet; the receipt names it, "
                                    "and we will complete it and send a new receipt";
  mail::Message message{email, "Your personal data has been erased",
                        fmt::format("Your erasure request {} {}. The signed receipt of what each part of the system "
                                    "removed is attached (erasure-receipt.json), and can be fetched for {} days at\n\n"
                                    "{}/v1/privacy/receipts/{}\n\n"
                                    "Anyone can check its signature with the public key at {}/.well-known/framehouse-receipt-key "
                                    "(see the privacy documentation for the openssl commands).\n\n"
                                    "This is the last message we send to this address; we no longer hold it.\n\n{}",
                                    request_id, outcome, config_.receipt_link_seconds / 86400, config_.public_url, token,
                                    config_.public_url, privacy_contact_line(config_.contact)),
                        "account",
                        ""};
  message.attachments.push_back({"erasure-receipt.json", "application/json", receipt});
  message.to_erased_person = true;
  return mailer_.queue(transaction, message);
}

sdk::Result<std::string> PrivacyRequests::receipt_by_token(const std::string& token) {
  const std::string hash = crypto::token_hash(token);
  std::string receipt;
  long long expires = 0;
  soci::indicator receipt_indicator = soci::i_null;
  {
    soci::session sql(database_.pool());
    sql << "SELECT receipt, receipt_expires_at FROM privacy_requests WHERE receipt_token_hash = :h", soci::use(hash),
        soci::into(receipt, receipt_indicator), soci::into(expires);
    if (!sql.got_data() || receipt_indicator != soci::i_ok || expires < now_()) {
      return sdk::Outcome::failure(sdk::Status::not_found, "no receipt for this link (it may have expired)");
    }
  }
  return receipt;
}

namespace {

// Where a subject's earlier requests are found: by account, and by address (someone who asked
// by email without an account). The column is one of two fixed names.
std::vector<std::pair<std::string, std::string>> request_keys(const sdk::Subject& subject) {
  std::vector<std::pair<std::string, std::string>> keys;
  if (!subject.user_id.empty()) keys.emplace_back("subject_id", subject.user_id);
  for (const auto& email : subject.email_addresses) keys.emplace_back("subject_email", email);
  return keys;
}

// An erasure being carried out (verified and not ended) is the processing itself, not data kept
// about the person. Everything else goes: finished requests, and intakes nobody confirmed.
constexpr const char* kNotTheErasureUnderWay = " AND NOT (type = 'erasure' AND status IN ('pending', 'in_progress', 'on_hold'))";

}  // namespace

sdk::Outcome RequestsParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  std::set<std::string> seen;
  for (const auto& [column, value] : request_keys(subject)) {
    for (const auto& request : select_requests(sql, "WHERE " + column + " = :v" + kNotTheErasureUnderWay + " ORDER BY created_at, id",
                                               {{{"v", value}}, {}})) {
      if (!seen.insert(request.id).second) continue;
      json::object record{{"id", request.id},         {"type", request.type},           {"source", request.source},
                          {"status", request.status}, {"created_at", request.created_at}, {"due_at", request.due_at}};
      if (request.completed_at) record["completed_at"] = *request.completed_at;
      if (auto written = sink.record("privacy_requests", json::serialize(record)); !written) return written;
    }
  }
  return {};
}

sdk::Result<sdk::ErasureReport> RequestsParticipant::erase_subject(const sdk::Subject& subject) {
  sdk::ErasureReport report;
  soci::session sql(database_.pool());
  for (const auto& [column, value] : request_keys(subject)) {
    // Earlier access exports are the person's data too.
    std::vector<std::string> exports;
    std::string object;
    soci::statement exported = (sql.prepare << "SELECT export_object FROM privacy_requests WHERE " + column +
                                                   " = :v AND export_object IS NOT NULL" + kNotTheErasureUnderWay,
                                soci::use(value), soci::into(object));
    exported.execute();
    while (exported.fetch()) exports.push_back(object);
    for (const auto& name : exports) {
      if (auto removed = objects_.remove({std::string(kExportOwner), name}); !removed) return removed;
      ++report.files_removed;
    }
    soci::statement deleted =
        (sql.prepare << "DELETE FROM privacy_requests WHERE " + column + " = :v" + kNotTheErasureUnderWay, soci::use(value));
    deleted.execute(true);
    report.records_removed += static_cast<std::uint64_t>(deleted.get_affected_rows());
  }
  if (!subject.user_id.empty()) {
    // Holds that ended have served their purpose; an active one keeps the erasure from reaching here.
    const long long now = unix_now();
    soci::statement ended = (sql.prepare << "DELETE FROM legal_holds WHERE subject_id = :s AND (lifted_at IS NOT NULL"
                                            " OR (expires_at IS NOT NULL AND expires_at <= :n))",
                             soci::use(subject.user_id), soci::use(now));
    ended.execute(true);
    report.records_removed += static_cast<std::uint64_t>(ended.get_affected_rows());
  }
  report.detail = fmt::format("{} earlier privacy requests, ended holds and {} exports deleted", report.records_removed,
                              report.files_removed);
  return report;
}

}  // namespace framehouse::privacy
