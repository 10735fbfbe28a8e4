// Test support: load a plugin file into a PluginHost the way the server does (manifest read
// from the file, compatibility checked, settings validated against the manifest's schema).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "plugins/host.hpp"

namespace framehouse::testing {

std::filesystem::path fixture_plugin(const std::string& name);  // tests/fixtures/<name>.so
std::filesystem::path shipped_plugin(const std::string& name);  // build/plugins/<name>.so

// Returns an error message, or nothing when the plugin loaded (not yet started).
// `toml_settings` is the body of the plugin's [plugins.<name>] table.
std::optional<std::string> load_plugin(plugins::PluginHost& host, const std::filesystem::path& file,
                                       const std::string& toml_settings = "",
                                       std::chrono::milliseconds call_timeout = std::chrono::milliseconds(0));

}  // namespace framehouse::testing
