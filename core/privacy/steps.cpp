// Each kind of step a privacy task runs: a participant's export, erasure, rectification or
// choice, and the request's own steps — stopping processing, the archive, the verification
// with its signed receipt, and the receipt's delivery.
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "observability/log.hpp"
#include "privacy/export_archive.hpp"
#include "privacy/policy.hpp"
#include "privacy/request_rows.hpp"
#include "privacy/requests.hpp"
#include "privacy/task.hpp"
#include "privacy/residue_scan.hpp"

namespace framehouse::privacy {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using observability::Log;

}  // namespace

sdk::Subject PrivacyRequests::subject_of(const ClaimedTask& task) {
  sdk::Subject subject = task.subject();
  // Before an erasure's snapshot (and for every other request) the account says which
  // addresses it had; after it, the snapshot does, since the account is gone.
  if (!task.subject_id.empty() && !task.details.contains("subject")) {
    for (const auto& address : accounts_.addresses(task.subject_id)) add_address(subject, address);
  }
  return subject;
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
  std::vector<std::string> not_removed;
  auto erased = participants_.erase_subject(task.participant, subject_of(task), not_removed);
  if (!erased) return erased.outcome();
  json::object outcome{{"records_removed", erased->records_removed},
                       {"files_removed", erased->files_removed},
                       {"detail", erased->detail}};
  if (!not_removed.empty()) outcome["not_removed"] = json::value_from(not_removed);
  return json::serialize(outcome);
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

}  // namespace framehouse::privacy
