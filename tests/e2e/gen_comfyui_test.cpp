// gen_comfyui against the ComfyUI stand-in (tests/compat/comfyui_server): its HTTP and websocket
// protocol as ComfyUI speaks it, nodes that render an MP4 with ffmpeg, and faults. What reached
// it is read from its own counts (/_standin/stats).
#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include "e2e/end_to_end.hpp"
#include "support/comfyui_server.hpp"
#include "support/media.hpp"

namespace framehouse {
namespace {

namespace json = boost::json;

const std::filesystem::path kWorkflows = std::filesystem::path(FRAMEHOUSE_SOURCE_DIR) / "tests/fixtures/comfyui";

class GenComfyUiEndToEnd : public EndToEnd {
 protected:
  void SetUp() override {
    FRAMEHOUSE_SETUP_DATABASE(database_);
    ASSERT_NE(comfy.start(), 0);
    // A model whose loader names a file the server does not have, next to an output that is
    // fine: ComfyUI queues it and answers 200 with node_errors.
    std::ifstream in(kWorkflows / "wan_t2v.json");
    auto broken = json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())).as_object();
    broken["1"].as_object()["inputs"].as_object()["unet_name"] = "wan2.1_missing.safetensors";
    broken["20"] = json::object{{"class_type", "PreviewImage"}, {"inputs", json::object{{"images", json::array{"21", 0}}}}};
    broken["21"] = json::object{{"class_type", "LoadImage"}, {"inputs", json::object{{"image", "example.png"}}}};
    std::ofstream(workflows.path() / "broken.json") << json::serialize(broken);
    std::ofstream(comfy.root() / "input" / "example.png") << small_png();
    server = start_framehouse();
  }
  std::string extra_config() const override {
    return "[plugins.gen_comfyui]\nbase_url = [\"" + comfy.base_url() + "\"]\nworkflow_dir = \"" + kWorkflows.string() +
           "\"\nworkflows = [\"wan-t2v=wan_t2v.json\", \"wan-i2v=wan_i2v.json\", \"broken=" + (workflows.path() / "broken.json").string() +
           "\"]\nsizes = [\"640x360\", \"512x512\"]\nmax_seconds = 8\nnegative_prompt = \"blurry\"\ntimeout_ms = 5000\n" + cleanup_config;
  }
  std::unique_ptr<testing::RunningServer> start_framehouse() {
    std::string config = testing::server_config(dir.path(), "[video]\nlease_seconds = 2\n", database_->options().url);
    const std::string single = "[generation]\nplugin = \"gen_procedural\"";
    config.replace(config.find(single), single.size(), "[generation]\nplugin = \"gen_comfyui\"");
    auto started = std::make_unique<testing::RunningServer>(config + extra_config());
    EXPECT_NE(started->port, 0) << started->process->stderr_text();
    return started;
  }
  json::object wait_for(const std::string& token, const std::string& id, const std::string& status,
                        std::chrono::seconds within = std::chrono::seconds(60), std::set<int>* progress_seen = nullptr) {
    json::object video;
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      video = json_of(call("GET", "/v1/videos/" + id, "", bearer(token)));
      if (progress_seen != nullptr) progress_seen->insert(static_cast<int>(video.at("progress").as_int64()));
      if (video.at("status").as_string() == status || video.at("status") == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return video;
  }
  std::string submit(const std::string& token, const std::string& body) {
    const auto response = call("POST", "/v1/videos", body, bearer(token));
    EXPECT_EQ(response.status, 200) << response.body;
    return response.status == 200 ? std::string(json_of(response).at("id").as_string()) : "";
  }
  std::size_t count(const char* stat) { return comfy.stats().at(stat).as_array().size(); }
  std::size_t files_on_comfyui() const {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(comfy.root())) files += entry.is_regular_file();
    return files;
  }
  // The person deletes their account; the erasure request as staff see it once it ended.
  json::object erase(const std::string& token) {
    const std::string admin = administrator();
    const std::string erasure(json_of(call("DELETE", "/v1/me", "", bearer(token))).at("id").as_string());
    json::object request;
    for (int i = 0; i < 600; ++i) {
      request = json_of(call("GET", "/v1/admin/privacy/requests/" + erasure, "", bearer(admin)));
      const auto status = request.at("status").as_string();
      if (status != "pending" && status != "in_progress") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return request;
  }
  // Waits until the stand-in runs a prompt.
  void wait_until_running() {
    for (int i = 0; i < 200; ++i) {
      const auto queue = json::parse(testing::http_request(comfy.port(), "GET", "/queue").body).as_object();
      if (!queue.at("queue_running").as_array().empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "the stand-in never ran the prompt";
  }

  testing::TempDir comfy_dir, workflows;
  testing::ComfyUiServer comfy{comfy_dir.path()};
  std::string cleanup_config;
};

TEST_P(GenComfyUiEndToEnd, RendersWithProgressFromTheSocketAndDeletesTheHistory) {
  const std::string token = member("Alice", "alice@example.org");
  std::set<int> seen;
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"a red kite","seconds":"2","size":"640x360","seed":"42"})");
  const auto done = wait_for(token, id, "completed", std::chrono::seconds(60), &seen);
  ASSERT_EQ(done.at("status"), "completed") << json::serialize(done) << comfy.log();
  EXPECT_EQ(done.at("engine"), "gen_comfyui");
  // Whole-job percentages on the way, not a jump from 0 to 100.
  EXPECT_GE(std::count_if(seen.begin(), seen.end(), [](int p) { return p > 0 && p < 100; }), 3) << seen.size();
  const auto content = call("GET", "/v1/videos/" + id + "/content", "", bearer(token));
  ASSERT_EQ(content.status, 200);
  EXPECT_EQ(content.body.substr(4, 4), "ftyp");
  // ComfyUI makes no thumbnail: one made from the video's first picture.
  const auto thumbnail = call("GET", "/v1/videos/" + id + "/content?variant=thumbnail", "", bearer(token));
  ASSERT_EQ(thumbnail.status, 200) << server->process->stderr_text();
  EXPECT_EQ(thumbnail.body.substr(0, 2), "\xFF\xD8");
  const auto stats = comfy.stats();
  ASSERT_EQ(stats.at("submissions").as_array().size(), 1u);
  const auto prompt_id = stats.at("submissions").as_array()[0];
  EXPECT_EQ(stats.at("history_deletes").as_array().back(), prompt_id);  // the prompt's record went
  EXPECT_EQ(testing::http_request(comfy.port(), "GET", "/history").body, "{}");
  // Under the job's own prefix ({{filename_prefix}}), so that a cleanup can find it.
  std::size_t outputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(comfy.root() / "output" / "framehouse")) {
    outputs += entry.path().extension() == ".mp4";
  }
  EXPECT_EQ(outputs, 1u);

