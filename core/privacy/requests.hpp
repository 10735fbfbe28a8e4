// Privacy requests — access, erasure, rectification — from intake to a verified, receipted
// end. All state is in SQL: one row per request, one row per (request × participant) task
// with its status, attempts, next attempt time and outcome. A task that may run (its earlier
// stages settled) gets a job on the core's job queue (queue "privacy"), in the transaction
// that made it ready; the queue's lease, retries and dead letter carry it, so a crash at any
// point is resumed by a restarted server or by another node.
//
// Stages of each request type (tasks of a stage run once the earlier stages are settled):
//   access:        1 every participant exports its part   2 "archive" joins, stores, mails the link
//   erasure:       0 "stop": every core store stops processing the person (sessions and keys
//                    end, jobs cancel) and says what else they are known by; data key destroyed
//                  1 every plugin erases                  2 "core" erases its rows, last
//                  3 "verify" re-exports everything and scans the core's tables (both must
//                    find nothing), and signs the receipt
//                  4 "receipt" anonymises the request, waits until the database's own files
//                    no longer hold the deleted rows, mails the receipt with a link to it
//   opt_out/opt_in: 1 each plugin applies the person's current choice (an email provider
//                    suppresses, or lifts the suppression of, the category)
//   rectification: 1 "core" applies the change           2 each plugin holding the field
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.hpp"
#include "db/database.hpp"
#include "jobs/job_runner.hpp"
#include "mail/mailer.hpp"
#include "observability/metrics.hpp"
#include "privacy/participants.hpp"
#include "privacy/receipt_signer.hpp"
#include "personal_data/store.hpp"
#include "storage/object_store.hpp"
#include "workers/worker_pool.hpp"

namespace framehouse::privacy {

struct PrivacyConfig {
  std::int64_t access_due_seconds = 30LL * 24 * 3600;
  std::int64_t erasure_due_seconds = 30LL * 24 * 3600;
  std::int64_t rectification_due_seconds = 30LL * 24 * 3600;
  std::int64_t opt_out_due_seconds = 2LL * 24 * 3600;  // Gmail/Yahoo: unsubscribes within 2 days
  std::int64_t extension_seconds = 60LL * 24 * 3600;  // GDPR Art. 12(3): two further months
  std::int64_t deletion_grace_seconds = 0;
  std::int64_t export_link_seconds = 7LL * 24 * 3600;
  std::int64_t receipt_link_seconds = 90LL * 24 * 3600;  // the erasure receipt's mailed link
  int workers = 1;
  int max_attempts = 5;
  std::int64_t retry_base_seconds = 10;
  std::int64_t lease_seconds = 120;
  int intake_per_address_per_hour = 3;
  int intake_per_client_per_hour = 10;
  std::string contact = "privacy@localhost";
  std::string public_url;
  std::filesystem::path work_directory;  // exports are assembled here
};

inline constexpr std::string_view kRequestTypes[] = {"access", "erasure", "rectification"};
// Art. 17(3) GDPR: why erasure may wait.
inline constexpr std::string_view kHoldReasons[] = {"freedom_of_expression", "legal_obligation", "public_health",
                                                    "archiving_research_statistics", "legal_claims"};

struct TaskView {
  std::string participant;
  int stage = 0;
  std::string status;  // pending | running | done | failed | on_hold
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::optional<std::string> last_error;
  std::optional<std::string> outcome;  // JSON
  std::optional<std::int64_t> completed_at;
};

struct RequestView {
  std::string id;
  std::string type;
  std::string source;  // user | account_deletion | email | admin | underage
  std::string status;  // unverified | pending | in_progress | completed | completed_with_exceptions | on_hold | failed | canceled
  std::optional<std::string> status_reason;
  std::optional<std::string> subject_id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t not_before = 0;
  std::int64_t due_at = 0;
  std::optional<std::string> extension_reason;
  std::optional<std::int64_t> completed_at;
  std::optional<std::int64_t> export_expires_at;
  bool export_ready = false;
  std::optional<std::string> receipt;  // JSON
  std::string details;                 // JSON
  std::vector<TaskView> tasks;         // filled on request
};

struct NewRequest {
  std::string type;
  std::string source;
  std::string subject_id;  // may be empty for an email-only subject
  std::string subject_email;
  std::optional<sdk::Rectification> rectification;
  std::string reference;  // an admin's ticket
  std::string actor = "system";  // who asked: a user's or an admin's id (for the audit log)
  std::string category;          // opt_out and opt_in: the category the person turned off or on
};

struct Submission {
  RequestView request;
  bool duplicate = false;  // an open request of the same type for the subject was returned
};

struct IntakeVerification {
  std::string request_id;  // the open duplicate's id when there was one
  bool duplicate = false;
};

struct LegalHold {
  std::string id;
  std::string subject_id;
  std::string reason;
  std::string reference;
  std::optional<std::int64_t> expires_at;
  std::string placed_by;
  std::int64_t placed_at = 0;
  std::optional<std::int64_t> lifted_at;
};

struct RequestFilter {
  std::string status;
  std::string type;
  bool overdue_only = false;
  std::size_t limit = 100;
};

struct Download {
  sdk::ObjectKey key;
  std::string person;  // whose data key opens it
  std::uint64_t size = 0;
};

// The keyed hash a finished request keeps of its subject (and an unlinked disclosure record).
std::string subject_pseudonym(db::Database& database, const std::string& subject);
inline constexpr const char* kSubjectKeyName = "privacy_subject_key";

class PrivacyRequests {
 public:
  PrivacyRequests(db::Database& database, Participants& participants, accounts::Accounts& accounts,
                  storage::ObjectStore& objects, mail::Mailer& mailer, const ReceiptSigner& signer,
                  observability::Metrics& metrics, audit::AuditLog& audit, PrivacyConfig config,
                  UnixClock clock = unix_now);
  ~PrivacyRequests();  // stops the workers

