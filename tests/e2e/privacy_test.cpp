// The privacy module end to end, on SQLite and PostgreSQL with every default plugin loaded:
// a person with a verified email, uploads, videos, usage, mail and Premium asks for their data
// and gets all of it, then is erased — and afterwards not one byte the server controls
// (database, storage, outbox, plugin files, logs) holds their address, name or prompts, while
// another user's data is untouched.
#include <signal.h>
#include <sodium.h>

#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "e2e/end_to_end.hpp"
#include "support/zip_reader.hpp"

namespace framehouse {
namespace {

namespace fs = std::filesystem;

class PrivacyEndToEnd : public EndToEnd {
 protected:
  // A step that must wait (a reader holding the database's log) is tried again soon.
  std::string extra_config() const override { return "[privacy]\nretry_base_seconds = 1\n"; }
  // Polls the admin view until `done` holds for it (at most 30 s); returns the last view.
  boost::json::object wait_for(const std::string& admin, const std::string& id,
                               const std::function<bool(const boost::json::object&)>& done) {
    boost::json::object request;
    for (int i = 0; i < 600; ++i) {
      request = json_of(call("GET", "/v1/admin/privacy/requests/" + id, "", bearer(admin)));
      if (done(request)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return request;
  }
  // Moves the signed-in account to `address` by the link mailed there.
  void change_email(const std::string& token, const std::string& address) {
    ASSERT_EQ(call("PATCH", "/v1/me", boost::json::serialize(boost::json::object{{"email", address}}), bearer(token)).status, 200);
    const auto mails = testing::messages_to(outbox(), address);
    ASSERT_FALSE(mails.empty());
    const auto confirmed = call("POST", "/v1/accounts/verify-email",
                                boost::json::serialize(boost::json::object{{"token", testing::token_in(mails.back().text)}}));
    ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  }
  // The decoded base64 part of a MIME message named `filename`, or "".
  static std::string attachment(const std::string& message, const std::string& filename) {
    const auto named = message.find("filename=\"" + filename + "\"");
    if (named == std::string::npos) return "";
    const auto start = message.find("\r\n\r\n", named);
    const auto end = message.find("\r\n--", start);
    const std::string encoded = message.substr(start + 4, end - start - 4);
    std::string decoded(encoded.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(), encoded.size(), "\r\n",
                          &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
      return "";
    }
    decoded.resize(length);
    return decoded;
  }
  // Polls until the request has ended; returns its admin view.
  boost::json::object wait_until_ended(const std::string& admin, const std::string& id) {
    boost::json::object request;
    for (int i = 0; i < 600; ++i) {
      request = json_of(call("GET", "/v1/admin/privacy/requests/" + id, "", bearer(admin)));
      const auto& status = request.at("status");
      if (status != "pending" && status != "in_progress" && status != "unverified") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return request;
  }
  std::string wait_for_video(const std::string& token, const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      const auto status = json_of(call("GET", "/v1/videos/" + id, "", bearer(token))).at("status");
      if (status == "completed" || status == "failed") return std::string(status.as_string());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "timeout";
  }
  std::string new_video(const std::string& token, const std::string& body) {
    const auto made = call("POST", "/v1/videos", body, bearer(token));
    EXPECT_EQ(made.status, 200) << made.body;
    const std::string id(json_of(made).at("id").as_string());
    EXPECT_EQ(wait_for_video(token, id), "completed");
    return id;
  }
  // Every "needle" found in any text column of any table, as "table <name>: <needle>".
  std::vector<std::string> table_traces(const std::vector<std::string>& needles) {
    std::vector<std::string> found;
    db::Database database(db::DatabaseOptions{database_->options().url, 1});
    soci::session sql(database.pool());
    std::vector<std::string> tables(200);
    if (GetParam() == db::Backend::sqlite) {
      sql << "SELECT name FROM sqlite_master WHERE type = 'table'", soci::into(tables);
    } else {
      sql << "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()", soci::into(tables);
    }
    for (const auto& table : tables) {
      soci::rowset<soci::row> rows = (sql.prepare << "SELECT * FROM " + table);
      for (const auto& row : rows) {
        for (std::size_t column = 0; column < row.size(); ++column) {
          if (row.get_indicator(column) != soci::i_ok || row.get_properties(column).get_data_type() != soci::dt_string) continue;
          const std::string value = row.get<std::string>(column);
          for (const auto& needle : needles) {
            if (value.find(needle) != std::string::npos) found.push_back("table " + table + ": " + needle);
          }
        }
      }
    }
    return found;
  }
  // Every "needle" in the bytes of `files`, as "<file>: <needle>".
  static void scan(const std::vector<fs::path>& files, const std::vector<std::string>& needles, std::vector<std::string>& found) {
    for (const auto& file : files) {
      const std::string bytes = testing::read_file(file);
      for (const auto& needle : needles) {
        if (bytes.find(needle) != std::string::npos) found.push_back(file.string() + ": " + needle);
      }
    }
  }
  // The files under the server's data directory.
  std::vector<fs::path> data_files() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "var")) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    return files;
  }
  // Every "needle" found anywhere the server writes: each file under its data directory, the
  // SQLite database's own files (byte for byte: freed pages and the write-ahead log too), its
  // log, and every text column of every table.
  // The same, but for the address on the erasure receipt mailed to it: the one message that
  // is meant to outlive the erasure (it holds the address it goes to, and nothing else).
  std::vector<std::string> residue_of(const std::vector<std::string>& needles) {
    std::set<std::string> allowed;
    for (const auto& mail : testing::outbox_messages(outbox())) {
      if (mail.subject != "Your personal data has been erased") continue;
      allowed.insert(mail.file.string() + ": " + mail.to);
      allowed.insert((mail.file.parent_path() / ".index" / mail.file.stem()).string() + ".json: " + mail.to);
    }
    std::vector<std::string> found;
    for (auto& trace : traces_of(needles)) {
      if (allowed.count(trace) == 0) found.push_back(std::move(trace));
    }
    return found;
  }
  std::vector<std::string> traces_of(const std::vector<std::string>& needles) {
    std::vector<std::string> found;
    scan(data_files(), needles, found);
    if (GetParam() == db::Backend::sqlite) {
      const std::string file = database_->options().url.substr(std::string("sqlite:").size());
      std::vector<fs::path> database_files;
      for (const char* suffix : {"", "-wal", "-journal"}) {
        if (fs::exists(file + suffix)) database_files.emplace_back(file + suffix);
      }
      scan(database_files, needles, found);
    }
    const std::string log = server->process->stderr_text();
    for (const auto& needle : needles) {
      if (log.find(needle) != std::string::npos) found.push_back("server log: " + needle);
    }
    for (auto& trace : table_traces(needles)) found.push_back(std::move(trace));
    return found;
  }
};

TEST_P(PrivacyEndToEnd, AccessGivesEverythingThenErasureLeavesNoTrace) {
  const std::string admin = administrator();
  // She signed up under an address she later changed: what is kept under the old one goes too.
  const std::string zelda = member("Zelda Quartermaine", "zelda.old@example.org");
  change_email(zelda, "zelda.quartermaine@example.org");
  const std::string bob = member("Bob Other", "bob.other@example.org");
  const std::string zelda_id(json_of(call("GET", "/v1/me", "", bearer(zelda))).at("id").as_string());

  const std::string png = small_png();
  auto [upload_body, upload_headers] = image_upload(png, zelda);
  const auto uploaded = call("POST", "/v1/images", upload_body, upload_headers);
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  const std::string image_id(json_of(uploaded).at("id").as_string());
  const std::string text_video = new_video(zelda, R"({"prompt":"a lighthouse made of marmalade","seconds":"1","size":"512x512"})");
  const std::string image_video = new_video(
      zelda, R"({"prompt":"an orchard of glass pears","seconds":"1","size":"512x512","input_image_id":")" + image_id + "\"}");
  const std::string bob_video = new_video(bob, R"({"prompt":"an ordinary sailboat","seconds":"1","size":"512x512"})");
  const auto premium = call("POST", "/v1/admin/users/" + zelda_id + "/subscription", R"({"plan":"premium"})", bearer(admin));
  ASSERT_EQ(premium.status, 200) << premium.body;

