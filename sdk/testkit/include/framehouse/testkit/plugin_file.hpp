// Framehouse SDK test kit — a built plugin file, opened as the host opens it: the library is
// loaded and its one entry point creates the plugin object. (The host also reads the manifest
// and build signature from the file before loading it; `framehouse plugin inspect` shows that
// check.)
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "framehouse/sdk/outcome.hpp"
#include "framehouse/sdk/plugin.hpp"

namespace framehouse::testkit {

class PluginFile {
 public:
  // Loads the library (it stays loaded for the life of the process, as in the host).
  static sdk::Result<PluginFile> open(const std::filesystem::path& path);

  // A new plugin object; nullptr if the entry point failed. Owned by the caller.
  std::unique_ptr<sdk::Plugin> create() const;
  const std::filesystem::path& path() const { return path_; }
  // The build signature the plugin file carries ("compiler=...;privacy=1.1;...").
  const std::string& build_signature() const { return signature_; }
  // The minor of `interface` the plugin was built against (-1 if the signature names none):
  // a test calls nothing that minor lacks, as the host does.
  int interface_minor(std::string_view interface) const;

 private:
  using Entry = sdk::Plugin* (*)() noexcept;
  PluginFile(std::filesystem::path path, Entry entry, std::string signature)
      : path_(std::move(path)), entry_(entry), signature_(std::move(signature)) {}
  std::filesystem::path path_;
  Entry entry_;
  std::string signature_;
};

}  // namespace framehouse::testkit