  // A verified request (signed-in user, admin, underage report). An open request of the same
  // type for the same subject is returned instead of a second one.
  Submission submit(const NewRequest& request);
  // "Delete my account": an erasure that starts after the configured grace period.
  Submission delete_account(const std::string& user_id);
  // An opt-out the core has recorded already, pushed to every plugin that holds personal data
  // (an email provider adds the address to its suppression list). Its duration, request to
  // last acknowledgement, is the metric framehouse_privacy_opt_out_seconds.
  void fan_out_opt_out(const std::string& user_id, const std::string& category);
  // The verified owner turned a category back on: every plugin lifts what the opt-out left.
  void fan_out_opt_in(const std::string& user_id, const std::string& category);
  // Whether an erasure of the account has begun and waits under a legal hold: then no new
  // session, key or job may start (Accounts asks before every sign-in).
  bool account_frozen(const std::string& user_id);

  // Intake for someone who cannot sign in: a 6-digit code is mailed to the address. Returns
  // the request id, or Status::conflict (as a throttle) when too many codes went out lately.
  sdk::Result<std::string> intake(const std::string& email, const std::string& type, const std::string& client_address);
  // Status::invalid_argument for a wrong code (the third ends the request), Status::not_found
  // for an unknown, expired or already verified request. Returns the request id it became
  // (an open duplicate's id, if there was one).
  sdk::Result<IntakeVerification> verify_intake(const std::string& request_id, const std::string& code);

  std::optional<RequestView> find(const std::string& id, bool with_tasks = false);
  std::vector<RequestView> list_for(const std::string& subject_id);
  std::vector<RequestView> list(const RequestFilter& filter);

  // Status::conflict when the request already ended or is past the point of no return
  // (erasure under way).
  // `actor` (a user's or admin's id) goes into the audit log.
  sdk::Outcome cancel(const std::string& id, const std::string& reason, const std::string& actor);
  // Once per request: due date moved by the configured extension, reason kept.
  sdk::Outcome extend(const std::string& id, const std::string& reason, const std::string& actor);
  // Failed tasks go back to the queue with a fresh count.
  sdk::Outcome retry(const std::string& id, const std::string& actor);

  LegalHold place_hold(const std::string& subject_id, const std::string& reason, const std::string& reference,
                       std::optional<std::int64_t> expires_at, const std::string& placed_by);
  bool lift_hold(const std::string& id, const std::string& actor);
  std::vector<LegalHold> holds(const std::string& subject_id);

  // The export of a completed access request, for the subject signed in or the emailed token.
  sdk::Result<Download> download(const std::string& id, const std::string& user_id, const std::string& token);

  void start_workers();
  void stop_workers();
  // Ends expired holds, then runs one due task on the calling thread (what each worker does);
  // false when none is due.
  bool run_one(const std::string& worker);
  // Deletes exports past their link's expiry. Returns how many.
  std::int64_t purge_expired_exports();
  // Deletes intakes nobody confirmed (and intakes that ended unconfirmed) a day after their
  // code expired, with the address they were filed under. Returns how many.
  std::int64_t purge_unconfirmed_intakes();
  // A finished erasure's signed receipt, for whoever holds the link mailed with it.
  sdk::Result<std::string> receipt_by_token(const std::string& token);
  // Open requests past their due date.
  std::int64_t overdue_count();

  const ReceiptSigner& signer() const { return signer_; }
  std::string subject_hash(const std::string& subject) const;

