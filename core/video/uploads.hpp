// Images users upload to animate: checked by their bytes, sealed and stored through the storage plugin
// under the owner's id, indexed in the database, listed, read and deleted only by their owner.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock/clock.hpp"
#include "db/database.hpp"
#include "personal_data/store.hpp"
#include "storage/object_store.hpp"

namespace framehouse::video {

struct UploadsConfig {
  std::size_t max_bytes = 10 * 1024 * 1024;
  int max_width = 4096;
  int max_height = 4096;
};

struct Upload {
  std::string id;
  std::string content_type;
  int width = 0;
  int height = 0;
  std::int64_t bytes = 0;
  std::int64_t created_at = 0;
};

class Uploads {
 public:
  Uploads(db::Database& database, storage::ObjectStore& objects, UploadsConfig config,
          UnixClock clock = unix_now);

  // Status::invalid_argument (with the reason) when the bytes are not an acceptable image;
  // Status::unavailable when storage failed. Nothing is kept on failure.
  sdk::Result<Upload> add(const std::string& owner, std::string bytes);
  std::vector<Upload> list(const std::string& owner);
  std::optional<Upload> find(const std::string& owner, const std::string& id);
  // The image's bytes; Status::not_found when it is not the owner's.
  sdk::Result<std::string> content(const std::string& owner, const std::string& id);
  // Status::not_found when it is not the owner's; storage is emptied before the index.
  sdk::Outcome remove(const std::string& owner, const std::string& id);

 private:
  db::Database& database_;
  storage::ObjectStore& objects_;
  UploadsConfig config_;
  UnixClock now_;
};

// The uploads index as a privacy participant. The images themselves are exported and erased
// by the storage plugin's participant, which holds them under the same owner id.
class UploadsParticipant final : public personal_data::TableStore {
 public:
  explicit UploadsParticipant(db::Database& database) : TableStore(database, "uploads", "owner_id", "image records") {}
  std::string_view name() const override { return "uploads"; }
  std::vector<std::string> categories() const override { return {"user_content"}; }
  sdk::Outcome export_subject(const sdk::Subject& subject, sdk::ExportSink& sink) override;
};

}  // namespace framehouse::video
