// A declared schema for a TOML table and the validator that checks a file against it.
//
// The core declares its own sections in code (core_schema.cpp); each plugin declares its
// section in its manifest. Validation reports every problem at once, each with file, line,
// column and the key's full path, and produces the settings with defaults applied and
// `env:NAME` / `file:/path` secrets resolved.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <toml++/toml.h>

namespace framehouse::config {

enum class ValueType { string, integer, number, boolean, string_array };
std::string_view type_name(ValueType type);

using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct FieldSpec {
  std::string name;
  ValueType type = ValueType::string;
  bool required = false;
  std::optional<Value> default_value;
  std::string description;
  std::optional<std::int64_t> minimum;  // integers only
  std::optional<std::int64_t> maximum;
  std::vector<std::string> one_of;  // strings only
  // A string that names a file or directory: a relative one is made relative to the
  // configuration file's directory (a plugin manifest's "type": "path").
  bool is_path = false;
};

// `path` made absolute against the directory of `config_file` (unchanged when absolute or empty):
// the one rule for every relative path in the configuration.
std::filesystem::path relative_to_config(const std::filesystem::path& config_file, const std::string& path);

struct TableSpec {
  std::vector<FieldSpec> fields;
  std::map<std::string, TableSpec> tables;
  // When set, any sub-table name is accepted and checked against this spec (e.g. the
  // per-plugin tables under [plugins]); the caller validates them further.
  const TableSpec* any_table = nullptr;
  // Set on an any_table spec whose tables are validated by someone else (the plugin host
  // checks [plugins.<name>] against each plugin's manifest): only their names are recorded.
  bool validated_elsewhere = false;
  // Keys that belong to someone else and are skipped here.
  std::vector<std::string> ignored_keys;
  // When set, keys not in the spec are skipped instead of reported.
  bool ignore_unknown = false;

  const FieldSpec* field(std::string_view name) const;
};

struct ConfigError {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string key;  // full dotted path
  std::string message;

  std::string to_string() const;
};

// Settings by full dotted key, after defaults and secrets.
class Settings {
 public:
  void set(std::string key, Value value) { values_[std::move(key)] = std::move(value); }
  const Value* find(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  // Sub-table names seen directly under prefix (e.g. the plugin names under "plugins").
  const std::vector<std::string>& tables_under(std::string_view prefix) const;
  void add_table(const std::string& prefix, std::string name);
  // The settings under "prefix.", with the prefix removed.
  Settings extract(std::string_view prefix) const;

 private:
  std::map<std::string, Value, std::less<>> values_;
  std::map<std::string, std::vector<std::string>, std::less<>> tables_;
};

class Validator {
 public:
  explicit Validator(std::string file) : file_(std::move(file)) {}

  // Checks `table` (found at `path`, "" for the root) against `spec`, adding errors and
  // settings. Sub-tables matched by `any_table` are recorded in settings.tables_under().
  void validate(const toml::table& table, const TableSpec& spec, const std::string& path,
                Settings& settings);
  void add_error(const toml::source_region& where, std::string key, std::string message);

  const std::vector<ConfigError>& errors() const { return errors_; }
  const std::string& file() const { return file_; }

 private:
  void validate_table(const toml::table& table, const TableSpec& spec, const std::string& path,
                      Settings& settings, const toml::source_region& where);
  void validate_field(const toml::node& node, const FieldSpec& spec, const std::string& key,
                      Settings& settings);
  std::optional<std::string> resolve_secret(const std::string& text, const toml::node& node,
                                            const std::string& key);

  std::string file_;
  std::vector<ConfigError> errors_;
};

// "did you mean 'threads'?" when a known name is close to the unknown one, else "".
std::string did_you_mean(std::string_view unknown, const std::vector<std::string>& known);

}  // namespace framehouse::config