 private:
  struct ClaimedTask;
  std::string create(soci::session& sql, const NewRequest& request, const std::string& status, std::int64_t not_before);
  void plan_tasks(soci::session& sql, const std::string& id, const std::string& type,
                  const std::optional<sdk::Rectification>& rectification);
  sdk::Outcome check_intake_code(const std::string& request_id, const std::string& code, std::string& email, std::string& type);
  // A legal hold that began or ended, to be told to the requester.
  struct HoldNotice {
    std::string request_id;
    std::string email;
    std::string user_id;
    std::string reason;  // the Art. 17(3) ground's code
    bool placed = true;  // false: lifted
  };
  static jobs::QueueOptions queue_options(const PrivacyConfig& config);
  // Gives every task of the request (or of every open request) that may run now a job.
  void schedule(db::WriteTransaction& transaction, const std::optional<std::string>& request_id);
  // The task a job runs, or nullopt when it has nothing to do (see load_task()).
  std::optional<ClaimedTask> load_task(const jobs::Job& job);
  jobs::JobResult run_job(const jobs::Job& job);
  // An erasure's plugin step waits while mail to the person is still due.
  bool mail_due_for(const ClaimedTask& task);
  // Puts an erasure step of a held subject on hold (telling them the first time); false if
  // no hold applies.
  bool hold_task(const ClaimedTask& task);
  void mail_hold_notice(db::WriteTransaction& transaction, const HoldNotice& notice);
  // The task's subject with every address the account is or was known by.
  sdk::Subject subject_of(const ClaimedTask& task);
  // What the core's tables may name the subject by (see residue_scan.hpp).
  std::vector<std::string> identifiers_of(const sdk::Subject& subject) const;
  void run(const ClaimedTask& task);
  sdk::Result<std::string> run_access_part(const ClaimedTask& task);
  sdk::Result<std::string> run_archive(const ClaimedTask& task);
  sdk::Result<std::string> run_stop(const ClaimedTask& task);
  sdk::Result<std::string> run_erase(const ClaimedTask& task);
  sdk::Result<std::string> run_verify(const ClaimedTask& task);
  sdk::Result<std::string> run_rectify(const ClaimedTask& task);
  sdk::Result<std::string> run_receipt(const ClaimedTask& task);
  sdk::Result<std::string> run_preference(const ClaimedTask& task);
  // Waits (briefly) until the database no longer holds deleted rows in its own files; says why
  // on the request and in a metric when it cannot yet.
  sdk::Outcome flush_deleted_rows(const std::string& request_id);
  // `every_step_done`: false when a step failed (the receipt says which; a retry mails anew).
  sdk::Outcome mail_receipt(db::WriteTransaction& transaction, const std::string& email, const std::string& request_id, const std::string& receipt,
                            const std::string& token, bool every_step_done);
  jobs::JobResult settle(const ClaimedTask& task, const sdk::Result<std::string>& result);
  void update_request_status(const std::string& id);
  void fan_out_preference(const std::string& type, const std::string& user_id, const std::string& category);
  void release_holds();
  bool held(const std::string& subject_id);
  bool held(soci::session& sql, const std::string& subject_id);
  std::filesystem::path work_directory(const std::string& request_id) const;
  // Queued with the change it tells of; or in a transaction of its own.
  void mail_subject(db::WriteTransaction& transaction, const std::string& email, const std::string& user_id,
                    const std::string& subject, const std::string& body);
  void mail_subject(const std::string& email, const std::string& user_id, const std::string& subject, const std::string& body);

  db::Database& database_;
  Participants& participants_;
  accounts::Accounts& accounts_;
  storage::ObjectStore& objects_;
  mail::Mailer& mailer_;
  const ReceiptSigner& signer_;
  observability::Metrics& metrics_;
  audit::AuditLog& audit_;
  PrivacyConfig config_;
  UnixClock now_;
  std::string subject_key_;
  std::string address_key_secret_;

  static constexpr std::string_view kQueueName = "privacy";
  jobs::JobQueue queue_;
  jobs::JobRunner runner_;
  // Looks for legal holds that expired.
  workers::WorkerPool hold_watch_{"privacy", std::chrono::seconds(5)};
};

// The core's privacy records as part of the core participant: a person's earlier requests (and
// their exports) are theirs to see; on erasure they go, except the erasure under way, which
// ends anonymised.
class RequestsParticipant final : public personal_data::RecordsStore {
 public:
  RequestsParticipant(db::Database& database, storage::ObjectStore& objects) : database_(database), objects_(objects) {}
  std::string_view name() const override { return "privacy_requests"; }
  std::vector<std::string> categories() const override { return {"privacy_requests", "email_address"}; }
  std::vector<std::string> tables() const override { return {"privacy_requests", "privacy_tasks", "legal_holds"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
  sdk::Result<sdk::ErasureReport> erase_subject(const sdk::Subject& subject) override;

 private:
  db::Database& database_;
  storage::ObjectStore& objects_;
};

}  // namespace framehouse::privacy
