#include "config/schema.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

namespace framehouse::config {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join_key(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string_view node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::string trim_trailing_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

std::filesystem::path relative_to_config(const std::filesystem::path& config_file, const std::string& path) {
  if (path.empty()) return {};
  const std::filesystem::path given(path);
  if (given.is_absolute()) return given;
  return (std::filesystem::absolute(config_file).parent_path() / given).lexically_normal();
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::string: return "string";
    case ValueType::integer: return "integer";
    case ValueType::number: return "number";
    case ValueType::boolean: return "boolean";
    case ValueType::string_array: return "array of strings";
  }
  return "string";
}

const FieldSpec* TableSpec::field(std::string_view name) const {
  for (const auto& spec : fields) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string ConfigError::to_string() const {
  if (line == 0) return fmt::format("{}: {}: {}", file, key.empty() ? "(file)" : key, message);
  return fmt::format("{}:{}:{}: {}: {}", file, line, column, key.empty() ? "(file)" : key, message);
}

const Value* Settings::find(std::string_view key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

template <class T>
static std::optional<T> get_as(const Settings& settings, std::string_view key) {
  const Value* value = settings.find(key);
  if (value == nullptr) return std::nullopt;
  if (const T* typed = std::get_if<T>(value)) return *typed;
  return std::nullopt;
}

std::optional<std::string> Settings::string(std::string_view key) const {
  return get_as<std::string>(*this, key);
}
std::optional<std::int64_t> Settings::integer(std::string_view key) const {
  return get_as<std::int64_t>(*this, key);
}
std::optional<double> Settings::number(std::string_view key) const {
  if (auto integral = get_as<std::int64_t>(*this, key)) return static_cast<double>(*integral);
  return get_as<double>(*this, key);
}
std::optional<bool> Settings::boolean(std::string_view key) const {
  return get_as<bool>(*this, key);
}
std::optional<std::vector<std::string>> Settings::strings(std::string_view key) const {
  return get_as<std::vector<std::string>>(*this, key);
}

const std::vector<std::string>& Settings::tables_under(std::string_view prefix) const {
  static const std::vector<std::string> kNone;
  const auto it = tables_.find(prefix);
  return it == tables_.end() ? kNone : it->second;
}

Settings Settings::extract(std::string_view prefix) const {
  Settings out;
  const std::string start = std::string(prefix) + ".";
  for (auto it = values_.lower_bound(start); it != values_.end() && it->first.rfind(start, 0) == 0; ++it) {
    out.set(it->first.substr(start.size()), it->second);
  }
  return out;
}

void Settings::add_table(const std::string& prefix, std::string name) {
  tables_[prefix].push_back(std::move(name));
}

std::string did_you_mean(std::string_view unknown, const std::vector<std::string>& known) {
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& candidate : known) {
    const std::size_t distance = edit_distance(unknown, candidate);
    if (best == nullptr || distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  const std::size_t tolerance = std::max<std::size_t>(2, unknown.size() / 3);
  if (best == nullptr || best_distance > tolerance) return "";
  return fmt::format("did you mean '{}'?", *best);
}

void Validator::add_error(const toml::source_region& where, std::string key, std::string message) {
  // Kept in file order, whatever order the keys were visited in.
  ConfigError error{file_, where.begin.line, where.begin.column, std::move(key), std::move(message)};
  const auto position = std::upper_bound(errors_.begin(), errors_.end(), error, [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  errors_.insert(position, std::move(error));
}

std::optional<std::string> Validator::resolve_secret(const std::string& text,
                                                     const toml::node& node,
                                                     const std::string& key) {
  if (text.rfind("env:", 0) == 0) {
    const std::string name = text.substr(4);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      add_error(node.source(), key, fmt::format("environment variable {} is not set", name));
      return std::nullopt;
    }
    return std::string(value);
  }
  if (text.rfind("file:", 0) == 0) {
    const std::string path = text.substr(5);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      add_error(node.source(), key, fmt::format("cannot read secret file {}", path));
      return std::nullopt;
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    return trim_trailing_newline(contents.str());
  }
  return text;
}

void Validator::validate_field(const toml::node& node, const FieldSpec& spec,
                               const std::string& key, Settings& settings) {
  const auto mismatch = [&] {
    add_error(node.source(), key,
              fmt::format("expected {}, found {}", type_name(spec.type), node_type_name(node)));
  };
  switch (spec.type) {
    case ValueType::string: {
      const auto* text = node.as_string();
      if (text == nullptr) return mismatch();
      auto resolved = resolve_secret(text->get(), node, key);
      if (!resolved) return;
      if (!spec.one_of.empty() &&
          std::find(spec.one_of.begin(), spec.one_of.end(), *resolved) == spec.one_of.end()) {
        std::string choices;
        for (const auto& choice : spec.one_of) choices += (choices.empty() ? "" : ", ") + choice;
        std::string hint = did_you_mean(*resolved, spec.one_of);
        add_error(node.source(), key,
                  fmt::format("'{}' is not one of: {}{}{}", *resolved, choices,
                              hint.empty() ? "" : "; ", hint));
        return;
      }
      if (spec.is_path) *resolved = relative_to_config(file_, *resolved).string();
      settings.set(key, std::move(*resolved));
      return;
    }
    case ValueType::integer: {
      const auto* integer = node.as_integer();
      if (integer == nullptr) return mismatch();
      const std::int64_t value = integer->get();
      if ((spec.minimum && value < *spec.minimum) || (spec.maximum && value > *spec.maximum)) {
        add_error(node.source(), key,
                  fmt::format("{} is out of range [{}, {}]", value,
                              spec.minimum ? std::to_string(*spec.minimum) : "-inf",
                              spec.maximum ? std::to_string(*spec.maximum) : "inf"));
        return;
      }
      settings.set(key, value);
      return;
    }
    case ValueType::number: {
      if (const auto* integer = node.as_integer()) {
        settings.set(key, static_cast<double>(integer->get()));
        return;
      }
      const auto* number = node.as_floating_point();
      if (number == nullptr) return mismatch();
      settings.set(key, number->get());
      return;
    }
    case ValueType::boolean: {
      const auto* boolean = node.as_boolean();
      if (boolean == nullptr) return mismatch();
      settings.set(key, boolean->get());
      return;
    }
    case ValueType::string_array: {
      const auto* array = node.as_array();
      if (array == nullptr) return mismatch();
      std::vector<std::string> values;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const auto* element = array->get(i)->as_string();
        if (element == nullptr) {
          add_error(array->get(i)->source(), fmt::format("{}[{}]", key, i),
                    fmt::format("expected string, found {}", node_type_name(*array->get(i))));
          continue;
        }
        values.push_back(element->get());
      }
      settings.set(key, std::move(values));
      return;
    }
  }
}

void Validator::validate(const toml::table& table, const TableSpec& spec, const std::string& path,
                         Settings& settings) {
  validate_table(table, spec, path, settings, table.source());
}

void Validator::validate_table(const toml::table& table, const TableSpec& spec,
                               const std::string& path, Settings& settings,
                               const toml::source_region& where) {
  std::vector<std::string> known;
  for (const auto& field : spec.fields) known.push_back(field.name);
  for (const auto& [name, sub] : spec.tables) known.push_back(name);

  for (const auto& [toml_key, node] : table) {
    const std::string name(toml_key.str());
    const std::string key = join_key(path, name);
    if (const FieldSpec* field = spec.field(name)) {
      validate_field(node, *field, key, settings);
      continue;
    }
    const auto sub = spec.tables.find(name);
    const TableSpec* sub_spec = sub != spec.tables.end() ? &sub->second : nullptr;
    if (sub_spec == nullptr && spec.any_table != nullptr && node.is_table()) {
      sub_spec = spec.any_table;
      settings.add_table(path, name);
    }
    if (sub_spec != nullptr && sub_spec->validated_elsewhere) continue;
    if (sub_spec != nullptr) {
      if (const auto* sub_table = node.as_table()) {
        validate_table(*sub_table, *sub_spec, key, settings, sub_table->source());
      } else {
        add_error(node.source(), key, fmt::format("expected table, found {}", node_type_name(node)));
      }
      continue;
    }
    if (spec.ignore_unknown ||
        std::find(spec.ignored_keys.begin(), spec.ignored_keys.end(), name) != spec.ignored_keys.end()) {
      continue;
    }
    const std::string hint = did_you_mean(name, known);
    add_error(toml_key.source(), key,
              fmt::format("unknown key{}{}", hint.empty() ? "" : "; ", hint));
  }

  for (const auto& field : spec.fields) {
    const std::string key = join_key(path, field.name);
    if (field.required && !table.contains(field.name)) {
      add_error(where, key, "required key is missing");
    } else if (settings.find(key) == nullptr && field.default_value) {
      // Also after a wrong value was reported, so that callers can read every key.
      settings.set(key, *field.default_value);
    }
  }
  // Sub-tables that are absent still get their defaults.
  for (const auto& [name, sub_spec] : spec.tables) {
    if (!table.contains(name)) {
      validate_table(toml::table{}, sub_spec, join_key(path, name), settings, where);
    }
  }
}

}  // namespace framehouse::config