  // Image-to-video: the image is uploaded, the output comes from VideoHelperSuite's `gifs`.
  auto [upload, upload_headers] = image_upload(small_png(), token);
  const std::string image(json_of(call("POST", "/v1/images", upload, upload_headers)).at("id").as_string());
  const std::string animated =
      submit(token, R"({"model":"wan-i2v","prompt":"my garden","seconds":"1","size":"512x512","input_image_id":")" + image + "\"}");
  EXPECT_EQ(wait_for(token, animated, "completed").at("status"), "completed");
  EXPECT_EQ(count("uploads"), 1u);
  EXPECT_EQ(count("submissions"), 2u);
  // The 96x64 image went up cropped to the video's 512x512, not stretched: a JPEG of that size.
  const auto uploaded = comfy.root() / "input" / std::string(comfy.stats().at("uploads").as_array()[0].as_string());
  const auto probed = testing::probe_video(comfy_dir.path(), testing::read_file(uploaded));
  EXPECT_EQ(probed.at("codec_name"), "mjpeg");
  EXPECT_EQ(probed.at("width"), "512");
  EXPECT_EQ(probed.at("height"), "512");
}

TEST_P(GenComfyUiEndToEnd, NodeErrorsAndExecutionErrorsFailWithTheNodesMessage) {
  const std::string token = member("Alice", "alice@example.org");
  const std::string refused = submit(token, R"({"model":"broken","prompt":"x","seconds":"1","size":"512x512"})");
  const auto failed = wait_for(token, refused, "failed");
  ASSERT_EQ(failed.at("status"), "failed");
  const std::string message(failed.at("error").at("message").as_string());
  EXPECT_NE(message.find("UNETLoader (node 1): Value not in list"), std::string::npos) << message;
  EXPECT_EQ(failed.at("error").at("code"), "invalid_request");

  comfy.inject(R"({"fail_node":"7"})");
  const std::string crashed = submit(token, R"({"model":"wan-t2v","prompt":"y","seconds":"1","size":"512x512"})");
  const auto out_of_memory = wait_for(token, crashed, "failed");
  ASSERT_EQ(out_of_memory.at("status"), "failed");
  const std::string why(out_of_memory.at("error").at("message").as_string());
  EXPECT_NE(why.find("KSampler (node 7): Allocation on device 0 would exceed allowed memory"), std::string::npos) << why;
  EXPECT_EQ(testing::http_request(comfy.port(), "GET", "/history").body, "{}");  // both records deleted
}

