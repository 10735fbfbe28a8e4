// Reading a plugin's manifest and build signature straight from its ELF file, without loading
// it: nothing of the plugin runs (not even its static constructors) before the host has
// decided that the file is compatible and its configuration is valid.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/schema.hpp"

namespace framehouse::plugins {

struct ProcessorInfo {
  std::string third_party;              // who is behind the plugin, e.g. "Stripe, Inc."
  std::string purpose;                  // why data goes there
  std::vector<std::string> receives;    // categories of personal data sent to them
};

struct PluginManifest {
  std::string name;
  std::string version;
  std::string description;
  std::vector<std::string> implements;     // interface names
  std::vector<std::string> personal_data;  // categories it stores or receives
  std::string purpose;                     // why it keeps or receives them (the processors register)
  std::optional<ProcessorInfo> processor;
  config::TableSpec config_schema;
  std::map<std::string, std::string> build;  // parsed build signature

  bool implements_interface(std::string_view interface) const;
};

struct ManifestError {
  std::string message;
};

// Reads and parses both sections. Errors name what is wrong but not the file: the caller
// adds the path.
std::variant<PluginManifest, ManifestError> read_manifest(const std::filesystem::path& file);

// "compiler=gcc-12;cxx_abi=...;storage=1.0" -> {{"compiler","gcc-12"}, ...}
std::map<std::string, std::string> parse_signature(std::string_view signature);

}  // namespace framehouse::plugins
