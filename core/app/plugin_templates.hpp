// `framehouse plugin new KIND NAME [--dir DIR]`: a new out-of-tree plugin folder from the SDK's
// example of that kind — renamed, with the template's CI script and README — that builds,
// passes its conformance test and loads as it is.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace framehouse::app {

// One file of a template, compiled in (generated from sdk/examples and sdk/template).
struct TemplateFile {
  std::string_view kind;  // "storage", "email", or "*" for every kind
  std::string_view base;  // the example's plugin name, replaced by the new one
  std::string_view name;  // the file's name, the base in it replaced too
  std::string_view text;
};
const std::vector<TemplateFile>& template_files();

// The kinds there is a template for.
std::vector<std::string> template_kinds();

// Writes the folder; an error message (nothing written) when the kind is unknown, the name is
// not a plugin name, or `directory` exists and is not empty.
std::optional<std::string> write_plugin_template(const std::string& kind, const std::string& name,
                                                 const std::filesystem::path& directory);

int new_plugin(const std::string& kind, const std::string& name, const std::filesystem::path& directory);

}  // namespace framehouse::app
