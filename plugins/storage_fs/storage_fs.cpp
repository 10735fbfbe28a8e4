// storage_fs: objects as files, <root>/<owner>/<id>.
//
// Safety comes from the file descriptors, not from string checks alone: every access opens
// the root, then the owner directory, then the object with O_NOFOLLOW relative to the
// previous descriptor (openat), so neither ".." nor a symlink planted under the root can lead
// outside it. Writes go to a temporary file that is flushed and renamed into place.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include <framehouse/sdk/plugin.hpp>
#include <framehouse/sdk/privacy.hpp>
#include <framehouse/sdk/storage.hpp>

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
using framehouse::sdk::Rectification;
using framehouse::sdk::Result;
using framehouse::sdk::Status;
using framehouse::sdk::Subject;

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::string_view kTempPrefix = ".tmp-";

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Outcome errno_failure(std::string_view what) {
  const int error = errno;
  const Status status = error == ENOENT ? Status::not_found
                        : error == ELOOP || error == ENOTDIR ? Status::permission_denied
                        : error == ENOSPC || error == EIO ? Status::unavailable
                        : Status::internal;
  return Outcome::failure(status, std::string(what) + ": " + std::strerror(error));
}

std::chrono::system_clock::time_point modified_time(const struct stat& info) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(info.st_mtim.tv_sec) +
                                               std::chrono::nanoseconds(info.st_mtim.tv_nsec));
}

Outcome write_all(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_failure("write");
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return {};
}

// Reads an open file from its current offset, for exports.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(Fd fd) : fd_(std::move(fd)) {}
  Result<std::size_t> read(std::span<std::byte> buffer) override {
    for (;;) {
      const ssize_t got = ::read(fd_.get(), buffer.data(), buffer.size());
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return errno_failure("read");
    }
  }

 private:
  Fd fd_;
};

