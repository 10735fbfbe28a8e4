// Framehouse SDK — generation engine interface ("generation", version in version.hpp).
//
// The host owns the job queue. For each job it calls run() on one of its worker threads and
// hands the engine a sink: the engine reports progress, reads the optional input image, and
// writes its outputs through the sink, which stores them with the configured storage backend.
// An engine keeps no copy of inputs or outputs beyond the job, or purges them in purge().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framehouse/sdk/outcome.hpp"
#include "framehouse/sdk/stream.hpp"

namespace framehouse::sdk {

struct EngineCapabilities {
  std::vector<std::string> models;
  std::vector<std::string> sizes;  // "WxH"
  int max_seconds = 0;
  bool image_input = false;  // image-to-video
  bool seeded = false;       // the same seed reproduces the same output
};

struct GenerationRequest {
  std::string job_id;
  std::string owner;  // internal user id
  std::string model;
  std::string prompt;
  int width = 0;
  int height = 0;
  double seconds = 0;
  int fps = 0;
  std::uint64_t seed = 0;
  bool has_input_image = false;
  // The user's plan asks for a visible mark on every frame.
  bool watermark = false;
};

// An output being written; nothing is visible until commit() succeeds. Destroying it without
// a commit discards what was written.
class OutputStream : public ByteSink {
 public:
  virtual Outcome commit() = 0;
};

class GenerationSink {
 public:
  // Whole-job percentage, 0..100. Cheap to call; the host throttles persistence.
  virtual void progress(int percent) = 0;
  // True once the job was canceled (or the server is stopping): stop at the next frame and
  // return Outcome::failure(Status::canceled, ...) (generation 1.0: Status::conflict with the
  // message "canceled").
  virtual bool cancel_requested() const = 0;
  // The input image, when has_input_image is set.
  virtual Result<std::unique_ptr<ByteSource>> open_input_image() = 0;
  // variant: "video" (content_type video/mp4) or "thumbnail" (image/webp or image/jpeg).
  virtual Result<std::unique_ptr<OutputStream>> open_output(std::string_view variant,
                                                            std::string_view content_type) = 0;
#if FRAMEHOUSE_SINCE(GENERATION, 1)
  // generation 1.1. Keeps a small value with the job — a remote job's id, say — until the job
  // ends, so that when the same job runs again (after a restart, or on another node) the
  // engine finds it with recall() and reattaches to the remote job instead of starting a
  // second one. Keys: 1-64 characters of [a-z0-9_.-], at most 16 per job; values: at most
  // 4096 bytes. Never personal data (the prompt is the host's to keep). Durable when it
  // returns success.
  virtual Outcome remember(std::string_view key, std::string_view value) = 0;
  // What an earlier run of this job remembered under `key`, or nothing.
  virtual std::optional<std::string> recall(std::string_view key) const = 0;
#endif

 protected:
  ~GenerationSink() = default;
};

class GenerationEngine {
 public:
  static constexpr std::string_view kInterfaceName = "generation";

  virtual EngineCapabilities describe() = 0;
  // Runs the job to the end on the calling (host worker) thread. Success means every output
  // was committed.
  virtual Outcome run(const GenerationRequest& request, GenerationSink& sink) = 0;
  // Asks a running job to stop soon (within a second); run() then returns. Unknown ids succeed.
  virtual Outcome cancel(std::string_view job_id) = 0;
  // Removes anything the engine still holds about the job (cached inputs, intermediate
  // files, remote copies). Idempotent.
  virtual Outcome purge(std::string_view job_id) = 0;

 protected:
  ~GenerationEngine() = default;
};

}  // namespace framehouse::sdk
