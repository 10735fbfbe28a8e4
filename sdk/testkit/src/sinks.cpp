#include "framehouse/testkit/sinks.hpp"

namespace framehouse::testkit {

sdk::Outcome MemoryExportSink::record(std::string_view dataset, std::string_view json_object) {
  records[std::string(dataset)].emplace_back(json_object);
  return {};
}

sdk::Outcome MemoryExportSink::file(std::string_view name, std::string_view, sdk::ByteSource& data) {
  std::string bytes;
  std::byte buffer[64 * 1024];
  for (;;) {
    auto read = data.read(buffer);
    if (!read) return read.outcome();
    if (read.value() == 0) break;
    bytes.append(reinterpret_cast<const char*>(buffer), read.value());
  }
  files[std::string(name)] = std::move(bytes);
  return {};
}

std::size_t MemoryExportSink::items() const {
  std::size_t count = files.size();
  for (const auto& [dataset, rows] : records) count += rows.size();
  return count;
}

void MemoryGenerationSink::progress(int percent) {
  std::lock_guard lock(mutex_);
  percents.push_back(percent);
  if (cancel_at >= 0 && percent >= cancel_at) canceled = true;
}

sdk::Result<std::unique_ptr<sdk::ByteSource>> MemoryGenerationSink::open_input_image() {
  if (input_image.empty()) return sdk::Outcome::failure(sdk::Status::not_found, "the job has no input image");
  return std::unique_ptr<sdk::ByteSource>(std::make_unique<sdk::BufferSource>(input_image));
}

// Bytes kept until commit(); an output destroyed without one leaves nothing.
class MemoryGenerationSink::Output final : public sdk::OutputStream {
 public:
  Output(MemoryGenerationSink& sink, std::string variant) : sink_(sink), variant_(std::move(variant)) {}
  sdk::Outcome write(std::span<const std::byte> data) override {
    bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  sdk::Outcome commit() override {
    sink_.commit_output(variant_, std::move(bytes_));
    return {};
  }

 private:
  MemoryGenerationSink& sink_;
  std::string variant_;
  std::string bytes_;
};

void MemoryGenerationSink::commit_output(const std::string& variant, std::string bytes) {
  std::lock_guard lock(mutex_);
  outputs[variant] = std::move(bytes);
}

sdk::Result<std::unique_ptr<sdk::OutputStream>> MemoryGenerationSink::open_output(std::string_view variant,
                                                                                  std::string_view content_type) {
  if (variant != "video" && variant != "thumbnail") {
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "unknown output variant");
  }
  std::lock_guard lock(mutex_);
  content_types[std::string(variant)] = std::string(content_type);
  return std::unique_ptr<sdk::OutputStream>(std::make_unique<Output>(*this, std::string(variant)));
}

#if FRAMEHOUSE_SINCE(GENERATION, 1)
sdk::Outcome MemoryGenerationSink::remember(std::string_view key, std::string_view value) {
  std::lock_guard lock(mutex_);
  remembered[std::string(key)] = std::string(value);
  return {};
}

std::optional<std::string> MemoryGenerationSink::recall(std::string_view key) const {
  std::lock_guard lock(mutex_);
  const auto found = remembered.find(key);
  if (found == remembered.end()) return std::nullopt;
  return found->second;
}
#endif

}  // namespace framehouse::testkit
