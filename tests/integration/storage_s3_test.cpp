// storage_s3, the shipped plugin, against a real S3-compatible store on loopback over HTTPS:
// s3rver behind a front that recomputes every request's SigV4 signature with AWS's own signer
// and answers 403 SignatureDoesNotMatch on a mismatch (tests/compat/s3_server,
// support/s3_server). AWS's own client (@aws-sdk/client-s3) reads back what the plugin wrote.
#include <random>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "framehouse/sdk/privacy.hpp"
#include "framehouse/sdk/storage.hpp"
#include "s3_client.hpp"
#include "sigv4.hpp"
#include "support/certificates.hpp"
#include "support/plugins.hpp"
#include "support/process.hpp"
#include "support/s3_server.hpp"
#include "support/streams.hpp"

namespace framehouse {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::S3Server;

constexpr std::size_t kMiB = 1024 * 1024;

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

std::string text_of(sdk::StorageBackend& storage, const sdk::ObjectKey& key, sdk::ByteRange range = {}) {
  sdk::BufferSink sink;
  const auto read = storage.get(key, range, sink);
  EXPECT_TRUE(read) << read.message();
  return sink.bytes;
}

sdk::Outcome put_text(sdk::StorageBackend& storage, const sdk::ObjectKey& key, std::string text) {
  sdk::BufferSource source(std::move(text));
  return storage.put(key, source);
}

// How many logged requests match method and query parameter (empty: any), from `from` on;
// with `status`, only those the store answered so.
std::size_t count_requests(const json::array& log, const std::string& method, const std::string& query = "",
                           std::size_t from = 0, std::optional<int> status = std::nullopt) {
  std::size_t n = 0;
  for (std::size_t i = from; i < log.size(); ++i) {
    const auto& entry = log[i].as_object();
    if (entry.at("method").as_string() != method) continue;
    if (status && !(entry.contains("status") && entry.at("status") == *status)) continue;
    bool has = query.empty();
    for (const auto& name : entry.at("query").as_array()) has = has || name.as_string() == query;
    n += has ? 1 : 0;
  }
  return n;
}

class StorageS3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    store_ = new S3Server(dir_->path() / "s3");
    store_->start();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }
  void TearDown() override { store_->clear_faults(); }

  // The plugin, loaded and started through the host as the server does; null if it refused.
  sdk::StorageBackend* plugin(const std::string& settings, std::string* start_error = nullptr) {
    host = std::make_unique<plugins::PluginHost>(metrics, dir_->path() / ("plugin-" + std::to_string(++hosts_)));
    const auto error = testing::load_plugin(*host, testing::shipped_plugin("storage_s3"), settings);
    EXPECT_FALSE(error) << *error;
    if (error) return nullptr;
    const auto started = host->start_all();
    if (started) {
      if (start_error) *start_error = *started;
      return nullptr;
    }
    return host->find("storage_s3")->find<sdk::StorageBackend>();
  }
  sdk::StorageBackend* plugin() { return plugin(store_->plugin_settings()); }
  sdk::PrivacyParticipant* privacy() { return host->find("storage_s3")->find<sdk::PrivacyParticipant>(); }

  static S3Server& store() { return *store_; }

  observability::Metrics metrics;
  std::unique_ptr<plugins::PluginHost> host;

 private:
  static inline testing::TempDir* dir_ = nullptr;
  static inline S3Server* store_ = nullptr;
  static inline int hosts_ = 0;
};