TEST_P(GenComfyUiEndToEnd, ACancelInterruptsTheRunningPromptWithinASecond) {
  comfy.inject(R"({"step_seconds":0.5})");
  const std::string token = member("Alice", "alice@example.org");
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"a long take","seconds":"5","size":"640x360"})");
  wait_until_running();
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(call("POST", "/v1/videos/" + id + "/cancel", "", bearer(token)).status, 200);
  const auto canceled = wait_for(token, id, "failed", std::chrono::seconds(10));
  EXPECT_EQ(canceled.at("error").at("code"), "canceled") << json::serialize(canceled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(count("cancels"), 1u);  // the server's cancel route
}

TEST_P(GenComfyUiEndToEnd, WithoutTheCancelRouteItInterruptsAndDeletesFromTheQueue) {
  comfy.stop();
  ASSERT_NE(comfy.start(false, comfy.port()), 0);
  comfy.inject(R"({"step_seconds":0.5})");
  const std::string token = member("Alice", "alice@example.org");
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"a long take","seconds":"5","size":"640x360"})");
  wait_until_running();
  ASSERT_EQ(call("POST", "/v1/videos/" + id + "/cancel", "", bearer(token)).status, 200);
  EXPECT_EQ(wait_for(token, id, "failed", std::chrono::seconds(10)).at("error").at("code"), "canceled");
  for (int i = 0; i < 100 && comfy.stats().at("interrupts").as_int64() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(comfy.stats().at("interrupts").as_int64(), 1);
  EXPECT_EQ(count("queue_deletes"), 1u);
}

TEST_P(GenComfyUiEndToEnd, ADroppedSocketFallsBackToTheHistoryAndABrokenDownloadDoesNotRenderAgain) {
  comfy.inject(R"({"drop_sockets_at_step":3,"cut_view_after_bytes":1000})");
  const std::string token = member("Alice", "alice@example.org");
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"steady","seconds":"2","size":"640x360"})");
  const auto done = wait_for(token, id, "completed");
  ASSERT_EQ(done.at("status"), "completed") << json::serialize(done);
  EXPECT_EQ(call("GET", "/v1/videos/" + id + "/content", "", bearer(token)).body.substr(4, 4), "ftyp");
  const auto stats = comfy.stats();
  EXPECT_EQ(stats.at("submissions").as_array().size(), 1u);
  EXPECT_EQ(stats.at("views").as_int64(), 2);  // the cut download, then the whole one
}

