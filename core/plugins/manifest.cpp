#include "plugins/manifest.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace framehouse::plugins {
namespace {

constexpr std::string_view kManifestSection = ".framehouse_manifest";
constexpr std::string_view kBuildSection = ".framehouse_build";
constexpr std::uint64_t kMaxSectionBytes = 1 << 20;

class ElfSections {
 public:
  explicit ElfSections(const std::filesystem::path& file) : in_(file, std::ios::binary) {}

  // Returns the NUL-terminated string stored in the named section.
  std::variant<std::string, ManifestError> section_text(std::string_view wanted) {
    if (!in_) return ManifestError{"cannot open the file"};
    Elf64_Ehdr header{};
    if (!read_at(0, &header, sizeof header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
      return ManifestError{"not an ELF shared library"};
    }
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
      return ManifestError{"not a 64-bit little-endian ELF file"};
    }
    if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx >= header.e_shnum) {
      return ManifestError{"malformed ELF section table"};
    }
    Elf64_Shdr names{};
    if (!read_section_header(header, header.e_shstrndx, names)) {
      return ManifestError{"malformed ELF section table"};
    }
    for (std::uint16_t i = 0; i < header.e_shnum; ++i) {
      Elf64_Shdr section{};
      if (!read_section_header(header, i, section)) return ManifestError{"malformed ELF section table"};
      char name[64] = {};
      if (!read_at(names.sh_offset + section.sh_name, name, sizeof name - 1)) continue;
      if (wanted != name) continue;
      if (section.sh_type == SHT_NOBITS || section.sh_size > kMaxSectionBytes) {
        return ManifestError{fmt::format("section {} is malformed", wanted)};
      }
      std::string text(section.sh_size, '\0');
      if (!read_at(section.sh_offset, text.data(), text.size())) {
        return ManifestError{fmt::format("section {} is truncated", wanted)};
      }
      text.resize(std::strlen(text.c_str()));
      return text;
    }
    return ManifestError{fmt::format(
        "no {} section: not a Framehouse plugin (build it with framehouse_add_plugin or "
        "FRAMEHOUSE_PLUGIN_MANIFEST)",
        wanted)};
  }

 private:
  bool read_section_header(const Elf64_Ehdr& header, std::uint16_t index, Elf64_Shdr& out) {
    return read_at(header.e_shoff + std::uint64_t{index} * header.e_shentsize, &out, sizeof out);
  }
  bool read_at(std::uint64_t offset, void* buffer, std::size_t size) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char*>(buffer), static_cast<std::streamsize>(size));
    return static_cast<std::size_t>(in_.gcount()) == size;
  }

  std::ifstream in_;
};

std::vector<std::string> string_list(const boost::json::object& object, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* array = object.if_contains(key); array && array->is_array()) {
    for (const auto& item : array->as_array()) {
      if (item.is_string()) out.emplace_back(item.as_string());
    }
  }
  return out;
}