TEST_F(StorageS3Test, WritesWhatAwsOwnClientReadsBackUnderPrefixOwnerId) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  const std::string bytes = random_bytes(300'000, 1);
  ASSERT_TRUE(put_text(*storage, {"usr_readback", "video-1.mp4"}, bytes));
  EXPECT_TRUE(store().read_object("framehouse/usr_readback/video-1.mp4") == bytes);  // same key, same bytes
  EXPECT_EQ(store().list("framehouse/usr_readback/"), std::vector<std::string>{"framehouse/usr_readback/video-1.mp4"});
  EXPECT_TRUE(text_of(*storage, {"usr_readback", "video-1.mp4"}) == bytes);
  const auto info = storage->stat({"usr_readback", "video-1.mp4"});
  ASSERT_TRUE(info) << info.outcome().message();
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_LT(std::chrono::abs(std::chrono::system_clock::now() - info->modified), std::chrono::minutes(5));
  // Every request was signed, and every signature held up against AWS's own signer.
  for (const auto& entry : store().requests()) EXPECT_FALSE(entry.as_object().contains("error")) << json::serialize(entry);
}

TEST_F(StorageS3Test, ALargeObjectGoesUpInPartsAndComesDownWholeOrByRange) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  const std::size_t before = store().requests().size();
  const std::string bytes = random_bytes(12 * kMiB + 123, 2);  // parts of 5 MiB: 5 + 5 + 2
  ASSERT_TRUE(put_text(*storage, {"usr_large", "big"}, bytes));
  const auto log = store().requests();
  EXPECT_EQ(count_requests(log, "POST", "uploads", before), 1u);
  EXPECT_EQ(count_requests(log, "PUT", "partNumber", before), 3u);
  EXPECT_EQ(count_requests(log, "POST", "uploadId", before), 1u);
  EXPECT_TRUE(store().read_object("framehouse/usr_large/big") == bytes);
  EXPECT_TRUE(text_of(*storage, {"usr_large", "big"}) == bytes);
  // A range across the first part boundary comes from S3 as a ranged GET.
  EXPECT_TRUE(text_of(*storage, {"usr_large", "big"}, {5 * kMiB - 10, 20}) == bytes.substr(5 * kMiB - 10, 20));
  EXPECT_EQ(store().requests().back().at("range"), "bytes=5242870-5242889");
  EXPECT_TRUE(store().open_uploads().empty());
}

TEST_F(StorageS3Test, RangesFollowTheContract) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(put_text(*storage, {"usr_ranges", "digits"}, "0123456789"));
  EXPECT_EQ(text_of(*storage, {"usr_ranges", "digits"}, {2, 3}), "234");
  EXPECT_EQ(text_of(*storage, {"usr_ranges", "digits"}, {7, std::nullopt}), "789");
  EXPECT_EQ(text_of(*storage, {"usr_ranges", "digits"}, {10, std::nullopt}), "");  // at the end: empty
  EXPECT_EQ(text_of(*storage, {"usr_ranges", "digits"}, {4, 0}), "");
  sdk::BufferSink sink;
  EXPECT_EQ(storage->get({"usr_ranges", "digits"}, {11, std::nullopt}, sink).status(), sdk::Status::invalid_argument);
  EXPECT_EQ(storage->get({"usr_ranges", "digits"}, {8, 5}, sink).status(), sdk::Status::invalid_argument);
  EXPECT_TRUE(sink.bytes.empty());  // nothing half-delivered
  EXPECT_EQ(storage->get({"usr_ranges", "missing"}, {}, sink).status(), sdk::Status::not_found);
}

TEST_F(StorageS3Test, AFailedUploadIsAbortedAndLeavesNoPartsAndTheOldObject) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(put_text(*storage, {"usr_abort", "clip"}, "the old version"));
  // The upload's source breaks after the first part went up.
  testing::FailingSource broken(random_bytes(7 * kMiB, 3), sdk::Outcome::failure(sdk::Status::unavailable, "client went away"));
  EXPECT_FALSE(storage->put({"usr_abort", "clip"}, broken));
  // S3 refuses a part for good.
  store().inject(R"([{"method":"PUT","query":"partNumber","status":403,"code":"AccessDenied","times":1}])");
  sdk::BufferSource big(random_bytes(11 * kMiB, 4));
  const auto refused = storage->put({"usr_abort", "clip"}, big);
  EXPECT_EQ(refused.status(), sdk::Status::permission_denied) << refused.message();
  EXPECT_TRUE(store().open_uploads().empty()) << json::serialize(store().open_uploads());
  EXPECT_TRUE(store().multipart_uploads("framehouse/usr_abort/").empty());  // as AWS's client sees it
  EXPECT_EQ(text_of(*storage, {"usr_abort", "clip"}), "the old version");
}