  // Access: one archive with every participant's records and the original files.
  const auto asked = call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(zelda));
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string access_id(json_of(asked).at("id").as_string());
  const auto again = call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(zelda));
  EXPECT_EQ(json_of(again).at("id").as_string(), access_id);  // while open, the same request
  const auto access = wait_until_ended(admin, access_id);
  ASSERT_EQ(access.at("status"), "completed") << boost::json::serialize(access);
  const auto archive = call("GET", "/v1/privacy/requests/" + access_id + "/download", "", bearer(zelda));
  ASSERT_EQ(archive.status, 200) << archive.body;
  EXPECT_EQ(archive.header("content-type"), "application/zip");
  EXPECT_EQ(call("GET", "/v1/privacy/requests/" + access_id + "/download", "", bearer(bob)).status, 404);
  const auto ready = testing::messages_to(outbox(), "zelda.quartermaine@example.org");
  ASSERT_FALSE(ready.empty());
  const std::string link_token = testing::token_in(ready.back().text);
  const auto by_link = call("GET", "/v1/privacy/requests/" + access_id + "/download?token=" + link_token, "", {});
  EXPECT_EQ(by_link.status, 200);
  EXPECT_EQ(by_link.body, archive.body);
  EXPECT_EQ(call("GET", "/v1/privacy/requests/" + access_id + "/download?token=dl_forged", "", {}).status, 404);

  const auto entries = testing::read_zip(archive.body);
  for (const char* name : {"README.md", "processors.json", "core.json", "storage_fs.json", "email_outbox.json",
                           "payment_manual.json", "gen_procedural.json"}) {
    EXPECT_TRUE(entries.count(name)) << name << " is missing from the archive";
  }
  const std::string& core = entries.at("core.json");
  // The README explains every dataset the core wrote.
  const auto core_datasets = boost::json::parse(core);
  for (const auto& [dataset, records] : core_datasets.as_object()) {
    if (dataset != "participant") {
      EXPECT_NE(entries.at("README.md").find("`" + std::string(dataset) + "`"), std::string::npos) << std::string(dataset);
    }
  }
  EXPECT_NE(core.find("zelda.old@example.org"), std::string::npos);  // her earlier address is hers too
  for (const char* item : {"zelda.quartermaine@example.org", "Zelda Quartermaine", "a lighthouse made of marmalade",
                           "an orchard of glass pears", "\"usage_events\"", "\"preference_history\"", "\"subscription\"",
                           "\"credentials\""}) {
    EXPECT_NE(core.find(item), std::string::npos) << item << " is missing from core.json";
  }
  EXPECT_EQ(entries.at("files/storage_fs/objects/" + image_id), png);  // the original, opened from its sealed copy
  for (const auto& video : {text_video, image_video}) {
    EXPECT_EQ(entries.at("files/storage_fs/objects/" + video + ".mp4").substr(4, 4), "ftyp") << video;
    EXPECT_TRUE(entries.count("files/storage_fs/objects/" + video + ".jpg")) << video;
  }
  EXPECT_NE(entries.at("payment_manual.json").find("zelda.quartermaine@example.org"), std::string::npos);
  EXPECT_NE(entries.at("email_outbox.json").find("\"messages\""), std::string::npos);
  EXPECT_NE(entries.at("processors.json").find("storage_fs"), std::string::npos);
  // Each component says why it receives data (from its manifest).
  const auto processors = boost::json::parse(entries.at("processors.json"));
  const auto& register_entries = processors.is_array() ? processors.as_array() : processors.at("processors").as_array();
  for (const auto& processor : register_entries) {
    const std::string purpose(processor.at("purpose").as_string());
    EXPECT_FALSE(purpose.empty() || purpose == "not stated by the plugin") << boost::json::serialize(processor);
  }
  EXPECT_EQ(entries.count("files/storage_fs/objects/" + bob_video + ".mp4"), 0u);

  // The scan sees her before the erasure: in the database and in the outbox.
  // Joined whole (gtest's printer shows only the first 32 elements of a container).
  std::string before;
  for (const auto& trace : traces_of({"zelda.quartermaine@example.org", zelda_id})) before += trace + "\n";
  EXPECT_NE(before.find(GetParam() == db::Backend::sqlite ? ".db" : "table users"), std::string::npos) << before;
  EXPECT_NE(before.find("outbox"), std::string::npos) << before;

  // Intakes filed under both her addresses that nobody ever confirmed.
  for (const char* body : {R"({"email":"zelda.old@example.org","type":"access"})",
                           R"({"email":"zelda.quartermaine@example.org","type":"erasure"})"}) {
    ASSERT_EQ(call("POST", "/v1/privacy/intake", body).status, 202);
  }
  // A reader with an old snapshot open (a backup, a long report): on SQLite the deleted rows
  // stay readable in the write-ahead log until it ends, and the erasure must not claim more.
  std::optional<db::Database> reader_database;
  std::optional<soci::session> reader;
  if (GetParam() == db::Backend::sqlite) {
    reader_database.emplace(db::DatabaseOptions{database_->options().url, 1});
    reader.emplace(reader_database->pool());
    int users = 0;
    *reader << "BEGIN";
    *reader << "SELECT COUNT(*) FROM users", soci::into(users);
  }

  // Erasure: "delete my account", which a legal hold keeps waiting for a while.
  const auto hold = call("POST", "/v1/admin/legal-holds",
                         R"({"user_id":")" + zelda_id + R"(","reason":"legal_claims","reference":"CASE-9"})", bearer(admin));
  ASSERT_EQ(hold.status, 201) << hold.body;
  const auto deletion = call("DELETE", "/v1/me", "", bearer(zelda));
  ASSERT_EQ(deletion.status, 202) << deletion.body;
  const std::string erasure_id(json_of(deletion).at("id").as_string());
  const auto held = wait_for(admin, erasure_id, [](const boost::json::object& request) { return request.at("status") == "on_hold"; });
  ASSERT_EQ(held.at("status"), "on_hold") << boost::json::serialize(held);
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"zelda.quartermaine@example.org","password":")" + kPassword + "\"}").status,
            403);  // frozen
  ASSERT_EQ(call("DELETE", "/v1/admin/legal-holds/" + std::string(json_of(hold).at("id").as_string()), "", bearer(admin)).status, 204);
  if (reader) {
    const auto waiting = wait_for(admin, erasure_id, [](const boost::json::object& request) {
      return request.at("status_reason").is_string() &&
             request.at("status_reason").as_string().find("write-ahead log") != boost::json::string::npos;
    });
    EXPECT_EQ(waiting.at("status"), "in_progress") << boost::json::serialize(waiting);
    for (const auto& mail : testing::messages_to(outbox(), "zelda.quartermaine@example.org")) {
      EXPECT_NE(mail.subject, "Your personal data has been erased");  // not told "erased" yet
    }
    EXPECT_NE(call("GET", "/metrics", "", {}).body.find("framehouse_privacy_erasure_log_flush_blocked_total{backend=\"sqlite\"}"),
              std::string::npos);
    *reader << "COMMIT";
    reader.reset();
  }
  const auto erasure = wait_until_ended(admin, erasure_id);
  ASSERT_EQ(erasure.at("status"), "completed") << boost::json::serialize(erasure);
  for (const auto& task : erasure.at("tasks").as_array()) EXPECT_EQ(task.at("status"), "done") << boost::json::serialize(task);
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(zelda)).status, 401);
  EXPECT_TRUE(erasure.at("subject_id").is_null());

  // The receipt verifies against the published key and claims an empty re-export.
  const auto key = json_of(call("GET", "/.well-known/framehouse-receipt-key", "", {}));
  const auto& receipt = erasure.at("receipt").as_object();
  const std::string payload(receipt.at("payload").as_string());
  std::vector<unsigned char> public_key(crypto_sign_PUBLICKEYBYTES), signature(crypto_sign_BYTES);
  const std::string key_text(key.at("public_key").as_string()), signature_text(receipt.at("signature").as_string());
  ASSERT_EQ(sodium_base642bin(public_key.data(), public_key.size(), key_text.data(), key_text.size(), nullptr, nullptr, nullptr,
                              sodium_base64_VARIANT_ORIGINAL), 0);
  ASSERT_EQ(sodium_base642bin(signature.data(), signature.size(), signature_text.data(), signature_text.size(), nullptr, nullptr,
                              nullptr, sodium_base64_VARIANT_ORIGINAL), 0);
  EXPECT_EQ(crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                                        public_key.data()), 0);
  const auto claims = boost::json::parse(payload).as_object();
  EXPECT_EQ(claims.at("verified_empty"), true);
  EXPECT_EQ(claims.at("request_id").as_string(), erasure_id);
  EXPECT_EQ(payload.find("zelda"), std::string::npos);

  // The last mail to her carries the receipt as a JSON attachment and a link that works
  // without an account; openssl verifies it with the published key.
  const auto receipt_mail = testing::messages_to(outbox(), "zelda.quartermaine@example.org").back();
  EXPECT_EQ(receipt_mail.subject, "Your personal data has been erased");
  const std::string attached = attachment(receipt_mail.text, "erasure-receipt.json");
  ASSERT_FALSE(attached.empty()) << receipt_mail.text;
  EXPECT_EQ(boost::json::parse(attached), erasure.at("receipt"));
  std::smatch link;
  ASSERT_TRUE(std::regex_search(receipt_mail.text, link, std::regex("/v1/privacy/receipts/([A-Za-z0-9_-]+)"))) << receipt_mail.text;
  const auto fetched = call("GET", "/v1/privacy/receipts/" + link[1].str(), "", {});
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_EQ(json_of(fetched), erasure.at("receipt"));
  EXPECT_EQ(call("GET", "/v1/privacy/receipts/rcpt_forged", "", {}).status, 404);
  // Guessing is limited per client: 30 lookups an hour (two were made above).
  int refused = 0;
  for (int i = 0; i < 30; ++i) refused += call("GET", "/v1/privacy/receipts/rcpt_guess" + std::to_string(i), "", {}).status == 429;
  EXPECT_EQ(refused, 2);
  testing::write_file(dir.path() / "key.pem", std::string(key.at("public_key_pem").as_string()));
  testing::write_file(dir.path() / "payload", payload);
  testing::write_file(dir.path() / "signature", std::string(signature.begin(), signature.end()));
  const auto verified = testing::run_command({"/usr/bin/openssl", "pkeyutl", "-verify", "-pubin", "-inkey", (dir.path() / "key.pem").string(),
                                              "-rawin", "-in", (dir.path() / "payload").string(), "-sigfile",
                                              (dir.path() / "signature").string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("Signature Verified Successfully"), std::string::npos) << verified.out;

  // Nothing of her anywhere: not her addresses, name, prompts or id — except the address on the
  // receipt mail itself, on its way to her.
  const auto traces = residue_of({"zelda.quartermaine@example.org", "zelda.old@example.org", "Zelda Quartermaine", "marmalade",
                                  "glass pears"});
  EXPECT_TRUE(traces.empty()) << ::testing::PrintToString(traces);
  for (const char* other : {"Zelda Quartermaine", "marmalade", "glass pears", "zelda.old"}) {
    EXPECT_EQ(receipt_mail.text.find(other), std::string::npos) << other;
  }
  // Every file the server made is its own user's alone.
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "var")) {
    EXPECT_EQ(entry.status().permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none)
        << entry.path() << " is readable by other users";
  }
  // Her internal id is gone too, from every table but the audit log, whose hash chain keeps
  // internal ids by design (as the server's log does).
  std::vector<std::string> id_traces;
  scan(data_files(), {zelda_id}, id_traces);
  for (const auto& trace : table_traces({zelda_id})) {
    if (trace.rfind("table audit_log: ", 0) != 0) id_traces.push_back(trace);
  }
  EXPECT_TRUE(id_traces.empty()) << ::testing::PrintToString(id_traces);

  // Bob is untouched.
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(bob)).status, 200);
  EXPECT_EQ(call("GET", "/v1/videos/" + bob_video + "/content", "", bearer(bob)).status, 200);
  EXPECT_FALSE(testing::messages_to(outbox(), "bob.other@example.org").empty());
}