TEST_P(GenComfyUiEndToEnd, RestartsOnEitherSideLoseNothingAndRenderNothingTwice) {
  comfy.inject(R"({"step_seconds":0.15})");
  const std::string token = member("Alice", "alice@example.org");
  // kill -9 of our side in the middle: the process that takes over follows the same prompt.
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"interrupted","seconds":"2","size":"640x360"})");
  wait_until_running();
  server->process->signal(SIGKILL);
  server->process->wait(std::chrono::seconds(10));
  server = start_framehouse();
  ASSERT_NE(server->port, 0);
  EXPECT_EQ(wait_for(token, id, "completed").at("status"), "completed");
  EXPECT_EQ(count("submissions"), 1u);  // reattached, not submitted again

  // ComfyUI restarts mid-prompt and forgets its queue: the prompt goes once more, same seed.
  const std::string forgotten = submit(token, R"({"model":"wan-t2v","prompt":"forgotten","seconds":"2","size":"640x360","seed":"7"})");
  wait_until_running();
  const auto before = comfy.stats().at("submissions").as_array();
  comfy.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_NE(comfy.start(true, comfy.port()), 0);  // counts start again
  const auto done = wait_for(token, forgotten, "completed");
  EXPECT_EQ(done.at("status"), "completed") << json::serialize(done);
  const auto after = comfy.stats().at("submissions").as_array();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0], before.back());  // under the same prompt id
  EXPECT_NE(server->process->stderr_text().find("the ComfyUI server lost a prompt; submitted again with the same seed"),
            std::string::npos);
}

TEST_P(GenComfyUiEndToEnd, AnErasureSaysWhichFilesComfyUiKeeps) {
  const std::string token = member("Bob", "bob@example.org");
  const std::string id = submit(token, R"({"model":"wan-t2v","prompt":"bob's video","seconds":"1","size":"512x512"})");
  ASSERT_EQ(wait_for(token, id, "completed").at("status"), "completed");
  const json::object request = erase(token);
  ASSERT_EQ(request.at("status"), "completed_with_exceptions") << json::serialize(request);
  EXPECT_NE(request.at("status_reason").as_string().find("gen_comfyui could not remove everything"), json::string::npos);
  bool named = false;
  for (const auto& task : request.at("tasks").as_array()) {
    if (task.at("participant") != "gen_comfyui") continue;
    EXPECT_EQ(task.at("status"), "done");
    const auto& left = task.at("outcome").at("not_removed").as_array();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_NE(left[0].as_string().find("1 file on the ComfyUI server at " + comfy.base_url() + ": ComfyUI has no API to delete files"),
              json::string::npos) << left[0];
    named = true;
  }
  EXPECT_TRUE(named);
}

TEST_P(GenComfyUiEndToEnd, ACleanupCommandRemovesTheFilesOnceDownloadedAndTheErasureCompletes) {
  // A cleanup command as an admin would write one (here: the files are on this machine).
  const auto script = workflows.path() / "cleanup.sh";
  std::ofstream(script) << "#!/bin/sh\n# base type subfolder name\nrm -- \"" << comfy.root().string() << "/$2/$3/$4\"\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  cleanup_config = "cleanup_command = [\"" + script.string() + "\"]\n";
  server.reset();
  server = start_framehouse();
  const std::string token = member("Carol", "carol@example.org");
  auto [upload, upload_headers] = image_upload(small_png(), token);
  const std::string image(json_of(call("POST", "/v1/images", upload, upload_headers)).at("id").as_string());
  const std::string id =
      submit(token, R"({"model":"wan-i2v","prompt":"carol's garden","seconds":"1","size":"512x512","input_image_id":")" + image + "\"}");
  ASSERT_EQ(wait_for(token, id, "completed").at("status"), "completed");
  // Removed as soon as the video was downloaded: only the server's own example.png is left.
  EXPECT_EQ(files_on_comfyui(), 1u);
  const json::object request = erase(token);
  ASSERT_EQ(request.at("status"), "completed") << json::serialize(request);
  EXPECT_EQ(files_on_comfyui(), 1u);  // only the server's own example.png
}

INSTANTIATE_TEST_SUITE_P(Backends, GenComfyUiEndToEnd, ::testing::Values(db::Backend::sqlite, db::Backend::postgresql),
                         testing::backend_name);

}  // namespace
}  // namespace framehouse
