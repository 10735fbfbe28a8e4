#include "framehouse/testkit/plugin_file.hpp"

#include <dlfcn.h>

#include <charconv>

namespace framehouse::testkit {

sdk::Result<PluginFile> PluginFile::open(const std::filesystem::path& path) {
  // RTLD_LOCAL, as the host loads plugins: one plugin's symbols never satisfy another's.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* error = dlerror();
    return sdk::Outcome::failure(sdk::Status::invalid_argument,
                                 "cannot load " + path.string() + ": " + (error != nullptr ? error : "unknown error"));
  }
  auto* entry = reinterpret_cast<Entry>(dlsym(library, "framehouse_plugin_create"));
  if (entry == nullptr) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument,
                                 path.string() + " has no framehouse_plugin_create (FRAMEHOUSE_PLUGIN_ENTRY)");
  }
  const auto* signature = static_cast<const char*>(dlsym(library, "framehouse_plugin_build"));
  return PluginFile(path, entry, signature != nullptr ? signature : "");
}

int PluginFile::interface_minor(std::string_view interface) const {
  const std::string field = ";" + std::string(interface) + "=";
  const auto at = (";" + signature_).find(field);
  if (at == std::string::npos) return -1;
  const auto dot = signature_.find('.', at + field.size() - 1);
  if (dot == std::string::npos) return -1;
  int minor = -1;
  std::from_chars(signature_.data() + dot + 1, signature_.data() + signature_.size(), minor);
  return minor;
}

std::unique_ptr<sdk::Plugin> PluginFile::create() const { return std::unique_ptr<sdk::Plugin>(entry_()); }

}  // namespace framehouse::testkit
