// The privacy module's cost, run by hand (tests/bench/run.sh privacy, or directly):
//   bench_privacy erase   a user with 10,000 stored objects and 100,000 usage events erased
//                         through the privacy module (every step: stop, fan-out, core, verify,
//                         receipt) against the raw floor: the same rows deleted and files
//                         unlinked directly, in the same run.
//   bench_privacy export  an access export of a user with ~1 GiB of stored content: time,
//                         throughput and peak RSS (which must stay flat: nothing is gathered
//                         in memory).
// Sizes: BENCH_OBJECTS, BENCH_EVENTS, BENCH_EXPORT_MIB.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <soci/soci.h>

#include "app/core_stores.hpp"
#include "privacy/requests.hpp"
#include "privacy/residue_scan.hpp"
#include "support/mail.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"

namespace {

using namespace framehouse;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long env_number(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value ? std::atol(value) : fallback;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// `size` bytes of a repeating pattern, produced as read: large objects without large buffers.
class PatternSource final : public sdk::ByteSource {
 public:
  explicit PatternSource(std::uint64_t size) : left_(size) {}
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), left_));
    for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<std::byte>((offset_ + i) * 31 % 253);
    offset_ += n;
    left_ -= n;
    return n;
  }

 private:
  std::uint64_t left_;
  std::uint64_t offset_ = 0;
};

// The server's privacy machinery over SQLite and the shipped storage_fs and email_outbox plugins.
struct Bench {
  testing::TempDir dir;
  db::Database database{db::DatabaseOptions{"sqlite:" + (dir.path() / "db.sqlite").string()}};
  observability::Metrics metrics;
  plugins::PluginHost host{metrics, dir.path()};
  std::unique_ptr<testing::TestMail> mail;
  std::unique_ptr<accounts::Accounts> accounts;
  std::unique_ptr<storage::DataKeys> keys;
  std::unique_ptr<storage::ObjectStore> objects;
  std::unique_ptr<video::Videos> videos;
  std::unique_ptr<app::CoreStores> stores;  // the accounts' reads its secret: after the migration
  std::unique_ptr<privacy::CoreParticipant> core;
  std::unique_ptr<privacy::Participants> participants;
  privacy::ReceiptSigner signer = privacy::ReceiptSigner::from_seed({});
  audit::AuditLog audit_log{database};
  std::unique_ptr<privacy::PrivacyRequests> requests;

  Bench() {
    database.migrate(db::server_migrations());
    for (const char* plugin : {"storage_fs", "email_outbox"}) {
      if (auto error = testing::load_plugin(host, testing::shipped_plugin(plugin), std::string(plugin) == "storage_fs" ? "fsync = false" : "")) {
        throw std::runtime_error(*error);
      }
    }
    if (auto error = host.start_all()) throw std::runtime_error(*error);
    mail = std::make_unique<testing::TestMail>(database, metrics, host, host.find("email_outbox"), "bench@example.org");
    accounts::AccountsConfig config;
    config.password_cost = {1, 8 * 1024};
    accounts = std::make_unique<accounts::Accounts>(database, mail->mailer, config);
    keys = std::make_unique<storage::DataKeys>(database, storage::MasterKey{9});
    objects = std::make_unique<storage::ObjectStore>(host, host.find("storage_fs"), *keys);
    videos = std::make_unique<video::Videos>(database, host, *objects, metrics, video::VideoConfig{.data_dir = dir.path().string()});
    stores = std::make_unique<app::CoreStores>(database, *accounts, *videos, *objects);
    core = std::make_unique<privacy::CoreParticipant>(stores->all());
    participants = std::make_unique<privacy::Participants>(host, *core, std::chrono::minutes(30));
    privacy::PrivacyConfig privacy_config;
    privacy_config.work_directory = dir.path() / "privacy";
    requests = std::make_unique<privacy::PrivacyRequests>(database, *participants, *accounts, *objects, mail->mailer, signer,
                                                          metrics, audit_log, privacy_config);
  }

  std::string user(const std::string& email) { return accounts->create_user("Bench Person", email, "a long pass phrase", "user"); }

  void add_objects(const std::string& owner, long count, std::uint64_t bytes) {
    soci::session sql(database.pool());
    soci::transaction transaction(sql);
    for (long i = 0; i < count; ++i) {
      const std::string id = fmt::format("img_{}_{:08d}", owner, i);
      if (!objects->put({owner, id}, std::make_unique<PatternSource>(bytes))) throw std::runtime_error("put failed");
      const long long size = static_cast<long long>(bytes);
      sql << "INSERT INTO uploads (id, owner_id, content_type, width, height, bytes, created_at)"
             " VALUES (:id, :o, 'image/png', 64, 64, :b, 0)",
          soci::use(id), soci::use(owner), soci::use(size);
    }
    transaction.commit();
  }

  void add_events(const std::string& owner, long count) {
    soci::session sql(database.pool());
    soci::transaction transaction(sql);
    long long at = 0;
    std::string type = "video_created";
    soci::statement insert = (sql.prepare << "INSERT INTO usage_events (user_id, event_type, occurred_at) VALUES (:u, :t, :a)",
                              soci::use(owner), soci::use(type), soci::use(at));
    for (long i = 0; i < count; ++i) {
      at = i;
      insert.execute(true);
    }
    transaction.commit();
  }

  std::string run(const privacy::NewRequest& request) {
    const std::string id = requests->submit(request).request.id;
    while (requests->run_one("bench")) {
    }
    return requests->find(id)->status;
  }
};

