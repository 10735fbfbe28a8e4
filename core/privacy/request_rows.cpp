#include "privacy/request_rows.hpp"

namespace framehouse::privacy {
namespace {

long long integer(const soci::row& row, const std::string& name) { return db::row_integer(row, name); }

std::optional<long long> optional_integer(const soci::row& row, const std::string& name) {
  if (row.get_indicator(name) != soci::i_ok) return std::nullopt;
  return integer(row, name);
}

std::optional<std::string> optional_text(const soci::row& row, const std::string& name) {
  if (row.get_indicator(name) != soci::i_ok) return std::nullopt;
  return row.get<std::string>(name);
}

}  // namespace

std::vector<RequestView> select_requests(soci::session& sql, const std::string& clauses, const Bound& bound) {
  const std::string query =
      "SELECT id, type, source, status, status_reason, subject_id, created_at, updated_at, not_before, due_at, extension_reason,"
      " completed_at, export_object, export_expires_at, receipt, details FROM privacy_requests " + clauses;
  std::vector<RequestView> out;
  soci::row row;
  soci::statement statement(sql);
  statement.alloc();
  statement.prepare(query);
  for (const auto& [name, value] : bound.text) statement.exchange(soci::use(value, name));
  for (const auto& [name, value] : bound.numbers) statement.exchange(soci::use(value, name));
  statement.exchange(soci::into(row));
  statement.define_and_bind();
  statement.execute();
  while (statement.fetch()) {
    RequestView view;
    view.id = row.get<std::string>("id");
    view.type = row.get<std::string>("type");
    view.source = row.get<std::string>("source");
    view.status = row.get<std::string>("status");
    view.status_reason = optional_text(row, "status_reason");
    view.subject_id = optional_text(row, "subject_id");
    view.created_at = integer(row, "created_at");
    view.updated_at = integer(row, "updated_at");
    view.not_before = integer(row, "not_before");
    view.due_at = integer(row, "due_at");
    view.extension_reason = optional_text(row, "extension_reason");
    view.completed_at = optional_integer(row, "completed_at");
    view.export_ready = row.get_indicator("export_object") == soci::i_ok;
    view.export_expires_at = optional_integer(row, "export_expires_at");
    view.receipt = optional_text(row, "receipt");
    view.details = optional_text(row, "details").value_or("{}");
    out.push_back(std::move(view));
  }
  return out;
}

std::vector<TaskView> select_tasks(soci::session& sql, const std::string& request_id) {
  std::vector<TaskView> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT participant, stage, status, attempts, next_attempt_at, last_error, outcome, completed_at"
                      " FROM privacy_tasks WHERE request_id = :id ORDER BY stage, participant",
       soci::use(request_id));
  for (const auto& row : rows) {
    TaskView task;
    task.participant = row.get<std::string>("participant");
    task.stage = static_cast<int>(integer(row, "stage"));
    task.status = row.get<std::string>("status");
    task.attempts = static_cast<int>(integer(row, "attempts"));
    task.next_attempt_at = integer(row, "next_attempt_at");
    task.last_error = optional_text(row, "last_error");
    task.outcome = optional_text(row, "outcome");
    task.completed_at = optional_integer(row, "completed_at");
    out.push_back(std::move(task));
  }
  return out;
}

}  // namespace framehouse::privacy
