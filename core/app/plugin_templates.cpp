#include "app/plugin_templates.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <regex>

#include <fmt/format.h>

namespace framehouse::app {
namespace {

namespace fs = std::filesystem;

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// memory_storage → MemoryStorage: the class name the example uses for its plugin name.
std::string camel_case(std::string_view snake) {
  std::string out;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      upper = false;
    }
  }
  return out;
}

std::string instantiate(std::string_view text, std::string_view base, const std::string& kind, const std::string& name) {
  std::string out(text);
  if (base != "template") {
    replace_all(out, std::string(base) + "_example", name + "_plugin");  // the example's namespace
    replace_all(out, camel_case(base), camel_case(name));
    replace_all(out, base, name);
  }
  replace_all(out, "{{plugin}}", name);
  replace_all(out, "{{kind}}", kind);
  return out;
}

}  // namespace

std::vector<std::string> template_kinds() {
  std::vector<std::string> kinds;
  for (const auto& file : template_files()) {
    if (file.kind != "*" && std::find(kinds.begin(), kinds.end(), file.kind) == kinds.end()) kinds.emplace_back(file.kind);
  }
  return kinds;
}

std::optional<std::string> write_plugin_template(const std::string& kind, const std::string& name, const fs::path& directory) {
  const auto kinds = template_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    std::string known;
    for (const auto& each : kinds) known += (known.empty() ? "" : ", ") + each;
    return fmt::format("no template for kind {} (there are: {})", kind, known);
  }
  // The name is also the plugin's [plugins.<name>] table, its file name and C++ identifiers.
  if (!std::regex_match(name, std::regex("[a-z][a-z0-9_]{1,62}"))) {
    return fmt::format("{} is not a plugin name: 2-63 characters of a-z, 0-9 and _, starting with a letter", name);
  }
  std::error_code ec;
  if (fs::exists(directory, ec) && !fs::is_empty(directory, ec)) return fmt::format("{} exists and is not empty", directory.string());
  fs::create_directories(directory, ec);
  if (ec) return fmt::format("cannot create {}: {}", directory.string(), ec.message());
  for (const auto& file : template_files()) {
    if (file.kind != kind && file.kind != "*") continue;
    const fs::path path = directory / instantiate(file.name, file.base, kind, name);
    std::ofstream out(path, std::ios::binary);
    out << instantiate(file.text, file.base, kind, name);
    if (!out) return fmt::format("cannot write {}", path.string());
    out.close();
    // Sources to share, not secrets: readable by all, as a checkout would be.
    ::chmod(path.c_str(), path.extension() == ".sh" ? 0755 : 0644);
  }
  ::chmod(directory.c_str(), 0755);
  return std::nullopt;
}

int new_plugin(const std::string& kind, const std::string& name, const fs::path& directory) {
  if (auto error = write_plugin_template(kind, name, directory)) {
    std::cerr << "framehouse: " << *error << "\n";
    return 1;
  }
  std::cout << fmt::format("{}: {} plugin {} written; build and test it with {}/ci.sh <SDK prefix>\n", directory.string(), kind,
                           name, directory.string());
  return 0;
}

}  // namespace framehouse::app
