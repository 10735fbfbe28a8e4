#include "support/plugins.hpp"

#include <sstream>

#include "plugins/compatibility.hpp"

namespace framehouse::testing {

std::filesystem::path fixture_plugin(const std::string& name) {
  return std::filesystem::path(FRAMEHOUSE_FIXTURE_DIR) / (name + ".so");
}

std::filesystem::path shipped_plugin(const std::string& name) {
  return std::filesystem::path(FRAMEHOUSE_PLUGIN_DIR) / (name + ".so");
}

std::optional<std::string> load_plugin(plugins::PluginHost& host, const std::filesystem::path& file,
                                       const std::string& toml_settings, std::chrono::milliseconds call_timeout) {
  auto manifest = plugins::read_manifest(file);
  if (auto* error = std::get_if<plugins::ManifestError>(&manifest)) return error->message;
  auto& parsed = std::get<plugins::PluginManifest>(manifest);
  if (auto compatibility = plugins::check_compatibility(parsed); !compatibility.compatible()) {
    return compatibility.describe(file);
  }
  config::Validator validator("test.toml");
  config::Settings settings;
  validator.validate(toml::parse(toml_settings), parsed.config_schema, "", settings);
  if (!validator.errors().empty()) return validator.errors().front().to_string();
  // What the server takes from its database; a test that restarts a plugin keeps its own.
  if (!host.has_secret_root()) host.set_secret_root("test secret root");
  plugins::PluginDeclaration declaration;
  declaration.name = parsed.name;
  declaration.file = file;
  declaration.call_timeout = call_timeout;
  declaration.settings = settings;
  return host.load(std::move(declaration), std::move(parsed));
}

}  // namespace framehouse::testing
