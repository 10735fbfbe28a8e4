#include "video/uploads.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <soci/soci.h>

#include "crypto/crypto.hpp"
#include "framehouse/sdk/storage.hpp"
#include "video/image_check.hpp"

namespace framehouse::video {
namespace {

template <class Each>
void for_each_upload(soci::session& sql, const std::string& owner, const std::string& only_id, Each&& each) {
  Upload row;
  long long bytes = 0, created = 0;
  const int all_ids = only_id.empty() ? 1 : 0;
  soci::statement statement =
      (sql.prepare << "SELECT id, content_type, width, height, bytes, created_at FROM uploads"
                      " WHERE owner_id = :o AND (:all_ids = 1 OR id = :id) ORDER BY created_at, id",
       soci::use(owner), soci::use(all_ids), soci::use(only_id), soci::into(row.id),
       soci::into(row.content_type), soci::into(row.width), soci::into(row.height), soci::into(bytes), soci::into(created));
  statement.execute();
  while (statement.fetch()) {
    row.bytes = bytes;
    row.created_at = created;
    each(row);
  }
}

}  // namespace

Uploads::Uploads(db::Database& database, storage::ObjectStore& objects, UploadsConfig config, UnixClock clock)
    : database_(database), objects_(objects), config_(config), now_(std::move(clock)) {}

sdk::Result<Upload> Uploads::add(const std::string& owner, std::string bytes) {
  if (bytes.size() > config_.max_bytes) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument,
                                 "is larger than " + std::to_string(config_.max_bytes) + " bytes");
  }
  const auto info = inspect_image(bytes);
  if (!info) return sdk::Outcome::failure(sdk::Status::invalid_argument, "is not a PNG, JPEG or WebP image");
  if (info->width > config_.max_width || info->height > config_.max_height) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument,
                                 "is larger than " + std::to_string(config_.max_width) + "x" +
                                     std::to_string(config_.max_height) + " pixels");
  }
  Upload upload{crypto::time_ordered_id("img_"), info->content_type, info->width, info->height,
                static_cast<std::int64_t>(bytes.size()), now_()};
  const sdk::ObjectKey key{owner, upload.id};
  const sdk::Outcome stored = objects_.put(key, std::make_unique<sdk::BufferSource>(std::move(bytes)));
  if (!stored) return sdk::Outcome::failure(sdk::Status::unavailable, "storage failed: " + stored.message());
  try {
    soci::session sql(database_.pool());
    const long long size = upload.bytes;
    const long long created = upload.created_at;
    sql << "INSERT INTO uploads (id, owner_id, content_type, width, height, bytes, created_at)"
           " VALUES (:id, :o, :t, :w, :h, :b, :c)",
        soci::use(upload.id), soci::use(owner), soci::use(upload.content_type), soci::use(upload.width),
        soci::use(upload.height), soci::use(size), soci::use(created);
  } catch (...) {
    (void)objects_.remove(key);
    throw;
  }
  return upload;
}

std::vector<Upload> Uploads::list(const std::string& owner) {
  soci::session sql(database_.pool());
  std::vector<Upload> out;
  for_each_upload(sql, owner, "", [&](const Upload& upload) { out.push_back(upload); });
  return out;
}

std::optional<Upload> Uploads::find(const std::string& owner, const std::string& id) {
  if (id.empty()) return std::nullopt;
  soci::session sql(database_.pool());
  std::optional<Upload> found;
  for_each_upload(sql, owner, id, [&](const Upload& upload) { found = upload; });
  return found;
}

sdk::Result<std::string> Uploads::content(const std::string& owner, const std::string& id) {
  if (!find(owner, id)) return sdk::Outcome::failure(sdk::Status::not_found, "no such image");
  auto sink = std::make_shared<sdk::BufferSink>();
  const sdk::ObjectKey key{owner, id};
  const sdk::Outcome read = objects_.get(key, {}, sink);
  if (!read) return sdk::Outcome::failure(sdk::Status::unavailable, "storage failed: " + read.message());
  return std::move(sink->bytes);
}

sdk::Outcome Uploads::remove(const std::string& owner, const std::string& id) {
  if (!find(owner, id)) return sdk::Outcome::failure(sdk::Status::not_found, "no such image");
  const sdk::ObjectKey key{owner, id};
  const sdk::Outcome removed = objects_.remove(key);
  if (!removed) return sdk::Outcome::failure(sdk::Status::unavailable, "storage failed: " + removed.message());
  soci::session sql(database_.pool());
  sql << "DELETE FROM uploads WHERE owner_id = :o AND id = :id", soci::use(owner), soci::use(id);
  return {};
}

sdk::Outcome UploadsParticipant::export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) {
  soci::session sql(database_.pool());
  sdk::Outcome outcome;
  for_each_upload(sql, subject.user_id, "", [&](const Upload& upload) {
    if (!outcome) return;
    outcome = sink.record("images", boost::json::serialize(boost::json::object{
                                        {"id", upload.id},
                                        {"content_type", upload.content_type},
                                        {"width", upload.width},
                                        {"height", upload.height},
                                        {"bytes", upload.bytes},
                                        {"created_at", upload.created_at}}));
  });
  return outcome;
}

}  // namespace framehouse::video
