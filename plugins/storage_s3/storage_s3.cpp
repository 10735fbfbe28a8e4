// storage_s3: objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Garage, …), at
// <prefix>/<owner>/<id> — so every object of a person is one prefix listing away, which is
// what export and erasure (remove_owner) need.
//
// A put reads up to one part (part_size_mib) into memory: an object that fits goes up in one
// PutObject; a larger one goes up as a multipart upload, a part at a time, and a failure
// anywhere aborts the upload so that no parts stay behind. Either way the object appears
// whole or not at all (S3 makes a PUT or a completed upload visible atomically). The core
// seals every object with its person's data key before it gets here (storage/object_store),
// so the bucket only ever holds ciphertext.
//
// Erasure deletes the owner's objects in batches of 1000 (DeleteObjects) and aborts the
// owner's unfinished uploads (a node killed in the middle of one leaves its parts); at start
// the plugin also aborts unfinished uploads under the prefix older than a day.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <curl/curl.h>
#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <framehouse/sdk/storage.hpp>

#include "s3_client.hpp"

namespace {

using framehouse::sdk::ByteRange;
using framehouse::sdk::ByteSink;
using framehouse::sdk::ByteSource;
using framehouse::sdk::ErasureReport;
using framehouse::sdk::ExportSink;
using framehouse::sdk::ObjectInfo;
using framehouse::sdk::ObjectKey;
using framehouse::sdk::ObjectVisitor;
using framehouse::sdk::Outcome;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using framehouse::sdk::Subject;
using framehouse::storage_s3::ClientSettings;
using framehouse::storage_s3::CompletedPart;
using framehouse::storage_s3::S3Client;

constexpr std::size_t kMiB = 1024 * 1024;
constexpr int kDeleteBatch = 1000;  // DeleteObjects' limit
constexpr auto kStaleUpload = std::chrono::hours(24);

bool valid_prefix(std::string_view prefix) {
  if (prefix.empty()) return true;
  if (prefix.front() == '/' || prefix.back() == '/' || prefix.find("//") != std::string_view::npos) return false;
  for (char c : prefix) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Reads from source until `buffer` holds `limit` bytes or the source ends; false at its end.
Result<bool> fill(ByteSource& source, std::vector<std::byte>& buffer, std::size_t limit) {
  buffer.resize(limit);
  std::size_t filled = 0;
  while (filled < limit) {
    auto got = source.read(std::span(buffer).subspan(filled));
    if (!got) return got.outcome();
    if (got.value() == 0) {
      buffer.resize(filled);
      return false;
    }
    filled += got.value();
  }
  return true;
}

// An unlinked temporary file: a downloaded object on its way into an export.
class SpoolFile final : public ByteSink, public ByteSource {
 public:
  explicit SpoolFile(const std::string& directory) {
    std::string name = directory + "/.export-XXXXXX";
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(name.c_str());
  }
  ~SpoolFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  bool valid() const { return fd_ >= 0; }
  Outcome rewind() {
    if (::lseek(fd_, 0, SEEK_SET) != 0) return Outcome::failure(Status::internal, std::string("seek: ") + std::strerror(errno));
    return {};
  }
  Outcome write(std::span<const std::byte> data) override {
    while (!data.empty()) {
      const ssize_t written = ::write(fd_, data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return Outcome::failure(Status::unavailable, std::string("spooling an export: ") + std::strerror(errno));
      }
      data = data.subspan(static_cast<std::size_t>(written));
    }
    return {};
  }
  Result<std::size_t> read(std::span<std::byte> buffer) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buffer.data(), buffer.size());
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return Outcome::failure(Status::internal, std::string("reading a spooled export: ") + std::strerror(errno));
    }
  }

 private:
  int fd_ = -1;
};