TEST_F(StorageS3Test, RetriesSlowDownServerErrorsAndBrokenConnections) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  const std::size_t before = store().requests().size();
  store().inject(R"([{"method":"PUT","status":503,"code":"SlowDown","times":1},
                     {"method":"PUT","status":500,"code":"InternalError","times":1},
                     {"method":"HEAD","status":0,"times":1}])");
  ASSERT_TRUE(put_text(*storage, {"usr_retry", "a"}, "survives"));
  EXPECT_EQ(count_requests(store().requests(), "PUT", "", before), 3u);
  const auto info = storage->stat({"usr_retry", "a"});
  ASSERT_TRUE(info) << info.outcome().message();
  EXPECT_EQ(info->size, 8u);
  // Past the attempts the host hears "unavailable", so that its callers retry later.
  store().inject(R"([{"method":"PUT","status":503,"code":"SlowDown","times":10}])");
  EXPECT_EQ(put_text(*storage, {"usr_retry", "b"}, "x").status(), sdk::Status::unavailable);
}

TEST_F(StorageS3Test, ADownloadBrokenOffResumesFromTheNextByteOfTheSameVersion) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  const std::string bytes = random_bytes(3 * kMiB, 5);
  ASSERT_TRUE(put_text(*storage, {"usr_resume", "v"}, bytes));
  const std::size_t before = store().requests().size();
  store().inject(R"([{"method":"GET","truncate_after":1000000,"times":1}])");
  EXPECT_TRUE(text_of(*storage, {"usr_resume", "v"}) == bytes);
  const auto log = store().requests();
  ASSERT_EQ(count_requests(log, "GET", "", before), 2u);
  const std::string resumed(log.back().at("range").as_string());
  EXPECT_EQ(resumed.rfind("bytes=", 0), 0u);
  EXPECT_GE(std::stoul(resumed.substr(6)), 1u);  // not from the start
}

TEST_F(StorageS3Test, VirtualHostedStyleAddressingPutsTheBucketInTheHostName) {
  auto* storage = plugin(store().plugin_settings({{"endpoint", "\"" + store().virtual_hosted_endpoint() + "\""},
                                                  {"force_path_style", "false"},
                                                  {"prefix", "\"vhost/media\""}}));
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(put_text(*storage, {"usr_vhost", "x"}, "by host name"));
  EXPECT_EQ(store().read_object("vhost/media/usr_vhost/x"), "by host name");
  EXPECT_EQ(text_of(*storage, {"usr_vhost", "x"}), "by host name");
  EXPECT_EQ(store().requests().back().at("bucket"), S3Server::kBucket);  // taken from the Host header
}

