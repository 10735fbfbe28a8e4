// Framehouse SDK test kit — the host's side of the streaming interfaces, in memory: an export
// sink that keeps what a privacy participant exports, and a generation sink that keeps an
// engine's outputs, progress and remembered values and cancels when told.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "framehouse/sdk/generation.hpp"
#include "framehouse/sdk/privacy.hpp"

namespace framehouse::testkit {

class MemoryExportSink final : public sdk::ExportSink {
 public:
  sdk::Outcome record(std::string_view dataset, std::string_view json_object) override;
  sdk::Outcome file(std::string_view name, std::string_view content_type, sdk::ByteSource& data) override;

  // Records by dataset, and files by name with their bytes.
  std::map<std::string, std::vector<std::string>> records;
  std::map<std::string, std::string> files;
  std::size_t items() const;
};

class MemoryGenerationSink final : public sdk::GenerationSink {
 public:
  void progress(int percent) override;
  bool cancel_requested() const override { return canceled.load(); }
  sdk::Result<std::unique_ptr<sdk::ByteSource>> open_input_image() override;
  sdk::Result<std::unique_ptr<sdk::OutputStream>> open_output(std::string_view variant,
                                                              std::string_view content_type) override;
#if FRAMEHOUSE_SINCE(GENERATION, 1)
  sdk::Outcome remember(std::string_view key, std::string_view value) override;
  std::optional<std::string> recall(std::string_view key) const override;
#endif

  std::string input_image;  // what open_input_image() reads
  int cancel_at = -1;       // cancel once progress reaches this percentage
  std::atomic<bool> canceled{false};

  // What the engine produced: committed outputs by variant, progress reports in order,
  // values remembered (kept across runs of one sink, as the host keeps them with the job).
  std::map<std::string, std::string> outputs;
  std::map<std::string, std::string> content_types;
  std::vector<int> percents;
  std::map<std::string, std::string, std::less<>> remembered;

 private:
  class Output;
  void commit_output(const std::string& variant, std::string bytes);
  mutable std::mutex mutex_;
};

}  // namespace framehouse::testkit