class FileStorage final : public framehouse::sdk::Plugin,
                          public framehouse::sdk::StorageBackend,
                          public framehouse::sdk::PrivacyParticipant {
 public:
  Outcome start(framehouse::sdk::HostServices& host) override {
    std::string root = host.config().string("root").value_or("");
    if (root.empty()) root = (host.data_directory() / "objects").string();
    fsync_ = host.config().boolean("fsync").value_or(true);
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) return errno_failure("create root " + root);
    root_ = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_.valid()) return errno_failure("open root " + root);
    host.logger().info("object root ready");
    return {};
  }

  void* find_interface(std::string_view name) override {
    return framehouse::sdk::provide_interfaces<StorageBackend, PrivacyParticipant>(this, name);
  }

  // --- storage ---

  Outcome put(const ObjectKey& key, ByteSource& data) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    if (::mkdirat(root_.get(), key.owner.c_str(), 0700) != 0 && errno != EEXIST) {
      return errno_failure("create owner directory");
    }
    Fd owner;
    if (auto opened = open_owner(key.owner, owner); !opened) return opened;
    const std::string temp = temp_name();
    Fd file(::openat(owner.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.valid()) return errno_failure("create temporary file");
    Outcome outcome = framehouse::sdk::drain(data, [&](std::span<const std::byte> chunk) {
      return write_all(file.get(), chunk.data(), chunk.size());
    });
    if (outcome && fsync_ && ::fsync(file.get()) != 0) outcome = errno_failure("fsync");
    file.reset();
    if (outcome && ::renameat(owner.get(), temp.c_str(), owner.get(), key.id.c_str()) != 0) {
      outcome = errno_failure("rename into place");
    }
    if (!outcome) {
      ::unlinkat(owner.get(), temp.c_str(), 0);
      return outcome;
    }
    if (fsync_ && ::fsync(owner.get()) != 0) return errno_failure("fsync directory");
    return {};
  }

  Result<ObjectInfo> stat(const ObjectKey& key) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    Fd owner;
    if (auto opened = open_owner(key.owner, owner); !opened) return opened;
    struct stat info {};
    if (::fstatat(owner.get(), key.id.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return errno_failure("stat");
    if (!S_ISREG(info.st_mode)) return Outcome::failure(Status::not_found, "not a regular object");
    return ObjectInfo{key, static_cast<std::uint64_t>(info.st_size), modified_time(info)};
  }

  Outcome get(const ObjectKey& key, const ByteRange& range, ByteSink& out) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    Fd file;
    if (auto opened = open_object(key, file); !opened) return opened;
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) return errno_failure("stat");
    const auto size = static_cast<std::uint64_t>(info.st_size);
    if (range.offset > size || (range.length && range.offset + *range.length > size)) {
      return Outcome::failure(Status::invalid_argument, "range outside the object");
    }
    std::uint64_t remaining = range.length.value_or(size - range.offset);
    auto offset = static_cast<off_t>(range.offset);
    std::array<std::byte, kChunk> buffer;
    while (remaining > 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
      const ssize_t got = ::pread(file.get(), buffer.data(), want, offset);
      if (got < 0) {
        if (errno == EINTR) continue;
        return errno_failure("read");
      }
      if (got == 0) return Outcome::failure(Status::unavailable, "object shrank while being read");
      if (auto written = out.write({buffer.data(), static_cast<std::size_t>(got)}); !written) return written;
      offset += got;
      remaining -= static_cast<std::uint64_t>(got);
    }
    return {};
  }

  Outcome remove(const ObjectKey& key) override {
    if (auto bad = framehouse::sdk::check_object_key(key); !bad) return bad;
    Fd owner;
    if (auto opened = open_owner(key.owner, owner); !opened) {
      return opened.status() == Status::not_found ? Outcome{} : opened;
    }
    if (::unlinkat(owner.get(), key.id.c_str(), 0) != 0 && errno != ENOENT) return errno_failure("remove");
    return {};
  }

  Outcome list(std::string_view owner_name, ObjectVisitor& visitor) override {
    return each_entry(owner_name, [&](int, const char* name, const struct stat& info) {
      if (name[0] == '.') return true;
      return visitor.visit(ObjectInfo{{std::string(owner_name), name},
                                      static_cast<std::uint64_t>(info.st_size), modified_time(info)});
    });
  }

  Result<std::uint64_t> remove_owner(std::string_view owner_name) override {
    std::uint64_t removed = 0;
    Outcome failure;
    auto listed = each_entry(owner_name, [&](int owner, const char* name, const struct stat&) {
      if (::unlinkat(owner, name, 0) != 0 && errno != ENOENT) {
        failure = errno_failure("remove");
        return false;
      }
      if (name[0] != '.') ++removed;
      return true;
    });
    if (!listed) return listed.status() == Status::not_found ? Result<std::uint64_t>(removed) : Result<std::uint64_t>(listed);
    if (!failure) return failure;
    const std::string owner(owner_name);
    if (::unlinkat(root_.get(), owner.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT && errno != ENOTEMPTY) {
      return errno_failure("remove owner directory");
    }
    return removed;
  }

  // --- privacy ---

  Outcome export_subject(const Subject& subject, ExportSink& sink) override {
    // Objects belong to accounts: someone known only by an address has none here.
    if (subject.user_id.empty()) return {};
    Outcome failure;
    auto listed = each_entry(subject.user_id, [&](int owner, const char* name, const struct stat& info) {
      if (name[0] == '.') return true;
      const std::string record = std::string("{\"object_id\":\"") + name + "\",\"size\":" +
                                 std::to_string(info.st_size) + "}";
      if (failure = sink.record("objects", record); !failure) return false;
      Fd file(::openat(owner, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!file.valid()) {
        failure = errno_failure("open for export");
        return false;
      }
      FileSource source(std::move(file));
      failure = sink.file(std::string("objects/") + name, "application/octet-stream", source);
      return static_cast<bool>(failure);
    });
    if (!listed && listed.status() != Status::not_found) return listed;
    return failure;
  }

  Result<ErasureReport> erase_subject(const Subject& subject) override {
    if (subject.user_id.empty()) return ErasureReport{};
    auto removed = remove_owner(subject.user_id);
    if (!removed) return removed.outcome();
    ErasureReport report;
    report.files_removed = removed.value();
    report.detail = std::to_string(report.files_removed) + " objects deleted";
    return report;
  }

  // Objects are keyed by the internal id only: no name or address to rectify, no mail to stop.
  Outcome rectify(const Subject&, const Rectification&) override { return {}; }
  Outcome apply_opt_out(const Subject&, std::string_view) override { return {}; }
  Outcome lift_opt_out(const Subject&, std::string_view) override { return {}; }

 private:
  Outcome open_owner(const std::string& owner, Fd& out) const {
    out = Fd(::openat(root_.get(), owner.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!out.valid()) return errno_failure("open owner directory");
    return {};
  }

  Outcome open_object(const ObjectKey& key, Fd& out) const {
    Fd owner;
    if (auto opened = open_owner(key.owner, owner); !opened) return opened;
    out = Fd(::openat(owner.get(), key.id.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!out.valid()) return errno_failure("open object");
    return {};
  }

  // Calls fn(owner_fd, name, stat) for each regular file of the owner, until fn returns false.
  template <class Fn>
  Outcome each_entry(std::string_view owner_name, Fn&& fn) const {
    const std::string owner_string(owner_name);
    if (!framehouse::sdk::is_valid_object_name(owner_string)) {
      return Outcome::failure(Status::invalid_argument, "invalid owner");
    }
    Fd owner;
    if (auto opened = open_owner(owner_string, owner); !opened) return opened;
    DIR* directory = ::fdopendir(::dup(owner.get()));
    if (directory == nullptr) return errno_failure("list");
    std::unique_ptr<DIR, int (*)(DIR*)> guard(directory, ::closedir);
    while (dirent* entry = ::readdir(directory)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      struct stat info {};
      if (::fstatat(owner.get(), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(info.st_mode)) continue;
      if (!fn(owner.get(), entry->d_name, info)) break;
    }
    return {};
  }

  static std::string temp_name() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::string(kTempPrefix) + std::to_string(generator());
  }

  Fd root_;
  bool fsync_ = true;
};

}  // namespace

FRAMEHOUSE_PLUGIN_ENTRY(FileStorage)