TEST_P(PrivacyEndToEnd, IntakeByEmailCodeThenTheLinkFromTheMail) {
  member("Ida Intake", "ida@example.org");
  const auto code_in = [&](const std::string& address) {
    const auto mails = testing::messages_to(outbox(), address);
    const auto& text = mails.back().text;
    const auto at = text.find("Your confirmation code: ");
    return at == std::string::npos ? std::string() : text.substr(at + 24, 6);
  };
  const auto intake = call("POST", "/v1/privacy/intake", R"({"email":"IDA@example.org","type":"access"})");
  ASSERT_EQ(intake.status, 202) << intake.body;
  const std::string id(json_of(intake).at("id").as_string());
  const std::string code = code_in("ida@example.org");
  ASSERT_EQ(code.size(), 6u);
  // An address without an account gets exactly the same answer.
  const auto stranger = call("POST", "/v1/privacy/intake", R"({"email":"nobody@example.org","type":"erasure"})");
  EXPECT_EQ(stranger.status, 202);
  EXPECT_EQ(json_of(stranger).size(), json_of(intake).size());

  const std::string wrong = code == "000000" ? "111111" : "000000";
  EXPECT_EQ(call("POST", "/v1/privacy/intake/" + id + "/verify", R"({"code":")" + wrong + "\"}").status, 422);
  const auto verified = call("POST", "/v1/privacy/intake/" + id + "/verify", R"({"code":")" + code + "\"}");
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(call("POST", "/v1/privacy/intake/" + id + "/verify", R"({"code":")" + code + "\"}").status, 404);  // used

  const std::string admin = administrator();
  ASSERT_EQ(wait_until_ended(admin, id).at("status"), "completed");
  const std::string link_token = testing::token_in(testing::messages_to(outbox(), "ida@example.org").back().text);
  const auto archive = call("GET", "/v1/privacy/requests/" + id + "/download?token=" + link_token, "", {});
  ASSERT_EQ(archive.status, 200);
  EXPECT_NE(testing::read_zip(archive.body).at("core.json").find("Ida Intake"), std::string::npos);

  // Three wrong codes end a request; codes per address are limited.
  const std::string other(json_of(stranger).at("id").as_string());
  const std::string right = code_in("nobody@example.org");
  const std::string bad = right == "000000" ? "111111" : "000000";
  for (int i = 0; i < 3; ++i) call("POST", "/v1/privacy/intake/" + other + "/verify", R"({"code":")" + bad + "\"}");
  EXPECT_EQ(call("POST", "/v1/privacy/intake/" + other + "/verify", R"({"code":")" + right + "\"}").status, 404);
  EXPECT_EQ(call("POST", "/v1/privacy/intake", R"({"email":"ida@example.org","type":"erasure"})").status, 202);
  EXPECT_EQ(call("POST", "/v1/privacy/intake", R"({"email":"ida@example.org","type":"erasure"})").status, 202);
  const auto throttled = call("POST", "/v1/privacy/intake", R"({"email":"ida@example.org","type":"erasure"})");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.header("retry-after"), "3600");

  // Someone without an account: every participant takes part by address, and it completes.
  const auto ghost = call("POST", "/v1/privacy/intake", R"({"email":"ghost@example.org","type":"erasure"})");
  ASSERT_EQ(ghost.status, 202);
  const std::string ghost_id(json_of(ghost).at("id").as_string());
  ASSERT_EQ(call("POST", "/v1/privacy/intake/" + ghost_id + "/verify", R"({"code":")" + code_in("ghost@example.org") + "\"}").status, 200);
  const auto ended = wait_until_ended(admin, ghost_id);
  EXPECT_EQ(ended.at("status"), "completed") << boost::json::serialize(ended);
  // The code mail is gone; the receipt is the one message left.
  const auto left = testing::messages_to(outbox(), "ghost@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].subject, "Your personal data has been erased");
}