std::string string_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<ManifestError> parse_field_spec(std::string_view name, const boost::json::value& json,
                                              config::FieldSpec& spec) {
  if (!json.is_object()) return ManifestError{fmt::format("config.{} must be an object", name)};
  const auto& object = json.as_object();
  spec.name = std::string(name);
  const std::string type = string_field(object, "type");
  if (type == "string") spec.type = config::ValueType::string;
  else if (type == "path") spec.type = config::ValueType::string, spec.is_path = true;
  else if (type == "integer") spec.type = config::ValueType::integer;
  else if (type == "number") spec.type = config::ValueType::number;
  else if (type == "boolean") spec.type = config::ValueType::boolean;
  else if (type == "array") spec.type = config::ValueType::string_array;
  else return ManifestError{fmt::format("config.{}.type '{}' is not string, path, integer, number, boolean or array", name, type)};
  spec.description = string_field(object, "description");
  if (const auto* required = object.if_contains("required")) spec.required = required->is_bool() && required->as_bool();
  if (const auto* minimum = object.if_contains("minimum"); minimum && minimum->is_int64()) spec.minimum = minimum->as_int64();
  if (const auto* maximum = object.if_contains("maximum"); maximum && maximum->is_int64()) spec.maximum = maximum->as_int64();
  spec.one_of = string_list(object, "enum");
  if (const auto* value = object.if_contains("default")) {
    const bool matches =
        (spec.type == config::ValueType::string && value->is_string()) ||
        (spec.type == config::ValueType::integer && value->is_int64()) ||
        (spec.type == config::ValueType::number && value->is_number()) ||
        (spec.type == config::ValueType::boolean && value->is_bool()) ||
        (spec.type == config::ValueType::string_array && value->is_array());
    if (!matches) return ManifestError{fmt::format("config.{}.default does not have type {}", name, type)};
    switch (spec.type) {
      case config::ValueType::string: spec.default_value = std::string(value->as_string()); break;
      case config::ValueType::integer: spec.default_value = value->as_int64(); break;
      case config::ValueType::number: spec.default_value = value->to_number<double>(); break;
      case config::ValueType::boolean: spec.default_value = value->as_bool(); break;
      case config::ValueType::string_array: spec.default_value = string_list(object, "default"); break;
    }
  }
  return std::nullopt;
}

std::variant<PluginManifest, ManifestError> parse_manifest_json(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(text, ec);
  if (ec || !json.is_object()) {
    return ManifestError{fmt::format("manifest is not a JSON object ({})", ec ? ec.message() : "wrong type")};
  }
  const auto& object = json.as_object();
  PluginManifest manifest;
  manifest.name = string_field(object, "name");
  manifest.version = string_field(object, "version");
  manifest.description = string_field(object, "description");
  manifest.implements = string_list(object, "implements");
  manifest.personal_data = string_list(object, "personal_data");
  manifest.purpose = string_field(object, "purpose");
  if (manifest.name.empty() || manifest.version.empty()) {
    return ManifestError{"manifest lacks \"name\" or \"version\""};
  }
  if (manifest.implements.empty()) return ManifestError{"manifest \"implements\" lists no interface"};
  if (const auto* processor = object.if_contains("processor"); processor && processor->is_object()) {
    const auto& p = processor->as_object();
    manifest.processor = ProcessorInfo{string_field(p, "third_party"), string_field(p, "purpose"),
                                       string_list(p, "receives")};
  }
  if (const auto* schema = object.if_contains("config")) {
    if (!schema->is_object()) return ManifestError{"manifest \"config\" must be an object"};
    for (const auto& [key, field_json] : schema->as_object()) {
      config::FieldSpec spec;
      if (auto error = parse_field_spec(key, field_json, spec)) return *error;
      manifest.config_schema.fields.push_back(std::move(spec));
    }
  }
  return manifest;
}

}  // namespace

bool PluginManifest::implements_interface(std::string_view interface) const {
  return std::find(implements.begin(), implements.end(), interface) != implements.end();
}

std::map<std::string, std::string> parse_signature(std::string_view signature) {
  std::map<std::string, std::string> fields;
  while (!signature.empty()) {
    const auto end = signature.find(';');
    const std::string_view item = signature.substr(0, end);
    if (const auto eq = item.find('='); eq != std::string_view::npos) {
      fields[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    }
    if (end == std::string_view::npos) break;
    signature.remove_prefix(end + 1);
  }
  return fields;
}

std::variant<PluginManifest, ManifestError> read_manifest(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return ManifestError{"no such file"};
  ElfSections elf(file);
  auto build = elf.section_text(kBuildSection);
  if (auto* error = std::get_if<ManifestError>(&build)) return *error;
  auto manifest_text = elf.section_text(kManifestSection);
  if (auto* error = std::get_if<ManifestError>(&manifest_text)) return *error;
  auto manifest = parse_manifest_json(std::get<std::string>(manifest_text));
  if (auto* parsed = std::get_if<PluginManifest>(&manifest)) {
    parsed->build = parse_signature(std::get<std::string>(build));
  }
  return manifest;
}

}  // namespace framehouse::plugins