TEST_F(StorageS3Test, RefusesToStartWithAWrongSecretAnUntrustedCertificateOrNoBucket) {
  const auto start_error = [&](const std::map<std::string, std::string>& overrides) {
    std::string error;
    EXPECT_EQ(plugin(store().plugin_settings(overrides), &error), nullptr);
    std::cerr << "start refused: " << error << "\n";
    return error;
  };
  EXPECT_NE(start_error({{"secret_access_key", "\"wrong\""}}).find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(start_error({{"access_key_id", "\"SOMEONEELSE\""}}).find("InvalidAccessKeyId"), std::string::npos);
  EXPECT_NE(start_error({{"bucket", "\"no-such-bucket\""}}).find("does not exist"), std::string::npos);
  const testing::TempDir other;
  testing::make_certificates(other.path(), "other-ca");  // a CA that did not sign the store's certificate
  EXPECT_NE(start_error({{"ca_file", "\"" + (other.path() / "other-ca.pem").string() + "\""}}).find("not trusted"),
            std::string::npos);
  EXPECT_NE(start_error({{"endpoint", "\"http://s3.example.org\""}}).find("https://"), std::string::npos);
}

TEST_F(StorageS3Test, ErasureDeletesEveryObjectInBatchesAndAbortsTheOwnersUnfinishedUploads) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  // More than one page of listing and one batch of DeleteObjects (1000 each).
  constexpr int kObjects = 1003;
  std::vector<std::thread> writers;
  std::atomic<int> failed = 0;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kObjects; i += 4) {
        if (!put_text(*storage, {"usr_erased", "o-" + std::to_string(i)}, "sealed bytes " + std::to_string(i))) ++failed;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(failed, 0);
  ASSERT_EQ(store().list("framehouse/usr_erased/").size(), static_cast<std::size_t>(kObjects));
  ASSERT_TRUE(put_text(*storage, {"usr_kept", "mine"}, "another person's"));
  // A node killed in the middle of an upload leaves its parts: here, the abort fails.
  store().inject(R"([{"method":"DELETE","query":"uploadId","status":500,"code":"InternalError","times":4}])");
  testing::FailingSource broken(random_bytes(6 * kMiB, 6), sdk::Outcome::failure(sdk::Status::unavailable, "killed"));
  EXPECT_FALSE(storage->put({"usr_erased", "half"}, broken));
  ASSERT_EQ(store().multipart_uploads("framehouse/usr_erased/").size(), 1u);

  struct Count final : sdk::ObjectVisitor {
    bool visit(const sdk::ObjectInfo&) override { return ++n, true; }
    int n = 0;
  } listed;
  const auto listing = storage->list("usr_erased", listed);
  ASSERT_TRUE(listing) << listing.message();
  EXPECT_EQ(listed.n, kObjects);  // past the first page's continuation token

  const std::size_t before = store().requests().size();
  const auto erased = privacy()->erase_subject({"usr_erased", {}, {}});
  ASSERT_TRUE(erased) << erased.outcome().message();
  EXPECT_EQ(erased->files_removed, static_cast<std::uint64_t>(kObjects));
  EXPECT_EQ(count_requests(store().requests(), "POST", "delete", before, 200), 2u);  // 1000 + 3
  EXPECT_TRUE(store().list("framehouse/usr_erased/").empty());                  // as AWS's own client sees it
  EXPECT_TRUE(store().multipart_uploads("framehouse/usr_erased/").empty());
  EXPECT_TRUE(store().open_uploads().empty()) << json::serialize(store().open_uploads());
  EXPECT_EQ(store().list("framehouse/usr_kept/").size(), 1u);
  // Again: nothing left, nothing to do.
  EXPECT_EQ(storage->remove_owner("usr_erased").value(), 0u);
}