TEST_P(PrivacyEndToEnd, ALegalHoldMakesErasureWaitThenItResumes) {
  const std::string admin = administrator();
  const std::string hugo = member("Hugo Held", "hugo@example.org");
  const std::string hugo_id(json_of(call("GET", "/v1/me", "", bearer(hugo))).at("id").as_string());
  const auto hold = call("POST", "/v1/admin/legal-holds",
                         R"({"user_id":")" + hugo_id + R"(","reason":"legal_claims","reference":"CASE-7"})", bearer(admin));
  ASSERT_EQ(hold.status, 201) << hold.body;
  EXPECT_EQ(call("POST", "/v1/admin/legal-holds", R"({"user_id":")" + hugo_id + R"(","reason":"because","reference":"x"})",
                 bearer(admin)).status, 422);
  const std::string erasure(json_of(call("DELETE", "/v1/me", "", bearer(hugo))).at("id").as_string());
  boost::json::object request;
  for (int i = 0; i < 200; ++i) {
    request = json_of(call("GET", "/v1/admin/privacy/requests/" + erasure, "", bearer(admin)));
    if (request.at("status") == "on_hold") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(request.at("status"), "on_hold") << boost::json::serialize(request);
  EXPECT_EQ(request.at("status_reason"), "legal hold: legal_claims");
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(hugo)).status, 401);  // processing stopped
  EXPECT_EQ(call("GET", "/v1/admin/users/" + hugo_id, "", bearer(admin)).status, 200);  // the held data stays
  // The account is frozen: the right password starts no session, and the answer names the
  // hold's existence, not its ground.
  const auto signed_in = call("POST", "/v1/sessions", R"({"email":"hugo@example.org","password":")" + kPassword + "\"}");
  EXPECT_EQ(signed_in.status, 403) << signed_in.body;
  EXPECT_EQ(json_of(signed_in).at("type"), "urn:framehouse:problem:account-frozen");
  EXPECT_EQ(signed_in.body.find("legal_claims"), std::string::npos);
  EXPECT_EQ(call("POST", "/v1/sessions", R"({"email":"hugo@example.org","password":"a wrong password"})").status, 401);
  // He is told, with the ground (the mail follows the status change by a moment).
  std::optional<testing::OutboxMessage> told;
  for (int i = 0; i < 100 && !told; ++i) {
    for (const auto& mail : testing::messages_to(outbox(), "hugo@example.org")) {
      if (mail.subject == "Your erasure request is on hold") told = mail;
    }
    if (!told) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(told.has_value());
  EXPECT_NE(told->text.find("legal_claims"), std::string::npos);

  EXPECT_EQ(call("DELETE", "/v1/admin/legal-holds/" + std::string(json_of(hold).at("id").as_string()), "", bearer(admin)).status, 204);
  EXPECT_EQ(wait_until_ended(admin, erasure).at("status"), "completed");
  // His mail went with his data (the notices included: the integration tests read the one
  // telling him the hold ended); the receipt is what is left.
  const auto left = testing::messages_to(outbox(), "hugo@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].subject, "Your personal data has been erased");
  EXPECT_EQ(call("GET", "/v1/admin/users/" + hugo_id, "", bearer(admin)).status, 404);
  EXPECT_TRUE(json_of(call("GET", "/v1/admin/legal-holds?user_id=" + hugo_id, "", bearer(admin))).at("data").as_array().empty());
}

TEST_P(PrivacyEndToEnd, AnUnderageReportErasesWithoutVerification) {
  const std::string admin = administrator();
  const std::string kid = member("Kid Young", "kid@example.org");
  const std::string kid_id(json_of(call("GET", "/v1/me", "", bearer(kid))).at("id").as_string());
  const auto report = call("POST", "/v1/admin/users/" + kid_id + "/underage", "", bearer(admin));
  ASSERT_EQ(report.status, 202) << report.body;
  EXPECT_EQ(json_of(report).at("source"), "underage");
  EXPECT_EQ(wait_until_ended(admin, std::string(json_of(report).at("id").as_string())).at("status"), "completed");
  EXPECT_EQ(call("GET", "/v1/admin/users/" + kid_id, "", bearer(admin)).status, 404);
  EXPECT_TRUE(residue_of({"kid@example.org", "Kid Young"}).empty());
}

TEST_P(PrivacyEndToEnd, ANameChangeReachesEveryCopy) {
  const std::string admin = administrator();
  const std::string rita = member("Rita Before", "rita@example.org");
  const std::string rita_id(json_of(call("GET", "/v1/me", "", bearer(rita))).at("id").as_string());
  ASSERT_EQ(call("POST", "/v1/admin/users/" + rita_id + "/subscription", R"({"plan":"premium"})", bearer(admin)).status, 200);
  const auto customers = dir.path() / "var" / "plugins" / "payment_manual" / "customers.json";
  EXPECT_NE(testing::read_file(customers).find("Rita Before"), std::string::npos);
  ASSERT_EQ(call("PATCH", "/v1/me", R"({"name":"Rita After"})", bearer(rita)).status, 200);
  for (int i = 0; i < 200 && testing::read_file(customers).find("Rita After") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(testing::read_file(customers).find("Rita After"), std::string::npos);
  EXPECT_EQ(testing::read_file(customers).find("Rita Before"), std::string::npos);
  const auto requests = json_of(call("GET", "/v1/privacy/requests", "", bearer(rita))).at("data").as_array();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("type"), "rectification");
  EXPECT_EQ(requests[0].at("source"), "profile");
  // A correction asked for through the privacy API goes the same way.
  const auto asked = call("POST", "/v1/privacy/requests", R"({"type":"rectification","field":"name","value":"Rita Third"})", bearer(rita));
  ASSERT_EQ(asked.status, 202) << asked.body;
  EXPECT_EQ(wait_until_ended(admin, std::string(json_of(asked).at("id").as_string())).at("status"), "completed");
  EXPECT_EQ(json_of(call("GET", "/v1/me", "", bearer(rita))).at("name"), "Rita Third");
  EXPECT_NE(testing::read_file(customers).find("Rita Third"), std::string::npos);
}

TEST_P(PrivacyEndToEnd, AdminAndPrivacyActionsAreInATamperEvidentLog) {
  const std::string admin = administrator();
  const std::string vera = member("Vera Audited", "vera@example.org");
  const std::string vera_id(json_of(call("GET", "/v1/me", "", bearer(vera))).at("id").as_string());
  ASSERT_EQ(call("GET", "/v1/admin/users/" + vera_id, "", bearer(admin)).status, 200);
  const auto asked = call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(vera));
  const std::string request_id(json_of(asked).at("id").as_string());
  wait_until_ended(admin, request_id);

  const auto entries = json_of(call("GET", "/v1/admin/audit?limit=50", "", bearer(admin))).at("data").as_array();
  std::set<std::string> actions;
  for (const auto& entry : entries) actions.insert(std::string(entry.at("action").as_string()));
  for (const char* action : {"admin.create_user", "admin.get", "privacy.request_received", "privacy.request_ended"}) {
    EXPECT_TRUE(actions.count(action)) << action << " is not in the audit log";
  }
  const std::string text = boost::json::serialize(entries);
  EXPECT_EQ(text.find("vera@example.org"), std::string::npos);  // internal ids only
  EXPECT_EQ(text.find("Vera Audited"), std::string::npos);

  const auto verify = [&] {
    return testing::run_command({FRAMEHOUSE_BINARY, "audit", "verify", "--config", server->config_file().string()});
  };
  const auto intact = verify();
  EXPECT_EQ(intact.exit_code, 0) << intact.out << intact.err;
  EXPECT_NE(intact.out.find("audit log intact"), std::string::npos) << intact.out;
  {
    db::Database database(db::DatabaseOptions{database_->options().url, 1});
    soci::session sql(database.pool());
    sql << "UPDATE audit_log SET actor = 'usr_nobody' WHERE seq = 2";
  }
  const auto tampered = verify();
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.out.find("entry 2 was altered"), std::string::npos) << tampered.out;
}

