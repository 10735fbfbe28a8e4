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

// Yields `data`, then fails with `failure` instead of ending (a client that went away).
class FailingSource final : public sdk::ByteSource {
 public:
  FailingSource(std::string data, sdk::Outcome failure) : data_(std::move(data)), failure_(std::move(failure)) {}
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    auto got = data_.read(buffer);
    if (got.ok() && got.value() == 0) return failure_;
    return got;
  }

 private:
  sdk::BufferSource data_;
  sdk::Outcome failure_;
};

class RecordingExportSink final : public sdk::ExportSink {
 public:
  sdk::Outcome record(std::string_view dataset, std::string_view json) override {
    records.emplace_back(std::string(dataset), std::string(json));
    return {};
  }
  sdk::Outcome file(std::string_view name, std::string_view, sdk::ByteSource& data) override {
    std::string contents;
    auto copied = sdk::drain(data, [&](std::span<const std::byte> chunk) {
      contents.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return sdk::Outcome{};
    });
    if (!copied) return copied;
    files[std::string(name)] = contents;
    return {};
  }
  bool empty() const { return records.empty() && files.empty(); }
  std::vector<std::pair<std::string, std::string>> records;
  std::map<std::string, std::string> files;
};

}  // namespace framehouse::testing