TEST_F(StorageS3Test, ExportsTheOwnersObjects) {
  auto* storage = plugin();
  ASSERT_NE(storage, nullptr);
  const std::string bytes = random_bytes(200'000, 7);
  ASSERT_TRUE(put_text(*storage, {"usr_export", "clip-1"}, bytes));
  ASSERT_TRUE(put_text(*storage, {"usr_other", "clip-2"}, "not theirs"));
  testing::RecordingExportSink sink;
  ASSERT_TRUE(privacy()->export_subject({"usr_export", {"someone@example.org"}, {}}, sink));
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(json::parse(sink.records[0].second), json::parse(R"({"object_id":"clip-1","size":200000})"));
  EXPECT_TRUE(sink.files.at("objects/clip-1") == bytes);
  testing::RecordingExportSink nobody;
  ASSERT_TRUE(privacy()->export_subject({"", {"someone@example.org"}, {}}, nobody));
  EXPECT_TRUE(nobody.empty());
}

// Our signer and AWS's (@smithy/signature-v4) on random requests: keys with every kind of
// character, query values likewise, empty values, headers with runs of spaces.
TEST_F(StorageS3Test, TheSignerAgreesWithAwsOwnSignerOnRandomRequests) {
  std::mt19937 random(20261201);
  const std::string alphabet = "abcXYZ019-._~ !$&'()*+,;=:@/%?#[]\"\xC3\xA9\xE4\xB8\xAD";
  const auto random_text = [&](std::size_t max) {
    std::string out;
    const std::size_t n = random() % (max + 1);
    while (out.size() < n) {
      const std::size_t at = random() % alphabet.size();
      // Keep multi-byte UTF-8 sequences whole.
      if (static_cast<unsigned char>(alphabet[at]) >= 0x80) {
        out += alphabet[at] == '\xC3' ? "\xC3\xA9" : "\xE4\xB8\xAD";
      } else {
        out.push_back(alphabet[at]);
      }
    }
    return out;
  };
  const char* methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  json::array requests;
  std::vector<std::string> ours;
  for (int i = 0; i < 200; ++i) {
    storage_s3::SignableRequest request;
    request.method = methods[random() % 5];
    request.canonical_uri = "/" + storage_s3::uri_encode("bucket/" + random_text(40), true);
    json::object query;
    for (std::size_t q = random() % 4; q > 0; --q) {
      // Names from S3's own vocabulary (AWS's signer sorts names before encoding them, the
      // specification after: the two agree on such names).
      const char* names[] = {"prefix", "list-type", "uploads", "uploadId", "partNumber", "continuation-token", "x-id"};
      std::string name = names[random() % 7];
      if (query.contains(name)) continue;
      std::string value = random_text(12);
      request.query.emplace_back(name, value);
      query[name] = value;
    }
    const std::string host = "s3.example.org:" + std::to_string(1000 + random() % 9000);
    char date_text[17];
    std::snprintf(date_text, sizeof date_text, "2026%02u%02uT%02u%02u%02uZ", 1 + random() % 12, 1 + random() % 28,
                  static_cast<unsigned>(random() % 24), static_cast<unsigned>(random() % 60), static_cast<unsigned>(random() % 60));
    const std::string date = date_text;
    const std::string payload = storage_s3::sha256_hex(random_text(64));
    json::object headers;
    request.headers = {{"host", host}, {"x-amz-content-sha256", payload}, {"x-amz-date", date}};
    headers["x-amz-date"] = date;
    if (random() % 2) {
      const std::string range = "bytes=" + std::to_string(random() % 1000) + "-";
      request.headers.emplace_back("range", range);
      headers["range"] = range;
    }
    if (random() % 2) {
      request.headers.emplace_back("x-amz-meta-note", "  spaced   out  value ");
      headers["x-amz-meta-note"] = "  spaced   out  value ";
    }
    request.payload_sha256 = payload;
    const std::string secret = "secret/" + std::to_string(random());
    ours.push_back(storage_s3::sign(request, {"AKIDRANDOM", secret}, {"eu-test-1", "s3", date}).authorization);
    requests.push_back(json::object{{"method", request.method},
                                    {"host", host},
                                    {"path", request.canonical_uri},
                                    {"query", query},
                                    {"headers", headers},
                                    {"payload_sha256", payload},
                                    {"date", date},
                                    {"region", "eu-test-1"},
                                    {"access_key_id", "AKIDRANDOM"},
                                    {"secret_access_key", secret}});
  }
  const auto run = testing::run_command(
      {"/usr/bin/node", (fs::path(FRAMEHOUSE_SOURCE_DIR) / "tests/compat/s3_server/sign.mjs").string()}, {}, json::serialize(requests));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto theirs = json::parse(run.out).as_array();
  ASSERT_EQ(theirs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], theirs[i].as_string()) << json::serialize(requests[i]);
  }
}

}  // namespace
}  // namespace framehouse
