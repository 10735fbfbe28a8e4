// The video API end to end, as an OpenAI Videos client uses it: create, poll, download,
// cancel, delete; on SQLite and PostgreSQL; outputs checked with ffprobe.
#include <signal.h>
#include <sodium.h>

#include <cstring>

#include <regex>
#include <thread>

#include "e2e/end_to_end.hpp"
#include "support/media.hpp"

namespace framehouse {
namespace {

using testing::HttpResponse;
using VideosEndToEnd = EndToEnd;

// Polls as clients do, waiting what openai-poll-after-ms says, until the job ends.
boost::json::object wait_until_done(EndToEnd& test, const std::string& token, const std::string& id,
                                    std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto response = test.call("GET", "/v1/videos/" + id, "", bearer(token));
    auto video = json_of(response);
    const std::string status(video.at("status").as_string());
    if (status == "completed" || status == "failed" || std::chrono::steady_clock::now() > deadline) return video;
    EXPECT_EQ(response.header("openai-poll-after-ms"), "1000");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST_P(VideosEndToEnd, TextToVideoFromCreateToDownload) {
  const std::string token = member("Alice", "alice@example.org");
  const auto created = call("POST", "/v1/videos", R"({"prompt":"a paper boat on a river","seconds":"2","size":"640x360","seed":"5"})",
                            bearer(token));
  ASSERT_EQ(created.status, 200) << created.body;
  const auto queued = json_of(created);
  EXPECT_EQ(queued.at("object"), "video");
  EXPECT_EQ(queued.at("status"), "queued");
  EXPECT_EQ(queued.at("seconds"), "2");
  EXPECT_EQ(queued.at("size"), "640x360");
  const std::string id(queued.at("id").as_string());

  const auto done = wait_until_done(*this, token, id);
  ASSERT_EQ(done.at("status"), "completed") << boost::json::serialize(done);
  EXPECT_EQ(done.at("progress"), 100);
  EXPECT_TRUE(done.at("expires_at").is_int64());

  const auto video = call("GET", "/v1/videos/" + id + "/content", "", {{"Authorization", "Bearer " + token}, {"Accept", "application/binary"}});
  ASSERT_EQ(video.status, 200);
  EXPECT_EQ(video.header("content-type"), "video/mp4");
  auto fields = testing::probe_video(dir.path(), video.body);
  EXPECT_EQ(fields["codec_name"], "h264");
  EXPECT_EQ(fields["width"], "640");
  EXPECT_EQ(fields["height"], "360");
  EXPECT_EQ(fields["nb_read_frames"], "48");
  EXPECT_NEAR(std::stod(fields["duration"]), 2.0, 0.05);

  const auto part = call("GET", "/v1/videos/" + id + "/content", "", {{"Authorization", "Bearer " + token}, {"Range", "bytes=100-199"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, video.body.substr(100, 100));
  EXPECT_EQ(part.header("content-range"), "bytes 100-199/" + std::to_string(video.body.size()));
  const auto beyond = call("GET", "/v1/videos/" + id + "/content", "",
                           {{"Authorization", "Bearer " + token}, {"Range", "bytes=" + std::to_string(video.body.size()) + "-"}});
  EXPECT_EQ(beyond.status, 416);
  // Of several ranges the first is served.
  const auto several = call("GET", "/v1/videos/" + id + "/content", "",
                            {{"Authorization", "Bearer " + token}, {"Range", "bytes=0-9, 200-299"}});
  EXPECT_EQ(several.status, 206);
  EXPECT_EQ(several.body, video.body.substr(0, 10));
  EXPECT_EQ(several.header("content-range"), "bytes 0-9/" + std::to_string(video.body.size()));

  const auto thumbnail = call("GET", "/v1/videos/" + id + "/content?variant=thumbnail", "", bearer(token));
  EXPECT_EQ(thumbnail.status, 200);
  EXPECT_EQ(thumbnail.header("content-type"), "image/jpeg");

  const auto remix = call("POST", "/v1/videos/" + id + "/remix", R"({"prompt":"a paper boat on a lake"})", bearer(token));
  ASSERT_EQ(remix.status, 200) << remix.body;
  const auto remixed = json_of(remix);
  EXPECT_EQ(remixed.at("remixed_from_video_id").as_string(), id);
  EXPECT_EQ(remixed.at("seed"), queued.at("seed"));
  EXPECT_EQ(remixed.at("size"), "640x360");
  EXPECT_EQ(wait_until_done(*this, token, std::string(remixed.at("id").as_string())).at("status"), "completed");

  // Newest first; cursor paging with after/limit.
  const auto first_page = json_of(call("GET", "/v1/videos?limit=1", "", bearer(token)));
  EXPECT_EQ(first_page.at("object"), "list");
  EXPECT_EQ(first_page.at("first_id"), remixed.at("id"));
  EXPECT_EQ(first_page.at("has_more"), true);
  const auto second_page =
      json_of(call("GET", "/v1/videos?limit=1&after=" + std::string(first_page.at("last_id").as_string()), "", bearer(token)));
  // A cursor that names no video of the caller is an error, not page one again.
  const auto unknown = call("GET", "/v1/videos?after=video_unknown", "", bearer(token));
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(json_of(unknown).at("error").at("param"), "after");
  EXPECT_EQ(second_page.at("first_id").as_string(), id);
  EXPECT_EQ(second_page.at("has_more"), false);

  // Deleting removes the record and the stored files.
  const std::string owner(json_of(call("GET", "/v1/me", "", bearer(token))).at("id").as_string());
  const auto objects = dir.path() / "var" / "plugins" / "storage_fs" / "objects" / owner;
  EXPECT_TRUE(std::filesystem::exists(objects / (id + ".mp4")));
  EXPECT_TRUE(std::filesystem::exists(objects / (id + ".jpg")));
  const auto deleted = call("DELETE", "/v1/videos/" + id, "", bearer(token));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(json_of(deleted).at("object"), "video.deleted");
  EXPECT_FALSE(std::filesystem::exists(objects / (id + ".mp4")));
  EXPECT_FALSE(std::filesystem::exists(objects / (id + ".jpg")));
  EXPECT_EQ(call("GET", "/v1/videos/" + id, "", bearer(token)).status, 404);
}

TEST_P(VideosEndToEnd, ServerSentEventsFollowAJobToTheEnd) {
  const std::string token = member("Alice", "alice@example.org");
  const auto created = json_of(call("POST", "/v1/videos", R"({"prompt":"events","seconds":"6","size":"1280x720"})", bearer(token)));
  const std::string id(created.at("id").as_string());
  testing::HttpConnection connection("127.0.0.1", server->port);
  connection.send_raw("GET /v1/videos/" + id + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  const std::string stream = connection.read_until_closed();
  EXPECT_NE(stream.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(stream.find("Content-Type: text/event-stream"), std::string::npos) << stream.substr(0, 400);
  EXPECT_NE(stream.find("Transfer-Encoding: chunked"), std::string::npos);
  // Progress events with rising percentages, then the end.
  std::vector<int> percents;
  const std::regex progress("event: video.progress\r?\ndata: \\{[^\n]*\"progress\":([0-9]+)");
  for (std::sregex_iterator it(stream.begin(), stream.end(), progress), end; it != end; ++it) {
    percents.push_back(std::stoi((*it)[1]));
  }
  EXPECT_GE(percents.size(), 2u) << stream;
  EXPECT_TRUE(std::is_sorted(percents.begin(), percents.end()));
  EXPECT_NE(stream.find("event: video.completed"), std::string::npos) << stream;
  EXPECT_EQ(call("GET", "/v1/videos/missing/events", "", bearer(token)).status, 404);
}

// As the OpenAI client sends it: multipart, with its own default model name.
TEST_P(VideosEndToEnd, ImageToVideoFromAMultipartFilePart) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string boundary = "video-form-boundary";
  const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nmy garden\r\n"
                           "--" + boundary + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nsora-2\r\n"
                           "--" + boundary + "\r\nContent-Disposition: form-data; name=\"seconds\"\r\n\r\n1\r\n"
                           "--" + boundary + "\r\nContent-Disposition: form-data; name=\"size\"\r\n\r\n640x360\r\n"
                           "--" + boundary + "\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"g.png\"\r\n"
                           "Content-Type: image/png\r\n\r\n" + small_png() + "\r\n--" + boundary + "--\r\n";
  auto headers = bearer(token);
  headers["Content-Type"] = "multipart/form-data; boundary=" + boundary;
  const auto created = call("POST", "/v1/videos", body, headers);
  ASSERT_EQ(created.status, 200) << created.body;
  const auto video = json_of(created);
  EXPECT_TRUE(video.at("input_image_id").is_string());
  EXPECT_EQ(video.at("model"), "procedural-1");  // the model that runs it
  const auto done = wait_until_done(*this, token, std::string(video.at("id").as_string()));
  EXPECT_EQ(done.at("status"), "completed") << boost::json::serialize(done);
  // The input image is one of the user's images now.
  EXPECT_EQ(json_of(call("GET", "/v1/images", "", bearer(token))).at("data").as_array().size(), 1u);
}

TEST_P(VideosEndToEnd, ImageToVideoFromADataUrl) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string png = small_png();
  std::string encoded(sodium_base64_ENCODED_LEN(png.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(png.data()), png.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(std::strlen(encoded.c_str()));
  const std::string body = R"({"prompt":"from a data url","seconds":"1","size":"512x512","input_reference":{"image_url":"data:image/png;base64,)" +
                           encoded + "\"}}";
  const auto created = call("POST", "/v1/videos", body, bearer(token));
  ASSERT_EQ(created.status, 200) << created.body;
  const auto video = json_of(created);
  ASSERT_TRUE(video.at("input_image_id").is_string());
  EXPECT_EQ(wait_until_done(*this, token, std::string(video.at("id").as_string())).at("status"), "completed");
  // The same image by its URL on this server.
  const std::string url = "/v1/images/" + std::string(video.at("input_image_id").as_string()) + "/content";
  const auto again = call("POST", "/v1/videos",
                          R"({"prompt":"again","seconds":"1","size":"512x512","input_reference":{"image_url":")" + url + "\"}}",
                          bearer(token));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json_of(again).at("input_image_id"), video.at("input_image_id"));
  EXPECT_EQ(wait_until_done(*this, token, std::string(json_of(again).at("id").as_string())).at("status"), "completed");
  // And by its id, as input_reference[file_id].
  const auto by_id = call("POST", "/v1/videos",
                          R"({"prompt":"by id","seconds":"1","size":"512x512","input_reference":{"file_id":")" +
                              std::string(video.at("input_image_id").as_string()) + "\"}}",
                          bearer(token));
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(json_of(by_id).at("input_image_id"), video.at("input_image_id"));
  // A 96x64 image for a 720x1280 video is 2.7 times too wide: a crop would lose most of it.
  const auto misshapen = call("POST", "/v1/videos",
                              R"({"prompt":"tall","seconds":"1","size":"720x1280","input_reference":{"file_id":")" +
                                  std::string(video.at("input_image_id").as_string()) + "\"}}",
                              bearer(token));
  ASSERT_EQ(misshapen.status, 422) << misshapen.body;
  EXPECT_EQ(json_of(misshapen).at("error").at("param"), "input_reference");
  EXPECT_NE(misshapen.body.find("is 96x64, too far from the video's 720x1280 in shape"), std::string::npos) << misshapen.body;
}

TEST_P(VideosEndToEnd, CancelStopsARunningJob) {
  const std::string token = member("Alice", "alice@example.org");
  const auto created = json_of(call("POST", "/v1/videos", R"({"prompt":"a long one","seconds":"20","size":"1280x720"})", bearer(token)));
  const std::string id(created.at("id").as_string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (json_of(call("GET", "/v1/videos/" + id, "", bearer(token))).at("status") == "queued" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto canceled_at = std::chrono::steady_clock::now();
  EXPECT_EQ(call("POST", "/v1/videos/" + id + "/cancel", "", bearer(token)).status, 200);
  const auto done = wait_until_done(*this, token, id, std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - canceled_at, std::chrono::seconds(2));
  EXPECT_EQ(done.at("status"), "failed");
  EXPECT_EQ(done.at("error").at("code"), "canceled");
  EXPECT_EQ(call("POST", "/v1/videos/" + id + "/cancel", "", bearer(token)).status, 409);
  EXPECT_EQ(call("GET", "/v1/videos/" + id + "/content", "", bearer(token)).status, 409);
}

TEST_P(VideosEndToEnd, AJobRunningWhenTheProcessDiedRunsAgainAfterARestart) {
  const std::string token = member("Alice", "alice@example.org");
  // A second configuration on the same database and files, with a short lease.
  const std::string config = testing::server_config(dir.path(), "", database_->options().url) + "[video]\nlease_seconds = 2\n";
  testing::RunningServer first(config);
  ASSERT_NE(first.port, 0);
  server.reset();  // only `first` works on the queue now
  const auto created = json_of(testing::http_request(
      first.port, "POST", "/v1/videos", R"({"prompt":"interrupted","seconds":"20","size":"1280x720"})", bearer(token)));
  const std::string id(created.at("id").as_string());
  for (int i = 0; i < 200; ++i) {
    const auto video = json_of(testing::http_request(first.port, "GET", "/v1/videos/" + id, "", bearer(token)));
    if (video.at("status") == "in_progress" && video.at("progress").as_int64() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  first.process->signal(SIGKILL);
  first.process->wait(std::chrono::seconds(5));

  testing::RunningServer second(config);
  ASSERT_NE(second.port, 0) << second.process->stderr_text();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  boost::json::object video;
  while (std::chrono::steady_clock::now() < deadline) {
    video = json_of(testing::http_request(second.port, "GET", "/v1/videos/" + id, "", bearer(token)));
    if (video.at("status") == "completed" || video.at("status") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(video.at("status"), "completed") << boost::json::serialize(video);
  EXPECT_NE(second.process->stderr_text().find("\"msg\":\"job started\",\"video\":\"" + id), std::string::npos);
}

// The configuration with the fixture engine (other_kinds) instead of gen_procedural.
std::string fixture_engine_config(const std::filesystem::path& dir, const std::string& database_url) {
  std::string config = testing::server_config(dir, "", database_url);
  const std::string engine = "[generation]\nplugin = \"gen_procedural\"";
  config.replace(config.find(engine), engine.size(), "[generation]\nplugin = \"other_kinds\"");
  return config + "[plugins.other_kinds]\npath = \"" FRAMEHOUSE_FIXTURE_DIR "/other_kinds.so\"\nwebhook_secret = \"s\"\n";
}

TEST_P(VideosEndToEnd, AnEngineReattachesToWhatItRememberedWhenTheJobRunsAgainAfterARestart) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string config = fixture_engine_config(dir.path(), database_->options().url);
  server.reset();
  auto first = std::make_unique<testing::RunningServer>(config);
  ASSERT_NE(first->port, 0) << first->process->stderr_text();
  const auto created = json_of(testing::http_request(
      first->port, "POST", "/v1/videos", R"({"prompt":"please resume","seconds":"1","size":"64x64"})", bearer(token)));
  const std::string id(created.at("id").as_string());
  for (int i = 0; i < 200; ++i) {
    const auto video = json_of(testing::http_request(first->port, "GET", "/v1/videos/" + id, "", bearer(token)));
    if (video.at("progress").as_int64() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  first->process->signal(SIGTERM);  // the job goes back to the queue; what the engine remembered stays
  EXPECT_EQ(first->process->wait(std::chrono::seconds(10)), 0);
  first.reset();

  testing::RunningServer second(config);
  ASSERT_NE(second.port, 0) << second.process->stderr_text();
  boost::json::object video;
  for (int i = 0; i < 200; ++i) {
    video = json_of(testing::http_request(second.port, "GET", "/v1/videos/" + id, "", bearer(token)));
    if (video.at("status") == "completed" || video.at("status") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(video.at("status"), "completed") << boost::json::serialize(video);
  EXPECT_EQ(testing::http_request(second.port, "GET", "/v1/videos/" + id + "/content", "", bearer(token)).body,
            "video-of:resumed remote-" + id);
}

TEST_P(VideosEndToEnd, AFailingEngineFailsTheJobWithAReasonAndTheServerServesOn) {
  const std::string config = fixture_engine_config(dir.path(), database_->options().url);
  server.reset();
  testing::RunningServer faulty(config);
  ASSERT_NE(faulty.port, 0) << faulty.process->stderr_text();
  const auto signed_in = [&] {
    testing::run_command({FRAMEHOUSE_BINARY, "admin", "create-user", "--config", faulty.config_file().string(), "--email",
                          "f@example.org", "--name", "F"},
                         {}, "a faulty pass phrase\n");
    return std::string(json_of(testing::http_request(faulty.port, "POST", "/v1/sessions",
                                                     R"({"email":"f@example.org","password":"a faulty pass phrase"})", kJson))
                           .at("token")
                           .as_string());
  };
  const std::string token = signed_in();
  const auto finish = [&](const std::string& prompt) {
    const auto created = json_of(testing::http_request(
        faulty.port, "POST", "/v1/videos", R"({"prompt":")" + prompt + R"(","seconds":"1","size":"64x64"})", bearer(token)));
    const std::string id(created.at("id").as_string());
    for (int i = 0; i < 200; ++i) {
      auto video = json_of(testing::http_request(faulty.port, "GET", "/v1/videos/" + id, "", bearer(token)));
      if (video.at("status") == "completed" || video.at("status") == "failed") return video;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return boost::json::object{};
  };
  const auto failed = finish("please fail");
  EXPECT_EQ(failed.at("status"), "failed");
  EXPECT_EQ(failed.at("error").at("code"), "generation_failed");
  EXPECT_EQ(failed.at("error").at("message"), "the fixture engine failed on purpose");
  const auto thrown = finish("please throw");
  EXPECT_EQ(thrown.at("status"), "failed");
  EXPECT_NE(std::string(thrown.at("error").at("message").as_string()).find("threw"), std::string::npos);
  EXPECT_EQ(testing::http_request(faulty.port, "GET", "/healthz").status, 200);
  EXPECT_EQ(finish("a good one").at("status"), "completed");
}

TEST_P(VideosEndToEnd, BadRequestsNameTheField) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string bob = member("Bob", "bob@example.org");
  auto [upload_body, upload_headers] = image_upload(small_png(), bob);
  const std::string bobs_image(json_of(call("POST", "/v1/images", upload_body, upload_headers)).at("id").as_string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"prompt":"x","size":"999x999"})", "size"},
      {R"({"prompt":"x","seconds":"0"})", "seconds"},
      {R"({"prompt":"x","seconds":"4.5"})", "seconds"},
      {R"({"prompt":"x","seconds":"21"})", "seconds"},
      {R"({"prompt":"x","model":"no-such-model"})", "model"},
      {R"({"seconds":"4"})", "prompt"},
      {"{\"prompt\":\"" + std::string(32001, 'a') + "\"}", "prompt"},
      {R"({"prompt":"x","input_image_id":")" + bobs_image + "\"}", "input_image_id"},
      {R"({"prompt":"x","input_reference":{"file_id":")" + bobs_image + "\"}}", "input_reference"},
      {R"({"prompt":"x","input_reference":{"image_url":"http://169.254.169.254/"}})", "input_reference"},
      {R"({"prompt":"x","seed":"-1"})", "seed"},
      {R"({"prompt":"x","colour":"red"})", "colour"},
      {R"({"prompt":42,"seconds":"1"})", "prompt"},            // a number is not text
      {R"({"prompt":"a\u0000b","seconds":"1"})", "prompt"},     // nor is a NUL byte
  };
  for (const auto& [body, field] : cases) {
    const auto response = call("POST", "/v1/videos", body, bearer(alice));
    EXPECT_EQ(response.status, body.size() > 4096 ? 413 : 422) << body.substr(0, 80) << ": " << response.body;
    if (response.status == 422) {
      // OpenAI's error shape, so that its clients see error.param and error.code.
      EXPECT_EQ(response.header("content-type"), "application/json");
      const auto error = json_of(response).at("error").as_object();
      EXPECT_EQ(error.at("param"), boost::json::value(field)) << response.body;
      EXPECT_EQ(error.at("code"), "validation_failed");
      EXPECT_EQ(error.at("type"), "invalid_request_error");
      EXPECT_NE(std::string(error.at("message").as_string()).find(field), std::string::npos);
    }
  }
  EXPECT_TRUE(json_of(call("GET", "/v1/videos", "", bearer(alice))).at("data").as_array().empty());
}

TEST_P(VideosEndToEnd, ARetryWithTheSameIdempotencyKeyGetsTheFirstVideo) {
  const std::string alice = member("Alice", "alice@example.org");
  const std::string bob = member("Bob", "bob@example.org");
  const auto with_key = [](const std::string& token, const std::string& key) {
    auto headers = bearer(token);
    headers["Idempotency-Key"] = key;
    return headers;
  };
  const std::string body = R"({"prompt":"once only","seconds":"1","size":"512x512"})";
  const auto first = call("POST", "/v1/videos", body, with_key(alice, "order-17"));
  ASSERT_EQ(first.status, 200) << first.body;
  const auto id = json_of(first).at("id");
  EXPECT_EQ(first.header("idempotent-replayed"), "");

  // The same request again (the client lost the answer): the same video, no second job.
  const auto retry = call("POST", "/v1/videos", body, with_key(alice, "order-17"));
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(json_of(retry).at("id"), id);
  EXPECT_EQ(retry.header("idempotent-replayed"), "true");
  // As multipart with another boundary, the same fields are the same request.
  const std::string boundary = "another-boundary-42";
  std::string form;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"prompt", "once only"}, {"seconds", "1"}, {"size", "512x512"}}) {
    form += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  }
  form += "--" + boundary + "--\r\n";
  auto multipart = with_key(alice, "order-17");
  multipart["Content-Type"] = "multipart/form-data; boundary=" + boundary;
  EXPECT_EQ(json_of(call("POST", "/v1/videos", form, multipart)).at("id"), id);
  EXPECT_EQ(json_of(call("GET", "/v1/videos", "", bearer(alice))).at("data").as_array().size(), 1u);

  // The key with another request is refused; another user's key space is their own.
  const auto reused = call("POST", "/v1/videos", R"({"prompt":"something else","seconds":"1","size":"512x512"})",
                           with_key(alice, "order-17"));
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(json_of(reused).at("error").at("param"), "Idempotency-Key") << reused.body;
  const auto bobs = call("POST", "/v1/videos", body, with_key(bob, "order-17"));
  ASSERT_EQ(bobs.status, 200);
  EXPECT_NE(json_of(bobs).at("id"), id);
  EXPECT_EQ(call("POST", "/v1/videos", body, with_key(alice, std::string(256, 'k'))).status, 422);

  // Remixes too: the same remix of the same video once.
  const std::string remix = "/v1/videos/" + std::string(id.as_string()) + "/remix";
  ASSERT_EQ(wait_until_done(*this, alice, std::string(id.as_string())).at("status"), "completed");
  const auto remixed = call("POST", remix, R"({"prompt":"twice over"})", with_key(alice, "remix-1"));
  ASSERT_EQ(remixed.status, 200) << remixed.body;
  EXPECT_EQ(json_of(call("POST", remix, R"({"prompt":"twice over"})", with_key(alice, "remix-1"))).at("id"),
            json_of(remixed).at("id"));
  EXPECT_EQ(json_of(call("GET", "/v1/videos", "", bearer(alice))).at("data").as_array().size(), 2u);
}

TEST_P(VideosEndToEnd, ConcurrentRetriesWithOneIdempotencyKeyMakeOneJob) {
  const std::string alice = member("Alice", "alice@example.org");
  auto headers = bearer(alice);
  headers["Idempotency-Key"] = "burst";
  std::vector<std::string> ids(8);
  std::vector<std::thread> clients;
  for (auto& id : ids) {
    clients.emplace_back([&, &id = id] {
      const auto answer = call("POST", "/v1/videos", R"({"prompt":"one of eight","seconds":"1","size":"512x512"})", headers);
      if (answer.status == 200) id = std::string(json_of(answer).at("id").as_string());
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_FALSE(ids[0].empty());
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(json_of(call("GET", "/v1/videos", "", bearer(alice))).at("data").as_array().size(), 1u);
}

TEST_P(VideosEndToEnd, UnverifiedAccountsCannotGenerate) {
  ASSERT_EQ(call("POST", "/v1/accounts", sign_up_body("Una", "una@example.org")).status, 202);
  const auto session = call("POST", "/v1/sessions", R"({"email":"una@example.org","password":"correct horse battery"})");
  const std::string token(json_of(session).at("token").as_string());
  const auto refused = call("POST", "/v1/videos", R"({"prompt":"x"})", bearer(token));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("confirm your email"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, VideosEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