int erase() {
  const long object_count = env_number("BENCH_OBJECTS", 10'000);
  const long event_count = env_number("BENCH_EVENTS", 100'000);
  Bench bench;
  const std::string measured = bench.user("measured@example.org");
  const std::string floor = bench.user("floor@example.org");
  // Someone else with as much data, who stays: the verification scans every text column of the
  // core's tables for the erased person's identifiers, so it reads the bystander's rows too.
  const std::string bystander = bench.user("bystander@example.org");
  for (const auto& user : {measured, floor, bystander}) {
    bench.add_objects(user, object_count, 1024);
    bench.add_events(user, event_count);
  }
  std::cout << fmt::format("erasure of a user with {} stored objects (1 KiB) and {} usage events, beside a bystander with as"
                           " many, SQLite, storage_fs\n",
                           object_count, event_count);

  // The floor first, so that neither run gets a warmer cache than the other.
  auto start = Clock::now();
  {
    soci::session sql(bench.database.pool());
    soci::transaction transaction(sql);
    for (const char* table : {"usage_events", "preferences", "preference_history", "credentials", "email_tokens"}) {
      db::delete_rows(sql, table, "user_id", floor);
    }
    db::delete_rows(sql, "uploads", "owner_id", floor);
    db::delete_rows(sql, "users", "id", floor);
    transaction.commit();
  }
  fs::remove_all(bench.dir.path() / "plugins" / "storage_fs" / "objects" / floor);
  const double floor_seconds = seconds_since(start);

  start = Clock::now();
  const std::string status = bench.run({"erasure", "user", measured, "measured@example.org", std::nullopt, ""});
  const double erasure_seconds = seconds_since(start);
  std::cout << fmt::format("  raw floor (DELETE rows, unlink files):   {:8.3f} s\n", floor_seconds);
  std::cout << fmt::format("  privacy erasure (all steps, {:>9}):  {:8.3f} s   ratio {:.2f}x the floor\n", status, erasure_seconds,
                           erasure_seconds / floor_seconds);
  // The verification's scan alone, over the bystander's rows, against reading those rows once.
  start = Clock::now();
  const auto hits = privacy::scan_for_residue(bench.database, {measured, "measured@example.org", "a keyed form", "another"}, "");
  const double scan_seconds = seconds_since(start);
  start = Clock::now();
  {
    soci::session sql(bench.database.pool());
    long long bytes = 0;
    sql << "SELECT SUM(LENGTH(user_id) + LENGTH(event_type)) FROM usage_events", soci::into(bytes);
    sql << "SELECT SUM(LENGTH(id) + LENGTH(owner_id) + LENGTH(content_type)) FROM uploads", soci::into(bytes);
  }
  const double read_seconds = seconds_since(start);
  std::cout << fmt::format("  residue scan of every text column ({} hits): {:.3f} s; reading the big tables' text once: {:.3f} s"
                           " ({:.1f}x)\n",
                           hits.size(), scan_seconds, read_seconds, scan_seconds / read_seconds);
  std::cout << fmt::format("  peak RSS {:.0f} MiB\n", peak_rss_mib());
  return status == "completed" ? 0 : 1;
}

int export_archive() {
  const long mib = env_number("BENCH_EXPORT_MIB", 1024);
  const long object_mib = 16;
  Bench bench;
  const std::string user = bench.user("export@example.org");
  bench.add_objects(user, mib / object_mib, static_cast<std::uint64_t>(object_mib) << 20);
  bench.add_events(user, 1000);
  // The floor: reading every stored byte once and writing it to one file.
  auto start = Clock::now();
  {
    std::ofstream out(bench.dir.path() / "floor.bin", std::ios::binary);
    std::vector<char> buffer(1 << 20);
    for (const auto& entry : fs::directory_iterator(bench.dir.path() / "plugins" / "storage_fs" / "objects" / user)) {
      std::ifstream in(entry.path(), std::ios::binary);
      while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) out.write(buffer.data(), in.gcount());
    }
  }
  const double floor_seconds = seconds_since(start);
  fs::remove(bench.dir.path() / "floor.bin");
  const double rss_before = peak_rss_mib();
  start = Clock::now();
  const std::string status = bench.run({"access", "user", user, "export@example.org", std::nullopt, ""});
  const double seconds = seconds_since(start);
  const auto size = bench.objects->size({"privacy-exports", bench.requests->list_for(user).front().id + ".zip"});
  std::cout << fmt::format("access export of a user with {} MiB of stored content ({} objects), SQLite, storage_fs\n", mib,
                           mib / object_mib);
  std::cout << fmt::format("  floor (read every stored byte, write one file): {:.2f} s\n", floor_seconds);
  std::cout << fmt::format("  export {}: {:.2f} s ({:.0f} MiB/s, {:.1f}x the floor), archive {:.0f} MiB\n", status, seconds,
                           mib / seconds, seconds / floor_seconds, size ? static_cast<double>(size.value()) / (1 << 20) : -1.0);
  std::cout << fmt::format("  peak RSS {:.0f} MiB before the export, {:.0f} MiB after\n", rss_before, peak_rss_mib());
  return status == "completed" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (sodium_init() < 0) return 1;
  if (mode == "erase") return erase();
  if (mode == "export") return export_archive();
  std::cerr << "usage: bench_privacy erase|export\n";
  return 2;
}
