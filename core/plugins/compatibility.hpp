// Whether a plugin file fits this server: same build signature (compiler, C++ library ABI and
// debug mode) and, for the SDK and every interface the plugin implements, the same major and
// a minor no newer than the host's. Every mismatch is reported, with expected and found.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugins/manifest.hpp"

namespace framehouse::plugins {

struct Mismatch {
  std::string field;
  std::string expected;
  std::string found;
};

struct Compatibility {
  std::vector<Mismatch> mismatches;
  bool compatible() const { return mismatches.empty(); }
  // One message naming the file and every mismatch, with the fix.
  std::string describe(const std::filesystem::path& file) const;
};

// The fields of the build signature a plugin must share with the host (build_signature.hpp
// says why each).
inline constexpr const char* kSignatureFields[] = {"compiler", "cxx_abi", "stdlib_debug"};

// The host's own signature, compiled from the same SDK headers plugins use.
const std::map<std::string, std::string>& host_signature();
// The interfaces this host knows, by name.
const std::vector<std::string>& known_interfaces();

Compatibility check_compatibility(const PluginManifest& manifest);

// What refuses a compatible plugin by its manifest alone, whichever command reads it (serve,
// check-config, plugin inspect): a personal-data category outside the SDK's vocabulary
// (framehouse/sdk/personal_data.hpp), or personal data it could not export or erase.
std::optional<std::string> manifest_refusal(const PluginManifest& manifest);

}  // namespace framehouse::plugins
