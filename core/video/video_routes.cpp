#include "video/video_routes.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <sodium.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "accounts/routes.hpp"
#include "crypto/crypto.hpp"
#include "http/json_input.hpp"
#include "http/multipart.hpp"
#include "http/problem.hpp"
#include "video/image_check.hpp"

namespace framehouse::video {
namespace {

namespace json = boost::json;
using accounts::AuthContext;
using http::Request;
using http::Response;

constexpr std::size_t kMaxPrompt = 32000;
constexpr const char* kPollAfterMs = "1000";
// How soon a client refused for its plan's videos-at-once limit may try again.
constexpr std::chrono::seconds kSlotPoll{10};
// Seeds stay within the integers a JSON number carries exactly in every client (2^53 - 1).
constexpr long long kMaxSeed = (1LL << 53) - 1;

json::value optional_number(const std::optional<std::int64_t>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::object video_json(const Video& video, int queue_position) {
  json::object object{{"id", video.id},
                      {"object", "video"},
                      {"model", video.model},
                      {"status", video.status},
                      {"progress", video.progress},
                      {"created_at", video.created_at},
                      {"completed_at", optional_number(video.completed_at)},
                      {"expires_at", optional_number(video.expires_at)},
                      {"prompt", video.prompt},
                      {"size", std::to_string(video.width) + "x" + std::to_string(video.height)},
                      {"seconds", std::to_string(video.seconds)},
                      {"remixed_from_video_id", video.remixed_from ? json::value(*video.remixed_from) : json::value(nullptr)},
                      {"error", nullptr},
                      // Extensions, documented in docs/openapi.yaml.
                      {"seed", video.seed},
                      {"engine", video.engine},
                      {"status_reason", video.status_reason ? json::value(*video.status_reason) : json::value(nullptr)},
                      {"queue_position", queue_position > 0 ? json::value(queue_position) : json::value(nullptr)},
                      {"input_image_id", video.input_image_id ? json::value(*video.input_image_id) : json::value(nullptr)}};
  if (video.error_code) object["error"] = json::object{{"code", *video.error_code}, {"message", video.error_message.value_or("")}};
  return object;
}

Response with_poll_hint(Response response, const Video& video) {
  if (video.status == "queued" || video.status == "in_progress") response.set_header("openai-poll-after-ms", kPollAfterMs);
  return response;
}

// The fields of POST /v1/videos, from JSON or multipart/form-data (the official Node client
// always sends multipart, even without a file).
struct VideoFields {
  std::map<std::string, std::string> text;
  // Where text["input_image_id"] came from, to name it in an error: the field itself, or
  // OpenAI's input_reference.file_id.
  std::string image_id_field = "input_image_id";
  std::optional<std::string_view> file;  // input_reference as a file part
  std::vector<http::FieldProblem> problems;
};

std::variant<VideoFields, Response> read_fields(const Request& request) {
  VideoFields fields;
  static const std::set<std::string> kKnown = {"prompt", "model", "seconds", "size", "seed", "input_image_id"};
  if (auto parts = http::parse_multipart(request)) {
    for (const auto& part : *parts) {
      if (part.name == "input_reference" && part.filename) {
        fields.file = part.data;
      } else if (part.name == "input_reference[image_url]") {
        fields.text["image_url"] = std::string(part.data);
      } else if (part.name == "input_reference[file_id]") {
        fields.text["input_image_id"] = std::string(part.data);
        fields.image_id_field = "input_reference";
      } else if (kKnown.count(part.name)) {
        fields.text[part.name] = std::string(part.data);
      } else {
        fields.problems.push_back({part.name, "is not a known field"});
      }
    }
    return fields;
  }
  http::JsonFields body(request, {"prompt", "model", "seconds", "size", "seed", "input_image_id", "input_reference"});
  if (body.rejection()) return *body.rejection();
  for (const auto& name : kKnown) {
    const auto* value = body.object().if_contains(name);
    if (value == nullptr || value->is_null()) continue;
    // OpenAI's clients send seconds and seed as strings or numbers; the rest are text only.
    const bool numeric = name == "seconds" || name == "seed";
    if (value->is_string()) {
      fields.text[name] = std::string(value->as_string());
    } else if (numeric && (value->is_int64() || value->is_uint64())) {
      fields.text[name] = json::serialize(*value);
    } else {
      fields.problems.push_back({name, numeric ? "must be a string or a whole number" : "must be a string"});
    }
  }
  if (const auto* reference = body.object().if_contains("input_reference")) {
    const auto* url = reference->is_object() ? reference->as_object().if_contains("image_url") : nullptr;
    const auto* file_id = reference->is_object() ? reference->as_object().if_contains("file_id") : nullptr;
    if (url != nullptr && url->is_string()) {
      fields.text["image_url"] = std::string(url->as_string());
    } else if (file_id != nullptr && file_id->is_string()) {
      fields.text["input_image_id"] = std::string(file_id->as_string());  // one of the user's images
      fields.image_id_field = "input_reference";
    } else {
      fields.problems.push_back({"input_reference", "must be an object with an image_url or a file_id"});
    }
  }
  fields.problems.insert(fields.problems.end(), body.problems().begin(), body.problems().end());
  return fields;
}

void check_prompt(const std::string& prompt, std::vector<http::FieldProblem>& problems) {
  if (prompt.empty()) problems.push_back({"prompt", "is required"});
  if (prompt.size() > kMaxPrompt) problems.push_back({"prompt", "must be at most 32000 characters"});
  if (prompt.find('\0') != std::string::npos) problems.push_back({"prompt", "must not contain a NUL character"});
}

std::optional<long long> parse_integer(const std::string& text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "bytes=START-END" / "bytes=START-" / "bytes=-SUFFIX" against `total`. Of several ranges the
// first is served (RFC 9110 lets a server answer fewer ranges than asked; a player asks one).
std::optional<sdk::ByteRange> parse_range(std::string_view header, std::uint64_t total) {
  if (header.rfind("bytes=", 0) != 0 || total == 0) return std::nullopt;
  header.remove_prefix(6);
  header = header.substr(0, header.find(','));
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string first(header.substr(0, dash));
  const std::string last(header.substr(dash + 1));
  if (first.empty()) {
    const auto suffix = parse_integer(last);
    if (!suffix || *suffix <= 0) return std::nullopt;
    const std::uint64_t length = std::min<std::uint64_t>(static_cast<std::uint64_t>(*suffix), total);
    return sdk::ByteRange{total - length, length};
  }
  const auto start = parse_integer(first);
  if (!start || *start < 0 || static_cast<std::uint64_t>(*start) >= total) return std::nullopt;
  std::uint64_t end = total - 1;
  if (!last.empty()) {
    const auto parsed = parse_integer(last);
    if (!parsed || *parsed < *start) return std::nullopt;
    end = std::min<std::uint64_t>(static_cast<std::uint64_t>(*parsed), total - 1);
  }
  return sdk::ByteRange{static_cast<std::uint64_t>(*start), end - static_cast<std::uint64_t>(*start) + 1};
}

std::optional<std::string> decode_base64(const std::string& text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), " \r\n",
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

// What the caller's plan allows: the video's length and size (422 naming the field) and how
// many videos at once and per day (429, with Retry-After for the daily limit).
std::optional<Response> plan_refusal(const Request& request, const billing::Plan& plan, Videos& videos,
                                     const std::string& owner, VideoRequest& job) {
  std::vector<http::FieldProblem> problems;
  if (job.seconds > plan.max_seconds) {
    problems.push_back({"seconds", "your plan (" + plan.name + ") allows at most " + std::to_string(plan.max_seconds)});
  }
  if (std::max(job.width, job.height) > plan.max_side) {
    problems.push_back({"size", "your plan (" + plan.name + ") allows at most " + std::to_string(plan.max_side) + " pixels a side"});
  }
  if (!problems.empty()) return http::validation_problem(request, problems);
  const http::ProblemType kPlanLimit{429, "plan-limit", "Your plan's limit is reached"};
  if (videos.active_jobs(owner) >= plan.concurrent_jobs) {
    // A slot frees when one of the owner's videos ends: no time is known, so a polling interval.
    return http::retry_later(kPlanLimit,
                             "your plan (" + plan.name + ") allows " + std::to_string(plan.concurrent_jobs) +
                                 " video(s) in progress at once; wait for one to finish",
                             request.request_id, kSlotPoll);
  }
  const std::int64_t now = unix_now();
  constexpr std::int64_t kDay = 24 * 3600;
  if (videos.created_since(owner, now - kDay) >= plan.videos_per_day) {
    // The day's limit frees a slot when the oldest video of the last 24 hours leaves the window.
    const auto oldest = videos.oldest_created_since(owner, now - kDay).value_or(now);
    return http::retry_later(kPlanLimit,
                             "your plan (" + plan.name + ") allows " + std::to_string(plan.videos_per_day) + " videos in 24 hours",
                             request.request_id, std::chrono::seconds(std::max<std::int64_t>(1, oldest + kDay - now)));
  }
  job.watermark = plan.watermark;
  job.retention_seconds = plan.retention_seconds;
  return std::nullopt;
}

Response not_found(const Request& request) { return http::problem(http::problems::kNotFound, "", request.request_id); }

// The stored file asked for: "video" or "thumbnail" (the variant query parameter).
std::optional<std::string> content_variant(const Request& request) {
  std::string variant = request.query_param("variant").value_or("video");
  if (variant != "video" && variant != "thumbnail") return std::nullopt;
  return variant;
}

// Something of OpenAI's Videos API that no engine here can do: 400 in OpenAI's shape, code
// not_supported, naming the field.
Response not_supported(const Request& request, std::string_view field, std::string_view why) {
  return http::problem(http::problems::kNotSupported, why, request.request_id,
                       json::object{{"errors", json::array{json::object{{"field", field}, {"message", why}}}}});
}

// Engines fit an input image to the video's size without distorting it (a crop or a
// letterbox); one whose aspect ratio is too far from the video's would lose too much to either,
// so it is refused, as OpenAI's API refuses a mismatched input_reference.
std::optional<std::string> aspect_problem(int image_width, int image_height, int width, int height, int tolerance_percent) {
  if (image_width <= 0 || image_height <= 0 || width <= 0 || height <= 0) return std::nullopt;
  const double image = double(image_width) / image_height;
  const double video = double(width) / height;
  if (std::max(image / video, video / image) <= 1.0 + tolerance_percent / 100.0 + 1e-9) return std::nullopt;
  return fmt::format("is {}x{}, too far from the video's {}x{} in shape (more than {}% wider or taller): crop it, or ask "
                     "for a size of its shape",
                     image_width, image_height, width, height, tolerance_percent);
}

Response bad_variant(const Request& request) {
  if (request.query_param("variant") == std::optional<std::string>("spritesheet")) {
    return not_supported(request, "variant", "is spritesheet, which no engine of this server makes: ask for video or thumbnail");
  }
  return http::validation_problem(request, {{"variant", "must be video or thumbnail"}});
}

// Why a video's stored content cannot be had: none of the caller's (404), not finished (409),
// storage down (503).
Response content_problem(const Request& request, const sdk::Outcome& outcome) {
  switch (outcome.status()) {
    case sdk::Status::not_found: return not_found(request);
    case sdk::Status::conflict: return http::problem(http::problems::kConflict, outcome.message(), request.request_id);
    default: return http::problem(http::problems::kUnavailable, "storage is not available", request.request_id);
  }
}

// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a client that retries a submit
// after a dropped connection gets the video its first request made, not a second job.
struct Submission {
  std::optional<std::string> key;
  std::string fingerprint;  // of what was asked, so that a key reused for another request is caught
};

// The submission, or the answer already: a problem with the key, or the earlier request's
// video (422 when the key came with a different request).
std::variant<Submission, Response> idempotent_submission(const Request& request, const VideoFields& fields,
                                                         const std::string& scope, Videos& videos, const std::string& owner) {
  Submission submission;
  const auto header = request.header("idempotency-key");
  if (!header) return submission;
  const bool printable = std::all_of(header->begin(), header->end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (header->empty() || header->size() > 255 || !printable) {
    return http::validation_problem(request, {{"Idempotency-Key", "must be 1 to 255 visible ASCII characters"}});
  }
  submission.key = std::string(*header);
  // Parsed fields, not the raw body: a client's retry may use another multipart boundary.
  std::string canonical = scope;
  for (const auto& [name, value] : fields.text) canonical += "|" + std::to_string(name.size()) + ":" + name + "=" + value;
  if (fields.file) canonical += "|file:" + crypto::token_hash(*fields.file);
  submission.fingerprint = crypto::token_hash(canonical);
  auto earlier = videos.find_by_idempotency_key(owner, *submission.key);
  if (!earlier) return submission;
  if (earlier->request_fingerprint != submission.fingerprint) {
    return http::validation_problem(request, {{"Idempotency-Key", "was used for a different request"}});
  }
  Response response = with_poll_hint(Response::json(200, video_json(earlier->video, videos.queue_position(earlier->video))),
                                     earlier->video);
  response.set_header("Idempotent-Replayed", "true");
  return response;
}

// Queues the job and answers with the new video.
Response submit(accounts::Accounts& accounts, Videos& videos, const std::string& owner, VideoRequest job,
                const Submission& submission) {
  job.idempotency_key = submission.key;
  job.request_fingerprint = submission.fingerprint;
  const Video video = videos.create(owner, job);
  accounts.record_event(owner, "video_created");
  return with_poll_hint(Response::json(200, video_json(video, videos.queue_position(video))), video);
}

// Server-Sent Events for one video: an event whenever its progress or status changes
// ("video.progress", then "video.completed" or "video.failed"), a comment now and then so that
// proxies keep the connection, and the end of the stream once the job ended.
class VideoEvents final : public http::StreamSource {
 public:
  VideoEvents(Videos& videos, std::string owner, std::string id)
      : videos_(videos), owner_(std::move(owner)), id_(std::move(id)) {}

  Chunk poll() override {
    const auto now = std::chrono::steady_clock::now();
    // The database is read when a video changed since (a change notice, from this node or
    // another), or every few seconds in case a notice was lost — not on every tick of every
    // open stream.
    const std::uint64_t changes = videos_.changes();
    if (changes == seen_changes_ && now - last_poll_ < kFallbackPoll) {
      if (now - last_sent_ < kKeepAlive) return {};
      last_sent_ = now;
      return {": still " + last_status_ + "\n\n", false};
    }
    seen_changes_ = changes;
    last_poll_ = now;
    const auto video = videos_.find(owner_, id_);
    if (!video) return {"event: video.deleted\ndata: {\"id\":\"" + id_ + "\"}\n\n", true};
    const bool ended = video->status == "completed" || video->status == "failed";
    if (video->status == last_status_ && video->progress == last_progress_) {
      if (now - last_sent_ < kKeepAlive) return {};
      last_sent_ = now;
      return {": still " + video->status + "\n\n", false};
    }
    last_status_ = video->status;
    last_progress_ = video->progress;
    last_sent_ = now;
    const std::string event = ended ? "video." + video->status : "video.progress";
    return {"event: " + event + "\ndata: " + json::serialize(video_json(*video, videos_.queue_position(*video))) + "\n\n",
            ended};
  }

 private:
  Videos& videos_;
  std::string owner_;
  std::string id_;
  static constexpr auto kFallbackPoll = std::chrono::seconds(5);
  static constexpr auto kKeepAlive = std::chrono::seconds(15);  // a comment, so that proxies keep the connection
  std::string last_status_;
  int last_progress_ = -1;
  std::uint64_t seen_changes_ = ~std::uint64_t{0};
  std::chrono::steady_clock::time_point last_poll_{};
  std::chrono::steady_clock::time_point last_sent_{};
};

// A model as OpenAI's clients read it ({id, object, created, owned_by}), with what this
// server adds: its engine, sizes, longest video, image input and other names.
json::object model_json(const ModelCatalog& catalog, const Model& model, const std::string& id) {
  json::array sizes(model.sizes.begin(), model.sizes.end());
  const auto names = catalog.aliases_of(model);
  json::array aliases(names.begin(), names.end());
  return {{"id", id},
          {"object", "model"},
          {"created", model.created},
          {"owned_by", model.engine},
          {"engine", model.engine},
          {"sizes", std::move(sizes)},
          {"max_seconds", model.max_seconds},
          {"image_input", model.image_input},
          {"aliases", std::move(aliases)}};
}

}  // namespace


void add_video_routes(http::Router& router, accounts::Accounts& accounts, billing::Billing& billing, Uploads& uploads,
                      Videos& videos) {
  // The models the caller's plan may use (OpenAI's list shape), and one by id or alias.
  router.add("GET", "/v1/models", accounts::signed_in(accounts, accounts::Scope::videos_read, [&billing, &videos](Request&, const AuthContext& who) {
               const std::string plan = billing.plan_for(who.user_id).name;
               json::array data;
               for (const auto& model : videos.catalog().models()) {
                 if (model.allowed_on(plan)) data.push_back(model_json(videos.catalog(), model, model.id));
               }
               return Response::json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             }));
  router.add("GET", "/v1/models/{id}", accounts::signed_in(accounts, accounts::Scope::videos_read, [&billing, &videos](Request& request, const AuthContext& who) {
               const std::string& id = request.path_params.at("id");
               const Model* model = id.empty() ? nullptr : videos.catalog().find(id);
               if (model == nullptr || !model->allowed_on(billing.plan_for(who.user_id).name)) return not_found(request);
               return Response::json(200, model_json(videos.catalog(), *model, id));
             }));
  router.add("POST", "/v1/videos", accounts::signed_in(accounts, accounts::Scope::videos_write, [&accounts, &billing, &uploads, &videos](Request& request, const AuthContext& who) -> Response {
               if (!who.email_verified) {
                 return http::problem(http::problems::kForbidden, "confirm your email address before generating videos",
                                      request.request_id);
               }
               auto read = read_fields(request);
               if (auto* failure = std::get_if<Response>(&read)) return std::move(*failure);
               auto& fields = std::get<VideoFields>(read);
               auto idempotency = idempotent_submission(request, fields, "create", videos, who.user_id);
               if (auto* answer = std::get_if<Response>(&idempotency)) return std::move(*answer);
               const auto& submission = std::get<Submission>(idempotency);
               auto& problems = fields.problems;
               if (videos.catalog().models().empty()) {
                 return http::problem(http::problems::kUnavailable, "no generation engine is available", request.request_id);
               }
               VideoRequest job;

               job.prompt = fields.text.count("prompt") ? fields.text["prompt"] : "";
               check_prompt(job.prompt, problems);

               // The model says the engine, and the limits the request is checked against.
               const billing::Plan plan = billing.plan_for(who.user_id);
               const std::string asked = fields.text.count("model") ? fields.text["model"] : "";
               const Model* model = asked.empty() ? videos.catalog().first_for(plan.name) : videos.catalog().find(asked);
               if (model == nullptr) {
                 problems.push_back({"model", "is not a model of this server (GET /v1/models lists them)"});
               } else if (!model->allowed_on(plan.name)) {
                 problems.push_back({"model", "is not available on your plan (" + plan.name + ")"});
                 model = nullptr;
               } else {
                 job.model = model->id;
               }

               const std::string size = fields.text.count("size") ? fields.text["size"] : "720x1280";  // OpenAI's default
               if (model != nullptr && std::find(model->sizes.begin(), model->sizes.end(), size) == model->sizes.end()) {
                 problems.push_back({"size", fmt::format("must be one of {}", fmt::join(model->sizes, ", "))});
               } else if (model != nullptr) {
                 job.width = std::stoi(size.substr(0, size.find('x')));
                 job.height = std::stoi(size.substr(size.find('x') + 1));
               }

               const auto seconds = parse_integer(fields.text.count("seconds") ? fields.text["seconds"] : "4");
               if (model != nullptr && (!seconds || *seconds < 1 || *seconds > model->max_seconds)) {
                 problems.push_back({"seconds", "must be a whole number from 1 to " + std::to_string(model->max_seconds)});
               } else if (seconds) {
                 job.seconds = static_cast<int>(*seconds);
               }

               if (fields.text.count("seed")) {
                 const auto seed = parse_integer(fields.text["seed"]);
                 if (!seed || *seed < 0 || *seed > kMaxSeed) {
                   problems.push_back({"seed", "must be an integer from 0 to 9007199254740991"});
                 }
                 else job.seed = static_cast<std::uint64_t>(*seed);
               } else {
                 job.seed = std::hash<std::string>{}(who.user_id + crypto::random_id("", 8)) & kMaxSeed;
               }

               if (fields.text.count("input_image_id")) {
                 if (!uploads.find(who.user_id, fields.text["input_image_id"])) {
                   problems.push_back({fields.image_id_field, "is not one of your images"});
                 } else {
                   job.input_image_id = fields.text["input_image_id"];
                 }
               }
               // input_reference[image_url]: a data: URL, or this server's own image URL. Other URLs
               // are never fetched (no outbound requests on a user's behalf).
               std::string inline_image;
               if (fields.text.count("image_url")) {
                 const std::string& url = fields.text["image_url"];
                 const auto own = url.find("/v1/images/");
                 if (url.rfind("data:image/", 0) == 0 && url.find(";base64,") != std::string::npos) {
                   if (auto decoded = decode_base64(url.substr(url.find(";base64,") + 8))) {
                     inline_image = std::move(*decoded);
                   } else {
                     problems.push_back({"input_reference", "the data URL is not valid base64"});
                   }
                 } else if (own != std::string::npos && url.size() > own + 11 &&
                            url.compare(url.size() - 8, 8, "/content") == 0 &&
                            uploads.find(who.user_id, url.substr(own + 11, url.size() - 8 - own - 11))) {
                   job.input_image_id = url.substr(own + 11, url.size() - 8 - own - 11);
                 } else {
                   problems.push_back({"input_reference", "image_url must be a data: URL or one of your images on this "
                                                          "server (/v1/images/{id}/content); other URLs are not fetched"});
                 }
               }
               const bool with_image = job.input_image_id || fields.file || !inline_image.empty();
               if (with_image && model != nullptr && !model->image_input) {
                 problems.push_back({"input_reference", "the model " + model->id + " makes videos from text only"});
               }
               std::optional<std::pair<int, int>> image_size;
               if (job.input_image_id) {
                 if (const auto upload = uploads.find(who.user_id, *job.input_image_id)) image_size = {upload->width, upload->height};
               } else if (const std::string_view bytes = inline_image.empty() ? fields.file.value_or("") : inline_image; !bytes.empty()) {
                 if (const auto info = video::inspect_image(bytes)) image_size = {info->width, info->height};
               }
               if (image_size) {
                 if (auto why = aspect_problem(image_size->first, image_size->second, job.width, job.height,
                                               videos.config().image_aspect_tolerance_percent)) {
                   problems.push_back({job.input_image_id ? fields.image_id_field : "input_reference", *why});
                 }
               }
               if (!problems.empty()) return http::validation_problem(request, problems);
               if (auto refused = plan_refusal(request, plan, videos, who.user_id, job)) {
                 return std::move(*refused);
               }
               if (!inline_image.empty()) fields.file = inline_image;

               if (fields.file) {
                 auto uploaded = uploads.add(who.user_id, std::string(*fields.file));
                 if (!uploaded) {
                   if (uploaded.outcome().status() == sdk::Status::invalid_argument) {
                     return http::validation_problem(request, {{"input_reference", uploaded.outcome().message()}});
                   }
                   return http::problem(http::problems::kUnavailable, "storage is not available", request.request_id);
                 }
                 job.input_image_id = uploaded->id;
               }
               return submit(accounts, videos, who.user_id, std::move(job), submission);
             }));

  // OpenAI's edits and extensions take an existing video as input, which none of the engines
  // does (a remix, which renders anew with a new prompt, is what they offer).
  for (const auto& [path, what] : {std::pair<const char*, const char*>{"/v1/videos/edits", "editing a video"},
                                   std::pair<const char*, const char*>{"/v1/videos/extensions", "extending a video"}}) {
    router.add("POST", path, accounts::signed_in(accounts, accounts::Scope::videos_write, [what](Request& request, const AuthContext&) -> Response {
                 return not_supported(request, "video",
                                      std::string("is not accepted: ") + what +
                                          " needs an engine that takes a video as input, and none here does; POST "
                                          "/v1/videos/{id}/remix renders a video anew with a new prompt");
               }));
  }

  router.add("POST", "/v1/videos/{id}/remix", accounts::signed_in(accounts, accounts::Scope::videos_write, [&accounts, &billing, &uploads, &videos](Request& request, const AuthContext& who) -> Response {
               if (!who.email_verified) {
                 return http::problem(http::problems::kForbidden, "confirm your email address before generating videos",
                                      request.request_id);
               }
               const auto original = videos.find(who.user_id, request.path_params.at("id"));
               if (!original) return not_found(request);
               auto read = read_fields(request);
               if (auto* failure = std::get_if<Response>(&read)) return std::move(*failure);
               auto& fields = std::get<VideoFields>(read);
               auto idempotency = idempotent_submission(request, fields, "remix:" + original->id, videos, who.user_id);
               if (auto* answer = std::get_if<Response>(&idempotency)) return std::move(*answer);
               const auto& submission = std::get<Submission>(idempotency);
               for (const auto& [name, value] : fields.text) {
                 if (name != "prompt") fields.problems.push_back({name, "is not a known field"});
               }
               const std::string prompt = fields.text.count("prompt") ? fields.text["prompt"] : "";
               check_prompt(prompt, fields.problems);
               const Model* model = videos.catalog().find(original->model);
               if (model == nullptr || !model->allowed_on(billing.plan_for(who.user_id).name)) {
                 fields.problems.push_back({"model", "the original's model (" + original->model + ") is not offered to you any more"});
               }
               if (fields.file) fields.problems.push_back({"input_reference", "a remix keeps the original's input"});
               if (!fields.problems.empty()) return http::validation_problem(request, fields.problems);
               // The same engine settings and seed, a new prompt: the remix differs where the prompt does.
               VideoRequest job{original->model, prompt, original->width, original->height, original->seconds,
                                original->seed, std::nullopt, original->id, false, 0};
               if (original->input_image_id && uploads.find(who.user_id, *original->input_image_id)) {
                 job.input_image_id = original->input_image_id;
               }
               if (auto refused = plan_refusal(request, billing.plan_for(who.user_id), videos, who.user_id, job)) {
                 return std::move(*refused);
               }
               return submit(accounts, videos, who.user_id, std::move(job), submission);
             }));

  router.add("GET", "/v1/videos", accounts::signed_in(accounts, accounts::Scope::videos_read, [&videos](Request& request, const AuthContext& who) -> Response {
    std::size_t limit = 20;
    if (auto text = request.query_param("limit")) {
      const auto parsed = parse_integer(*text);
      if (!parsed || *parsed < 1 || *parsed > 100) {
        return http::validation_problem(request, {{"limit", "must be a number from 1 to 100"}});
      }
      limit = static_cast<std::size_t>(*parsed);
    }
    const std::string order = request.query_param("order").value_or("desc");
    if (order != "asc" && order != "desc") return http::validation_problem(request, {{"order", "must be asc or desc"}});
    const std::string after = request.query_param("after").value_or("");
    // An unknown cursor is an error, not page one again (a client would loop over page one).
    if (!after.empty() && !videos.find(who.user_id, after)) {
      return http::validation_problem(request, {{"after", "is not one of your videos"}});
    }
    Videos::ListFilter filter;
    filter.prompt_contains = request.query_param("q").value_or("");
    if (filter.prompt_contains.size() > 200) return http::validation_problem(request, {{"q", "must be at most 200 characters"}});
    for (const auto& [name, bound] : {std::pair{"created_from", &filter.created_from}, std::pair{"created_to", &filter.created_to}}) {
      if (auto text = request.query_param(name)) {
        *bound = parse_integer(*text);
        if (!*bound) return http::validation_problem(request, {{name, "must be a Unix time in seconds"}});
      }
    }
    if (auto status = request.query_param("status")) {
      if (*status != "queued" && *status != "in_progress" && *status != "completed" && *status != "failed") {
        return http::validation_problem(request, {{"status", "must be queued, in_progress, completed or failed"}});
      }
      filter.status = *status;
    }
    const auto page = videos.list(who.user_id, after, limit, order == "desc", filter);
    json::array data;
    for (const auto& video : page.videos) data.push_back(video_json(video, videos.queue_position(video)));
    json::object body{{"object", "list"},
                      {"data", data},
                      {"first_id", page.videos.empty() ? json::value(nullptr) : json::value(page.videos.front().id)},
                      {"last_id", page.videos.empty() ? json::value(nullptr) : json::value(page.videos.back().id)},
                      {"has_more", page.has_more}};
    return Response::json(200, body);
  }));

  router.add("GET", "/v1/videos/{id}", accounts::signed_in(accounts, accounts::Scope::videos_read, [&videos](Request& request, const AuthContext& who) -> Response {
    const auto video = videos.find(who.user_id, request.path_params.at("id"));
    if (!video) return not_found(request);
    return with_poll_hint(Response::json(200, video_json(*video, videos.queue_position(*video))), *video);
  }));

  router.add("DELETE", "/v1/videos/{id}", accounts::signed_in(accounts, accounts::Scope::videos_write, [&videos](Request& request, const AuthContext& who) -> Response {
               const std::string& id = request.path_params.at("id");
               const auto removed = videos.remove(who.user_id, id);
               if (removed.status() == sdk::Status::not_found) return not_found(request);
               if (!removed) return http::problem(http::problems::kUnavailable, "storage is not available", request.request_id);
               return Response::json(200, json::object{{"id", id}, {"object", "video.deleted"}, {"deleted", true}});
             }));

  router.add("GET", "/v1/videos/{id}/events", accounts::signed_in(accounts, accounts::Scope::videos_read, [&videos](Request& request, const AuthContext& who) -> Response {
               const std::string& id = request.path_params.at("id");
               if (!videos.find(who.user_id, id)) return not_found(request);
               Response response;
               response.set_header("Content-Type", "text/event-stream");
               response.set_header("Cache-Control", "no-store");
               response.stream = std::make_shared<VideoEvents>(videos, who.user_id, id);
               return response;
             }));

  router.add("POST", "/v1/videos/{id}/cancel", accounts::signed_in(accounts, accounts::Scope::videos_write, [&videos](Request& request, const AuthContext& who) -> Response {
               const std::string& id = request.path_params.at("id");
               const auto canceled = videos.cancel(who.user_id, id);
               if (canceled.status() == sdk::Status::not_found) return not_found(request);
               if (canceled.status() == sdk::Status::conflict) {
                 return http::problem(http::problems::kConflict, canceled.message(), request.request_id);
               }
               const auto video = videos.find(who.user_id, id);
               return with_poll_hint(Response::json(200, video_json(*video, 0)), *video);
             }));

  router.add("GET", "/v1/videos/{id}/content-url", accounts::signed_in(accounts, accounts::Scope::videos_read, [&videos](Request& request, const AuthContext& who) -> Response {
               const auto variant = content_variant(request);
               if (!variant) return bad_variant(request);
               const std::string& id = request.path_params.at("id");
               if (const auto size = videos.content_size(who.user_id, id, *variant); !size) {
                 return content_problem(request, size.outcome());
               }
               const auto link = videos.content_link(who.user_id, id, *variant);
               Response response = Response::json(200, json::object{{"object", "video.content_url"},
                                                                    {"url", link.path},
                                                                    {"variant", *variant},
                                                                    {"expires_at", link.expires_at}});
               response.set_header("Cache-Control", "no-store");
               return response;
             }));

  // With a bearer token, a session cookie, or a signed link from content-url (no credential).
  const auto serve_content = [&accounts, &videos](Request& request, const std::string& owner) -> Response {
    const std::string variant = *content_variant(request);  // checked by the route
    const std::string& id = request.path_params.at("id");
    auto total = videos.content_size(owner, id, variant);
    if (!total) return content_problem(request, total.outcome());
    std::optional<sdk::ByteRange> range;
    const auto range_header = request.header("range");
    if (range_header && variant == "video") {
      range = parse_range(*range_header, total.value());
      if (!range) {
        Response response = http::problem(http::ProblemType{416, "range-not-satisfiable", "The range cannot be served"},
                                          "the video has " + std::to_string(total.value()) + " bytes",
                                          request.request_id);
        response.set_header("Content-Range", "bytes */" + std::to_string(total.value()));
        return response;
      }
    }
    auto bytes = videos.content(owner, id, variant, range.value_or(sdk::ByteRange{}));
    if (!bytes) return http::problem(http::problems::kUnavailable, "storage is not available", request.request_id);
    Response response = Response::text(range ? 206 : 200, std::move(bytes.value()),
                                       variant == "video" ? "video/mp4" : "image/jpeg");
    if (variant == "video") response.set_header("Accept-Ranges", "bytes");
    if (range) {
      response.set_header("Content-Range", "bytes " + std::to_string(range->offset) + "-" +
                                               std::to_string(range->offset + *range->length - 1) + "/" +
                                               std::to_string(total.value()));
    }
    response.set_header("Cache-Control", "private, no-store");
    response.set_header("Referrer-Policy", "no-referrer");  // a signed link goes nowhere else
    if (variant == "video" && !range) accounts.record_event(owner, "video_downloaded");
    return response;
  };
  const auto with_credential = accounts::signed_in(accounts, accounts::Scope::videos_read,
                                                   [serve_content](Request& request, const AuthContext& who) {
                                                     return serve_content(request, who.user_id);
                                                   });
  router.add("GET", "/v1/videos/{id}/content", [&videos, serve_content, with_credential](Request& request) -> Response {
    const auto variant = content_variant(request);
    if (!variant) return bad_variant(request);
    const auto signature = request.query_param("signature");
    if (!signature) return with_credential(request);
    const auto owner = videos.content_link_owner(request.path_params.at("id"), *variant,
                                                 request.query_param("expires").value_or(""), *signature);
    if (!owner) {
      return http::problem(http::problems::kForbidden, "the link has expired or is not this video's: ask for a new one",
                           request.request_id);
    }
    return serve_content(request, *owner);
  });
}

}  // namespace framehouse::video
