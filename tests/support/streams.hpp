// Test support: in-memory implementations of the SDK's streams and export sink.
#pragma once

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framehouse/sdk/privacy.hpp"
#include "framehouse/sdk/stream.hpp"

namespace framehouse::testing {

class StringSource final : public sdk::ByteSource {
 public:
  explicit StringSource(std::string data, sdk::Outcome fail_after_data = {})
      : data_(std::move(data)), fail_after_data_(std::move(fail_after_data)) {}
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    if (offset_ == data_.size() && !fail_after_data_.ok()) return fail_after_data_;
    const std::size_t n = std::min(buffer.size(), data_.size() - offset_);
    std::memcpy(buffer.data(), data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t offset_ = 0;
  sdk::Outcome fail_after_data_;
};

class StringSink final : public sdk::ByteSink {
 public:
  sdk::Outcome write(std::span<const std::byte> data) override {
    text.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  std::string text;
};

class RecordingExportSink final : public sdk::ExportSink {
 public:
  sdk::Outcome record(std::string_view dataset, std::string_view json) override {
    records.emplace_back(std::string(dataset), std::string(json));
    return {};
  }
  sdk::Outcome file(std::string_view name, std::string_view, sdk::ByteSource& data) override {
    std::string contents;
    std::byte buffer[1024];
    for (;;) {
      auto got = data.read(buffer);
      if (!got) return got.outcome();
      if (got.value() == 0) break;
      contents.append(reinterpret_cast<const char*>(buffer), got.value());
    }
    files[std::string(name)] = contents;
    return {};
  }
  bool empty() const { return records.empty() && files.empty(); }
  std::vector<std::pair<std::string, std::string>> records;
  std::map<std::string, std::string> files;
};

}  // namespace framehouse::testing