class S3Storage final : public framehouse::sdk::Plugin,
                        public framehouse::sdk::StorageBackend,
                        public framehouse::sdk::PrivacyParticipant {
 public:
  ~S3Storage() override {
    client_.reset();
    if (curl_started_) curl_global_cleanup();
  }

  Outcome start(framehouse::sdk::HostServices& host) override {
    const auto& config = host.config();
    ClientSettings settings;
    settings.endpoint = config.string("endpoint").value_or("");
    settings.region = config.string("region").value_or("us-east-1");
    settings.bucket = config.string("bucket").value_or("");
    settings.path_style = config.boolean("force_path_style").value_or(false);
    settings.credentials = {config.string("access_key_id").value_or(""), config.string("secret_access_key").value_or("")};
    settings.ca_file = config.string("ca_file").value_or("");
    settings.connect_timeout = std::chrono::milliseconds(config.integer("connect_timeout_ms").value_or(10'000));
    settings.stall_timeout = std::chrono::milliseconds(config.integer("timeout_ms").value_or(30'000));
    settings.max_attempts = static_cast<int>(config.integer("max_attempts").value_or(4));
    prefix_ = config.string("prefix").value_or("framehouse");
    if (!valid_prefix(prefix_)) {
      return Outcome::failure(Status::invalid_argument, "prefix may hold letters, digits, '_', '-', '.' and inner '/' only");
    }
    part_size_ = static_cast<std::size_t>(config.integer("part_size_mib").value_or(16)) * kMiB;
    spool_directory_ = host.data_directory().string();

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Outcome::failure(Status::internal, "libcurl failed to start");
    curl_started_ = true;
    auto client = S3Client::create(std::move(settings));
    if (!client) return client.outcome();
    client_ = std::move(client.value());
    // Wrong credentials, a missing bucket or an untrusted certificate show now, not at the
    // first upload.
    if (Outcome reachable = client_->check_bucket(); !reachable) return reachable;
    sweep_stale_uploads(host.logger());
    host.logger().info("bucket reachable");
    return {};
  }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<StorageBackend, PrivacyParticipant>(this, name);
  }

  // --- storage ---

  Outcome put(const ObjectKey& key, ByteSource& data) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    const std::string object = object_key(key);
    std::vector<std::byte> part;
    auto more = fill(data, part, part_size_);
    if (!more) return more.outcome();
    if (!more.value()) return client_->put_object(object, part);

    auto upload = client_->create_multipart_upload(object);
    if (!upload) return upload.outcome();
    const Outcome uploaded = upload_parts(object, upload.value(), data, part);
    if (!uploaded) {
      // Best effort: what is left is found by erasure and by the start-up sweep.
      (void)client_->abort_multipart_upload(object, upload.value());
    }
    return uploaded;
  }

  Result<ObjectInfo> stat(const ObjectKey& key) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    auto head = client_->head_object(object_key(key));
    if (!head) return head.outcome();
    return ObjectInfo{key, head->size, head->modified};
  }

  Outcome get(const ObjectKey& key, const ByteRange& range, ByteSink& out) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    return client_->get_object(object_key(key), range.offset, range.length, out);
  }

  Outcome remove(const ObjectKey& key) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    return client_->delete_object(object_key(key));
  }

  Outcome list(std::string_view owner, ObjectVisitor& visitor) override {
    if (!framehouse::sdk::is_valid_object_name(owner)) return Outcome::failure(Status::invalid_argument, "invalid owner");
    const std::string prefix = owner_prefix(owner);
    std::string token;
    do {
      auto page = client_->list_objects(prefix, token);
      if (!page) return page.outcome();
      for (const auto& object : page->objects) {
        const std::string id = object.key.substr(prefix.size());
        // Anything else under the prefix (not put here) is not one of ours.
        if (!framehouse::sdk::is_valid_object_name(id)) continue;
        if (!visitor.visit(ObjectInfo{{std::string(owner), id}, object.size, object.modified})) return {};
      }
      token = page->next_token;
    } while (!token.empty());
    return {};
  }

  Result<std::uint64_t> remove_owner(std::string_view owner) override {
    if (!framehouse::sdk::is_valid_object_name(owner)) return Outcome::failure(Status::invalid_argument, "invalid owner");
    const std::string prefix = owner_prefix(owner);
    std::uint64_t removed = 0;
    // Listing from the start each round: what was deleted is gone from the next listing, and
    // a round that deletes nothing would mean S3 said "deleted" and kept it.
    for (;;) {
      auto page = client_->list_objects(prefix, {}, kDeleteBatch);
      if (!page) return page.outcome();
      if (page->objects.empty()) break;
      std::vector<std::string> keys;
      for (const auto& object : page->objects) keys.push_back(object.key);
      if (Outcome deleted = client_->delete_objects(keys); !deleted) return deleted;
      for (const auto& key : keys) {
        if (framehouse::sdk::is_valid_object_name(std::string_view(key).substr(prefix.size()))) ++removed;
      }
    }
    auto uploads = client_->list_multipart_uploads(prefix);
    if (!uploads) return uploads.outcome();
    for (const auto& upload : uploads.value()) {
      if (Outcome aborted = client_->abort_multipart_upload(upload.key, upload.upload_id); !aborted) return aborted;
    }
    return removed;
  }

  // --- privacy ---

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    // Objects belong to accounts: someone known only by an address has none here.
    if (subject.user_id.empty()) return {};
    std::vector<ObjectInfo> objects;
    class Collect final : public ObjectVisitor {
     public:
      explicit Collect(std::vector<ObjectInfo>& into) : into_(into) {}
      bool visit(const ObjectInfo& object) override {
        into_.push_back(object);
        return true;
      }

     private:
      std::vector<ObjectInfo>& into_;
    } collect(objects);
    if (Outcome listed = list(subject.user_id, collect); !listed) return listed;
    for (const auto& object : objects) {
      const std::string record = "{\"object_id\":\"" + object.key.id + "\",\"size\":" + std::to_string(object.size) + "}";
      if (Outcome written = sink.record("objects", record); !written) return written;
      SpoolFile spool(spool_directory_);
      if (!spool.valid()) return Outcome::failure(Status::unavailable, std::string("cannot spool an export: ") + std::strerror(errno));
      if (Outcome fetched = get(object.key, {}, spool); !fetched) {
        if (fetched.status() == Status::not_found) continue;  // removed since the listing
        return fetched;
      }
      if (Outcome rewound = spool.rewind(); !rewound) return rewound;
      if (Outcome written = sink.file("objects/" + object.key.id, "application/octet-stream", spool); !written) return written;
    }
    return {};
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    if (subject.user_id.empty()) return ErasureReport{};
    auto removed = remove_owner(subject.user_id);
    if (!removed) return removed.outcome();
    ErasureReport report;
    report.files_removed = removed.value();
    report.detail = std::to_string(report.files_removed) + " objects deleted from the bucket";
    return report;
  }

  // Objects are keyed by the internal id only: no name or address to rectify, no mail to stop.
  Outcome rectify(const Subject&, const framehouse::sdk::Rectification&) override { return {}; }
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  std::string owner_prefix(std::string_view owner) const {
    return (prefix_.empty() ? std::string() : prefix_ + "/") + std::string(owner) + "/";
  }
  std::string object_key(const ObjectKey& key) const { return owner_prefix(key.owner) + key.id; }

  // `part` holds the first part; the rest are read from data one part at a time.
  Outcome upload_parts(const std::string& object, const std::string& upload_id, ByteSource& data,
                       std::vector<std::byte>& part) {
    std::vector<CompletedPart> parts;
    for (int number = 1;; ++number) {
      auto etag = client_->upload_part(object, upload_id, number, part);
      if (!etag) return etag.outcome();
      parts.push_back({number, etag.value()});
      auto more = fill(data, part, part_size_);
      if (!more) return more.outcome();
      if (part.empty()) break;
      if (!more.value()) {
        auto last = client_->upload_part(object, upload_id, number + 1, part);
        if (!last) return last.outcome();
        parts.push_back({number + 1, last.value()});
        break;
      }
    }
    return client_->complete_multipart_upload(object, upload_id, parts);
  }

  void sweep_stale_uploads(framehouse::sdk::Logger& logger) {
    auto uploads = client_->list_multipart_uploads(prefix_.empty() ? "" : prefix_ + "/");
    if (!uploads) {
      logger.warn("could not list unfinished uploads: " + uploads.outcome().message());
      return;
    }
    const auto cutoff = std::chrono::system_clock::now() - kStaleUpload;
    int aborted = 0;
    for (const auto& upload : uploads.value()) {
      if (!upload.initiated || *upload.initiated > cutoff) continue;  // may still be going on
      if (client_->abort_multipart_upload(upload.key, upload.upload_id)) ++aborted;
    }
    if (aborted > 0) logger.info("aborted " + std::to_string(aborted) + " unfinished uploads older than a day");
  }

  std::unique_ptr<S3Client> client_;
  std::string prefix_;
  std::size_t part_size_ = 16 * kMiB;
  std::string spool_directory_;
  bool curl_started_ = false;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(S3Storage)
