// An access export on local disk while it is being made: each participant writes its own part
// (a run of ZIP entries: "<participant>.json" with one array per dataset, and its original
// files under "files/<participant>/"), so a participant that fails is retried alone and the
// parts already written are kept. The parts are then joined into one archive with a README
// and the processors register. Memory stays flat: records go to disk as they come, files
// stream straight into the part.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "framehouse/sdk/privacy.hpp"
#include "privacy/participants.hpp"
#include "privacy/zip_writer.hpp"
#include "storage/sealing.hpp"

namespace framehouse::privacy {

// What one participant exported.
struct ExportCount {
  std::uint64_t records = 0;
  std::uint64_t files = 0;
  std::map<std::string, std::uint64_t> datasets;  // records per dataset
};

// Writes one participant's part. Files sealed by the core are opened with the subject's key
// on the way in, so the person receives their originals.
class PartWriter final : public sdk::ExportSink {
 public:
  PartWriter(std::filesystem::path directory, std::string participant, std::optional<storage::DataKey> subject_key);
  sdk::Outcome record(std::string_view dataset, std::string_view json_object) override;
  sdk::Outcome file(std::string_view name, std::string_view content_type, sdk::ByteSource& data) override;
  // Writes "<participant>.json" and the part's index; the part is complete only after this.
  sdk::Outcome finish();
  // A plugin call that timed out may still write: from now on every write fails.
  void abandon();
  ExportCount count() const;

  static std::filesystem::path part_file(const std::filesystem::path& directory, const std::string& participant);
  static std::filesystem::path index_file(const std::filesystem::path& directory, const std::string& participant);

 private:
  sdk::Outcome check_open() const;

  std::filesystem::path directory_;
  std::string participant_;
  std::optional<storage::DataKey> key_;
  mutable std::mutex mutex_;
  bool abandoned_ = false;
  ZipWriter zip_;
  ExportCount count_;
  std::vector<std::string> dataset_order_;
};

// Counts what a participant still holds (erasure verification); keeps nothing.
class CountingSink final : public sdk::ExportSink {
 public:
  sdk::Outcome record(std::string_view dataset, std::string_view json_object) override;
  sdk::Outcome file(std::string_view name, std::string_view content_type, sdk::ByteSource& data) override;
  std::uint64_t items() const { return items_.load(); }

 private:
  std::atomic<std::uint64_t> items_{0};
};

// The finished archive as a stream, never written whole to disk: a first part with README.md
// (naming any participant that failed) and processors.json, then the participants' parts (in
// `participants` order) read from disk as they are, then the central directory.
struct Archive {
  std::unique_ptr<sdk::ByteSource> source;
  std::uint64_t size = 0;
};
sdk::Result<Archive> open_archive(const std::filesystem::path& directory, const std::vector<ParticipantInfo>& participants,
                                  const std::vector<std::string>& failed, const std::string& request_id, const std::string& contact);

// A name a participant gave a file, made safe as a path inside the archive.
std::string safe_entry_name(std::string_view name);

}  // namespace framehouse::privacy
