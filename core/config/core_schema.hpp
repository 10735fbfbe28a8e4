// The schema of the server's own configuration sections. Every key here is documented in
// config/framehouse.toml and docs/configuration.md.
#pragma once

#include "config/schema.hpp"

namespace framehouse::config {

const TableSpec& core_schema();
// The keys the host reads from every [plugins.<name>] table, besides the plugin's own.
const std::vector<FieldSpec>& plugin_host_fields();

// Environment overrides: FRAMEHOUSE_<SECTION>_<KEY> (e.g. FRAMEHOUSE_DATABASE_URL) replaces
// a core setting from the file. Malformed values are reported like file errors.
void apply_environment_overrides(const TableSpec& spec, Validator& validator, Settings& settings);

}  // namespace framehouse::config