TEST_P(PrivacyEndToEnd, OptOutsReachEveryPluginAndMarketingMailHonoursThem) {
  const std::string admin = administrator();
  const std::string alice = member("Alice Optout", "alice@example.org");
  const std::string bob = member("Bob Optin", "bob@example.org");
  member("Carol Neverasked", "carol@example.org");
  for (const auto& token : {alice, bob}) {
    ASSERT_EQ(call("PUT", "/v1/me/preferences", R"({"marketing":true})", bearer(token)).status, 200);
  }
  // Alice opts out: at once in the core, then pushed to every plugin.
  const auto opted = call("POST", "/v1/privacy/opt-outs", R"({"category":"marketing"})", bearer(alice));
  ASSERT_EQ(opted.status, 200) << opted.body;
  EXPECT_EQ(json_of(opted).at("marketing"), false);
  EXPECT_EQ(call("POST", "/v1/privacy/opt-outs", R"({"category":"everything"})", bearer(alice)).status, 422);
  boost::json::object request;
  for (int i = 0; i < 200; ++i) {
    const auto list = json_of(call("GET", "/v1/privacy/requests", "", bearer(alice))).at("data").as_array();
    if (!list.empty() && list[0].at("type") == "opt_out" && list[0].at("status") == "completed") {
      request = list[0].as_object();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_FALSE(request.empty()) << "the opt-out did not reach every plugin";
  EXPECT_LE(request.at("completed_at").as_int64() - request.at("created_at").as_int64(), 5);  // seconds, not days
  EXPECT_NE(call("GET", "/metrics", "", {}).body.find("framehouse_privacy_opt_out_seconds_count"), std::string::npos);

  // A marketing announcement reaches only Bob, with RFC 8058 one-click unsubscribe.
  const auto announced = announce(admin, R"({"category":"marketing","subject":"Spring sale","body":"Twice the seconds this week."})");
  ASSERT_EQ(announced.at("status"), "done") << boost::json::serialize(announced);
  EXPECT_EQ(announced.at("queued"), 1);
  const auto to_bob = testing::messages_to(outbox(), "bob@example.org");
  ASSERT_EQ(to_bob.back().subject, "Spring sale");
  EXPECT_TRUE(testing::messages_to(outbox(), "alice@example.org").back().subject != "Spring sale");
  const std::string& text = to_bob.back().text;
  const auto header = text.find("List-Unsubscribe: <");
  ASSERT_NE(header, std::string::npos) << text;
  EXPECT_NE(text.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  const std::string link = text.substr(header + 19, text.find('>', header) - header - 19);
  const std::string path = link.substr(link.find("/v1/unsubscribe/"));
  EXPECT_NE(text.find("Unsubscribe with one click: " + link), std::string::npos);  // visible in the body too

  // A GET (a link scanner) changes nothing; the POST, with no session, unsubscribes without a redirect.
  EXPECT_EQ(call("GET", path, "", {}).status, 200);
  EXPECT_EQ(json_of(call("GET", "/v1/me/preferences", "", bearer(bob))).at("marketing"), true);
  const std::map<std::string, std::string> form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  const auto clicked = call("POST", path, "List-Unsubscribe=One-Click", form);
  EXPECT_EQ(clicked.status, 200);
  EXPECT_EQ(clicked.header("location"), "");
  EXPECT_EQ(json_of(call("GET", "/v1/me/preferences", "", bearer(bob))).at("marketing"), false);
  EXPECT_EQ(call("POST", path, "List-Unsubscribe=One-Click", form).status, 200);  // a replay changes nothing
  // Forged: the token's last two characters changed (to something else than they are).
  const std::string forged = path.substr(0, path.size() - 2) + (path.substr(path.size() - 2) == "00" ? "11" : "00");
  EXPECT_EQ(call("POST", forged, "List-Unsubscribe=One-Click", form).status, 404);
  EXPECT_EQ(announce(admin, R"({"category":"marketing","subject":"Last call","body":"x"})").at("queued"), 0);
  // Bob changes his mind in his settings. As the verified owner of the address his opt-in lifts
  // the suppression his click left with the email provider: the next one reaches him.
  ASSERT_EQ(call("PUT", "/v1/me/preferences", R"({"marketing":true})", bearer(bob)).status, 200);
  EXPECT_EQ(call("PUT", "/v1/me/preferences", R"({"sale_sharing":true})", bearer(bob)).status, 200);  // settable like the rest
  bool lifted = false;
  for (int i = 0; i < 200 && !lifted; ++i) {
    const auto requests = json_of(call("GET", "/v1/privacy/requests", "", bearer(bob)));
    const auto& newest = requests.at("data").as_array().at(0);
    lifted = newest.at("type") == "opt_in" && newest.at("status") == "completed";
    if (!lifted) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(lifted) << "the opt-in did not reach every plugin";
  EXPECT_EQ(announce(admin, R"({"category":"marketing","subject":"Welcome back","body":"x"})").at("queued"), 1);
  EXPECT_EQ(testing::messages_to(outbox(), "bob@example.org").back().subject, "Welcome back");
  // Account mail still goes to everyone.
  EXPECT_GE(announce(admin, R"({"category":"account","subject":"Terms","body":"x"})").at("queued").as_int64(), 4);

  // Global Privacy Control: recorded once as a sale_sharing opt-out.
  const std::string bob_id(json_of(call("GET", "/v1/me", "", bearer(bob))).at("id").as_string());
  auto gpc = bearer(bob);
  gpc["Sec-GPC"] = "1";
  EXPECT_EQ(call("GET", "/v1/me", "", gpc).status, 200);
  EXPECT_EQ(call("GET", "/v1/me", "", gpc).status, 200);
  db::Database database(db::DatabaseOptions{database_->options().url, 1});
  soci::session sql(database.pool());
  int recorded = 0;
  sql << "SELECT COUNT(*) FROM preference_history WHERE user_id = :u AND category = 'sale_sharing' AND source = 'gpc'",
      soci::use(bob_id), soci::into(recorded);
  EXPECT_EQ(recorded, 1);
  // Changes made in the settings say so.
  int from_settings = 0;
  sql << "SELECT COUNT(*) FROM preference_history WHERE user_id = :u AND category = 'marketing' AND source = 'settings'",
      soci::use(bob_id), soci::into(from_settings);
  EXPECT_EQ(from_settings, 2);  // on at first, and on again after the unsubscribe click
}

TEST_P(PrivacyEndToEnd, DisclosuresAreShownToThePersonUnlessRestrictedAndSurviveErasureUnlinked) {
  const std::string admin = administrator();
  const std::string dora = member("Dora Disclosed", "dora@example.org");
  const std::string dora_id(json_of(call("GET", "/v1/me", "", bearer(dora))).at("id").as_string());
  const auto told = call("POST", "/v1/admin/disclosures",
                         R"({"user_id":")" + dora_id +
                             R"(","authority":"District Court","legal_basis":"court order","reference":"CO-12","categories":["email_address"]})",
                         bearer(admin));
  ASSERT_EQ(told.status, 201) << told.body;
  EXPECT_EQ(call("POST", "/v1/admin/disclosures",
                 R"({"user_id":")" + dora_id +
                     R"(","authority":"Police","legal_basis":"warrant","reference":"W-9","categories":["usage"],"notice_restricted":true})",
                 bearer(admin)).status, 422);  // a restriction needs its basis
  ASSERT_EQ(call("POST", "/v1/admin/disclosures",
                 R"({"user_id":")" + dora_id + R"(","authority":"Police","legal_basis":"warrant","reference":"W-9",)"
                 R"("categories":["usage"],"notice_restricted":true,"restriction_basis":"gag order under §123"})",
                 bearer(admin)).status, 201);
  const std::string access(json_of(call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(dora))).at("id").as_string());
  ASSERT_EQ(wait_until_ended(admin, access).at("status"), "completed");
  const auto core = testing::read_zip(call("GET", "/v1/privacy/requests/" + access + "/download", "", bearer(dora)).body).at("core.json");
  EXPECT_NE(core.find("District Court"), std::string::npos);
  EXPECT_EQ(core.find("Police"), std::string::npos);  // restricted: not told

  const std::string erasure(json_of(call("DELETE", "/v1/me", "", bearer(dora))).at("id").as_string());
  EXPECT_EQ(wait_until_ended(admin, erasure).at("status"), "completed");
  const auto log = json_of(call("GET", "/v1/admin/disclosures", "", bearer(admin))).at("data").as_array();
  ASSERT_EQ(log.size(), 2u);  // kept for the legal obligation
  for (const auto& entry : log) EXPECT_EQ(std::string(entry.at("user_id").as_string()).rfind("erased:", 0), 0u);
}

