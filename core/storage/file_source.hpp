// A byte source over a local file (outputs and exports on their way into storage).
#pragma once

#include <filesystem>
#include <fstream>

#include "framehouse/sdk/stream.hpp"

namespace framehouse::storage {

class FileSource final : public sdk::ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& file) : in_(file, std::ios::binary) {}
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    if (!in_.is_open()) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot open a local file");
    in_.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    if (in_.bad()) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot read a local file");
    return static_cast<std::size_t>(in_.gcount());
  }

 private:
  std::ifstream in_;
};

}  // namespace framehouse::storage
