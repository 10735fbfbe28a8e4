// Legal holds (GDPR Art. 17(3)) on erasures: placing and lifting them, what they freeze, the
// tasks they keep waiting, and the mail that tells the requester both ways.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"

namespace framehouse::privacy {
namespace {

namespace json = boost::json;
using observability::Log;

}  // namespace

LegalHold PrivacyRequests::place_hold(const std::string& subject_id, const std::string& reason, const std::string& reference,
                                      std::optional<std::int64_t> expires_at, const std::string& placed_by) {
  LegalHold hold{crypto::time_ordered_id("hold_"), subject_id, reason, reference, expires_at, placed_by, now_(), std::nullopt};
  const long long placed = hold.placed_at;
  const long long expires = expires_at.value_or(0);
  soci::indicator expires_indicator = expires_at ? soci::i_ok : soci::i_null;
  changed_rows(database_,
               "INSERT INTO legal_holds (id, subject_id, reason, reference, expires_at, placed_by, placed_at)"
               " VALUES (:id, :s, :r, :ref, :e, :b, :t)",
               soci::use(hold.id), soci::use(subject_id), soci::use(reason), soci::use(reference),
               soci::use(expires, expires_indicator), soci::use(placed_by), soci::use(placed));
  Log::info("privacy", "legal hold placed", {{"hold_id", hold.id}, {"reason", reason}});
  audit_.record(placed_by, "privacy.hold_placed", hold.id, json::serialize(json::object{{"subject", subject_id}, {"reason", reason}}));
  return hold;
}

bool PrivacyRequests::lift_hold(const std::string& id, const std::string& actor) {
  const long long now = now_();
  if (changed_rows(database_, "UPDATE legal_holds SET lifted_at = :n WHERE id = :id AND lifted_at IS NULL", soci::use(now),
                   soci::use(id)) == 0) {
    return false;
  }
  Log::info("privacy", "legal hold lifted", {{"hold_id", id}});
  audit_.record(actor, "privacy.hold_lifted", id);
  release_holds();
  return true;
}

std::vector<LegalHold> PrivacyRequests::holds(const std::string& subject_id) {
  soci::session sql(database_.pool());
  std::vector<LegalHold> out;
  LegalHold hold;
  long long placed = 0, expires = 0, lifted = 0;
  soci::indicator expires_indicator = soci::i_null, lifted_indicator = soci::i_null;
  const int all_subjects = subject_id.empty() ? 1 : 0;
  soci::statement statement =
      (sql.prepare << "SELECT id, subject_id, reason, reference, expires_at, placed_by, placed_at, lifted_at FROM legal_holds"
                      " WHERE (:all_subjects = 1 OR subject_id = :s) ORDER BY placed_at, id",
       soci::use(all_subjects), soci::use(subject_id), soci::into(hold.id), soci::into(hold.subject_id),
       soci::into(hold.reason), soci::into(hold.reference), soci::into(expires, expires_indicator), soci::into(hold.placed_by),
       soci::into(placed), soci::into(lifted, lifted_indicator));
  statement.execute();
  while (statement.fetch()) {
    hold.placed_at = placed;
    hold.expires_at = expires_indicator == soci::i_ok ? std::optional<std::int64_t>(expires) : std::nullopt;
    hold.lifted_at = lifted_indicator == soci::i_ok ? std::optional<std::int64_t>(lifted) : std::nullopt;
    out.push_back(hold);
  }
  return out;
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

}  // namespace framehouse::privacy