TEST_P(PrivacyEndToEnd, TheTrainingExportHoldsOnlyContentOfThoseWhoConsent) {
  const std::string admin = administrator();
  const std::string tina = member("Tina Trains", "tina@example.org");
  const std::string ned = member("Ned Never", "ned@example.org");
  ASSERT_EQ(call("PUT", "/v1/me/preferences", R"({"training_use":true})", bearer(tina)).status, 200);
  new_video(tina, R"({"prompt":"tina's teapot","seconds":"1","size":"512x512"})");
  new_video(ned, R"({"prompt":"ned's nebula","seconds":"1","size":"512x512"})");
  const auto manifest = call("GET", "/v1/admin/training-export", "", bearer(admin));
  ASSERT_EQ(manifest.status, 200);
  EXPECT_EQ(manifest.header("content-type"), "application/x-ndjson");
  EXPECT_NE(manifest.body.find("tina's teapot"), std::string::npos);
  EXPECT_EQ(manifest.body.find("ned's nebula"), std::string::npos);
  EXPECT_EQ(manifest.body.find("tina@example.org"), std::string::npos);
  ASSERT_EQ(call("POST", "/v1/privacy/opt-outs", R"({"category":"training_use"})", bearer(tina)).status, 200);
  EXPECT_EQ(call("GET", "/v1/admin/training-export", "", bearer(admin)).body.find("tina's teapot"), std::string::npos);

  const auto analytics = json_of(call("GET", "/v1/admin/analytics/signups?period=week", "", bearer(admin)));
  for (const auto& cell : analytics.at("data").as_array()) EXPECT_EQ(cell.at("suppressed"), true);  // three people < 10
  EXPECT_EQ(call("GET", "/v1/admin/analytics/users", "", bearer(admin)).status, 404);
  EXPECT_EQ(call("GET", "/v1/admin/analytics/signups?period=year", "", bearer(admin)).status, 422);
}

// A policy file of this deployment, by its "Last Updated" date.
class PolicyEndToEnd : public PrivacyEndToEnd {
 protected:
  std::string extra_config() const override {
    return "[privacy]\npolicy_file = \"" + (dir.path() / "policy.md").string() + "\"\ncontact = \"dpo@example.org\"\n";
  }
  void SetUp() override {
    testing::write_file(dir.path() / "policy.md", "# Privacy Policy\n\nLast Updated: 2026-01-01\n\nWe keep little.\n");
    PrivacyEndToEnd::SetUp();
  }
  void restart_with_policy(const std::string& text) {
    testing::write_file(dir.path() / "policy.md", text);
    server->process->signal(SIGTERM);
    server->process->wait(std::chrono::seconds(10));
    server = std::make_unique<testing::RunningServer>(testing::server_config(dir.path(), "", database_->options().url) +
                                                      extra_config());
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
  }
};

TEST_P(PolicyEndToEnd, AChangedPolicyIsAnnouncedOnceAndAcknowledged) {
  const auto policy = json_of(call("GET", "/v1/privacy/policy", "", {}));
  EXPECT_EQ(policy.at("last_updated"), "2026-01-01");
  EXPECT_EQ(policy.at("contact"), "dpo@example.org");
  EXPECT_NE(std::string(policy.at("text").as_string()).find("We keep little."), std::string::npos);
  const std::string paula = member("Paula Policy", "paula@example.org");
  EXPECT_FALSE(json_of(call("GET", "/v1/me", "", bearer(paula))).contains("policy_update"));  // signed up under it
  const auto mails_before = testing::messages_to(outbox(), "paula@example.org").size();

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the new version takes effect a second later
  restart_with_policy("# Privacy Policy\n\nLast Updated: 2026-06-01\n\nWe keep little, and say so.\n");
  const auto me = json_of(call("GET", "/v1/me", "", bearer(paula)));
  ASSERT_TRUE(me.contains("policy_update")) << boost::json::serialize(me);
  EXPECT_EQ(me.at("policy_update").at("last_updated"), "2026-06-01");
  const auto notices = [&] {
    int count = 0;
    for (const auto& mail : testing::messages_to(outbox(), "paula@example.org")) count += mail.subject == "Our privacy policy has changed";
    return count;
  };
  for (int i = 0; i < 100 && notices() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // sent at start
  EXPECT_EQ(notices(), 1);
  EXPECT_NE(testing::messages_to(outbox(), "paula@example.org").back().text.find("dpo@example.org"), std::string::npos);
  restart_with_policy("# Privacy Policy\n\nLast Updated: 2026-06-01\n\nWe keep little, and say so.\n");
  EXPECT_EQ(notices(), 1);  // once per version, across restarts
  EXPECT_GT(testing::messages_to(outbox(), "paula@example.org").size(), mails_before);

  ASSERT_EQ(call("POST", "/v1/privacy/policy/acknowledge", "", bearer(paula)).status, 200);
  EXPECT_FALSE(json_of(call("GET", "/v1/me", "", bearer(paula))).contains("policy_update"));
  const std::string admin = administrator();
  const std::string access(json_of(call("POST", "/v1/privacy/requests", R"({"type":"access"})", bearer(paula))).at("id").as_string());
  ASSERT_EQ(wait_until_ended(admin, access).at("status"), "completed");
  const auto archive = testing::read_zip(call("GET", "/v1/privacy/requests/" + access + "/download", "", bearer(paula)).body);
  EXPECT_NE(archive.at("core.json").find("\"policy_acknowledgements\""), std::string::npos);
  EXPECT_NE(archive.at("core.json").find("2026-06-01"), std::string::npos);
  const auto processors = json_of(call("GET", "/v1/privacy/processors", "", {})).at("data").as_array();
  EXPECT_GE(processors.size(), 4u);  // the default plugins and the core
}

// A participant that cannot erase: retried with backoff, then the request ends with an
// exception naming it, an alert metric, and a receipt that says so — never "completed".
class FailingParticipantEndToEnd : public PrivacyEndToEnd {
  std::string extra_config() const override {
    return "[privacy]\nmax_attempts = 2\nretry_base_seconds = 1\n"
           "[plugins.flaky_participant]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/flaky_participant.so\"\nfail_erasures = true\n";
  }
};

TEST_P(FailingParticipantEndToEnd, EndsWithAnExceptionNamingItAndCanBeRetried) {
  const std::string admin = administrator();
  const std::string fay = member("Fay Failing", "fay@example.org");
  const std::string erasure(json_of(call("DELETE", "/v1/me", "", bearer(fay))).at("id").as_string());
  auto request = wait_until_ended(admin, erasure);
  EXPECT_EQ(request.at("status"), "completed_with_exceptions") << boost::json::serialize(request);
  EXPECT_NE(std::string(request.at("status_reason").as_string()).find("flaky_participant"), std::string::npos);
  for (const auto& task : request.at("tasks").as_array()) {
    if (task.at("participant") == "flaky_participant") {
      EXPECT_EQ(task.at("status"), "failed");
      EXPECT_EQ(task.at("attempts"), 2);
      EXPECT_EQ(task.at("last_error"), "the fixture's remote end is down");
    } else {
      EXPECT_EQ(task.at("status"), "done") << boost::json::serialize(task);
    }
  }
  const auto claims = boost::json::parse(request.at("receipt").at("payload").as_string()).as_object();
  EXPECT_EQ(claims.at("verified_empty"), false);
  EXPECT_EQ(claims.at("residue").as_array().size(), 1u);  // the fixture still holds its record
  const auto metrics = call("GET", "/metrics", "", {}).body;
  EXPECT_NE(metrics.find("framehouse_privacy_participant_exhausted_total{participant=\"flaky_participant\"} 1"), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/me", "", bearer(fay)).status, 401);
  // The rest is erased; the receipt (which says what failed) is the one message left.
  const auto left = testing::messages_to(outbox(), "fay@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].subject, "Your personal data has been erased");

  const auto retried = call("POST", "/v1/admin/privacy/requests/" + erasure + "/retry", "", bearer(admin));
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(json_of(retried).at("status"), "in_progress");
  EXPECT_EQ(wait_until_ended(admin, erasure).at("status"), "completed_with_exceptions");
}

// kill -9 at several points of an erasure's fan-out; a restarted server finishes each one with
// nothing left behind.
class CrashEndToEnd : public PrivacyEndToEnd {
 protected:
  std::string extra_config() const override {
    return "[privacy]\nlease_seconds = 3\nretry_base_seconds = 1\n"
           "[plugins.flaky_participant]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/flaky_participant.so\"\ndelay_ms = 600\n";
  }
};

TEST_P(CrashEndToEnd, KilledDuringFanOutThenRestartedFinishesWithNoResidue) {
  const std::string admin = administrator();
  const std::string config = testing::server_config(dir.path(), "", database_->options().url) + extra_config();
  int round = 0;
  for (const int kill_after_ms : {100, 700, 1500}) {
    const std::string email = "crash" + std::to_string(round) + "@example.org";
    const std::string name = "Crash Person" + std::to_string(round);
    const std::string prompt = "a crashing wave number " + std::to_string(round++);
    const std::string token = member(name, email);
    new_video(token, R"({"prompt":")" + prompt + R"(","seconds":"1","size":"512x512"})");
    const auto deletion = call("DELETE", "/v1/me", "", bearer(token));
    ASSERT_EQ(deletion.status, 202);
    const std::string id(json_of(deletion).at("id").as_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    server->process->signal(SIGKILL);
    server->process->wait(std::chrono::seconds(10));
    server = std::make_unique<testing::RunningServer>(config);
    ASSERT_NE(server->port, 0) << server->process->stderr_text();
    const auto request = wait_until_ended(admin, id);
    EXPECT_EQ(request.at("status"), "completed") << "killed after " << kill_after_ms << " ms: " << boost::json::serialize(request);
    const auto traces = residue_of({email, name, prompt});
    EXPECT_TRUE(traces.empty()) << "killed after " << kill_after_ms << " ms: " << ::testing::PrintToString(traces);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, PolicyEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, FailingParticipantEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, CrashEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
