#include "plugins/host.hpp"

#include <dlfcn.h>
#include <sodium.h>

#include <charconv>
#include <stdexcept>

#include <boost/dll/shared_library.hpp>

#include "plugins/compatibility.hpp"

namespace framehouse::plugins {
namespace {

using observability::Log;

// Loaded libraries live until the process exits; see the header.
std::vector<boost::dll::shared_library>& loaded_libraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}

class PluginLogger final : public sdk::Logger {
 public:
  explicit PluginLogger(std::string component) : component_(std::move(component)) {}
  void log(sdk::LogLevel level, std::string_view message) override {
    Log::write(static_cast<observability::LogLevel>(level), component_, message);
  }

 private:
  std::string component_;
};

class SettingsSection final : public sdk::ConfigSection {
 public:
  explicit SettingsSection(const config::Settings& settings) : settings_(settings) {}
  std::optional<std::string> string(std::string_view key) const override { return settings_.string(key); }
  std::optional<std::int64_t> integer(std::string_view key) const override { return settings_.integer(key); }
  std::optional<double> number(std::string_view key) const override { return settings_.number(key); }
  std::optional<bool> boolean(std::string_view key) const override { return settings_.boolean(key); }
  std::optional<std::vector<std::string>> strings(std::string_view key) const override {
    return settings_.strings(key);
  }

 private:
  const config::Settings& settings_;
};

class SystemClock final : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

class LoadedPlugin::Services final : public sdk::HostServices {
 public:
  Services(const std::string& name, const config::Settings& settings, std::filesystem::path directory,
           const std::string& secret_root)
      : name_(name), logger_("plugin:" + name), section_(settings), directory_(std::move(directory)), secret_root_(secret_root) {}
  sdk::Logger& logger() override { return logger_; }
  const sdk::ConfigSection& config() override { return section_; }
  const sdk::Clock& clock() override { return clock_; }
  const std::filesystem::path& data_directory() override { return directory_; }
  std::string secret_key(std::string_view purpose) override {
    if (secret_root_.empty()) throw std::logic_error("this host was started without a secret root");
    // Domain-separated per plugin and purpose: no plugin can compute another's keys.
    std::string input = "framehouse.plugin-secret.v1";
    for (const std::string_view part : {std::string_view(name_), purpose}) (input += '\0') += part;
    std::string key(crypto_generichash_BYTES, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(), reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(), reinterpret_cast<const unsigned char*>(secret_root_.data()),
                       std::min<std::size_t>(secret_root_.size(), crypto_generichash_KEYBYTES_MAX));
    return key;
  }

 private:
  std::string name_;
  PluginLogger logger_;
  SettingsSection section_;
  SystemClock clock_;
  std::filesystem::path directory_;
  std::string secret_root_;
};

LoadedPlugin::LoadedPlugin(PluginDeclaration declaration, PluginManifest manifest,
                           std::filesystem::path data_directory, const std::string& secret_root, sdk::Plugin* instance)
    : declaration_(std::move(declaration)),
      manifest_(std::move(manifest)),
      services_(std::make_unique<Services>(declaration_.name, declaration_.settings,
                                           std::move(data_directory), secret_root)),
      instance_(instance),
      gate_(std::make_shared<CallGate>(declaration_.concurrency)),
      // Slots and threads are one to one, so a call that holds a slot always finds a thread.
      threads_(std::make_unique<workers::TaskProcessor>("plugin:" + declaration_.name, gate_->concurrency(),
                                                        static_cast<std::size_t>(gate_->concurrency()))) {}

int LoadedPlugin::interface_minor(std::string_view interface) const {
  const auto found = manifest_.build.find(std::string(interface));
  if (found == manifest_.build.end()) return -1;
  const auto dot = found->second.find('.');
  if (dot == std::string::npos) return -1;
  int minor = -1;
  const char* begin = found->second.data() + dot + 1;
  std::from_chars(begin, found->second.data() + found->second.size(), minor);
  return minor;
}

LoadedPlugin::~LoadedPlugin() {
  if (gate_->in_flight() > 0) {
    // A call is still inside the plugin (it hung past the shutdown grace): neither its object
    // nor its threads may go while it runs. The process is exiting; they go with it.
    (void)threads_.release();
    Log::error("plugins", "plugin still busy at exit; left running", {{"plugin", name()}});
    return;
  }
  threads_.reset();
  try {
    delete instance_;
  } catch (...) {
    Log::error("plugins", "plugin destructor threw", {{"plugin", name()}});
  }
}

PluginHost::PluginHost(observability::Metrics& metrics, std::filesystem::path data_directory)
    : metrics_(metrics), data_directory_(std::move(data_directory)) {}

PluginHost::~PluginHost() { stop_all(); }

std::optional<std::string> PluginHost::load(PluginDeclaration declaration, PluginManifest manifest) {
  const std::string where = fmt::format("plugin {} ({})", declaration.name, declaration.file.string());
  const auto refuse = [&](std::string reason) -> std::optional<std::string> {
    metrics_.record_plugin_load_failure(declaration.name);
    return fmt::format("{}: {}", where, reason);
  };

  if (auto refusal = manifest_refusal(manifest)) return refuse(std::move(*refusal));

  boost::dll::shared_library library;
  boost::dll::fs::error_code ec;
  library.load(declaration.file, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (ec) {
    const char* reason = dlerror();
    return refuse(fmt::format("cannot load: {}", reason != nullptr ? reason : ec.message()));
  }
  if (!library.has("framehouse_plugin_create")) {
    loaded_libraries().push_back(std::move(library));
    return refuse("missing entry point framehouse_plugin_create (use FRAMEHOUSE_PLUGIN_ENTRY)");
  }
  auto& create = library.get<sdk::Plugin*() noexcept>("framehouse_plugin_create");
  loaded_libraries().push_back(std::move(library));

  sdk::Plugin* instance = create();
  if (instance == nullptr) return refuse("the entry point failed to create the plugin object");

  std::error_code fs_error;
  auto directory = data_directory_ / "plugins" / declaration.name;
  std::filesystem::create_directories(directory, fs_error);
  if (fs_error) {
    delete instance;
    return refuse(fmt::format("cannot create its data directory {}: {}", directory.string(), fs_error.message()));
  }
  auto plugin = std::make_shared<LoadedPlugin>(std::move(declaration), std::move(manifest), directory, secret_root_, instance);
  for (const auto& interface : plugin->manifest().implements) {
    if (instance->find_interface(interface) == nullptr) {
      return refuse(fmt::format("the manifest lists interface {} but the plugin does not provide it", interface));
    }
  }
  const std::weak_ptr<LoadedPlugin> watched = plugin;
  metrics_.add_gauge("framehouse_plugin_calls_in_flight", "Calls inside a plugin now (each holds one of its threads).", "plugin",
                     plugin->name(), [watched] {
                       const auto loaded = watched.lock();
                       return loaded ? static_cast<double>(loaded->calls().in_flight()) : 0.0;
                     });
  metrics_.add_gauge("framehouse_plugin_calls_waiting", "Calls waiting for a free slot of a plugin.", "plugin", plugin->name(),
                     [watched] {
                       const auto loaded = watched.lock();
                       return loaded ? static_cast<double>(loaded->calls().waiting()) : 0.0;
                     });
  plugins_.push_back(std::move(plugin));
  return std::nullopt;
}

std::optional<std::string> PluginHost::start_all() {
  for (auto it = plugins_.begin(); it != plugins_.end();) {
    auto& plugin = **it;
    const auto started = std::chrono::steady_clock::now();
    sdk::Plugin& instance = *plugin.instance_;
    LoadedPlugin::Services& services = *plugin.services_;
    auto start = [&]() { return instance.start(services); };
    sdk::Outcome outcome = detail::run_catching<sdk::Outcome>(plugin.name(), "start", start, detail::ExceptionText::shown);
    record(plugin, "start", outcome, started, nullptr);
    if (outcome.ok()) {
      plugin.started_ = true;
      Log::info("plugins", "plugin started",
                {{"plugin", plugin.name()}, {"version", plugin.manifest().version}});
      ++it;
      continue;
    }
    metrics_.record_plugin_load_failure(plugin.name());
    std::string message = fmt::format("plugin {} ({}) failed to start: {}", plugin.name(),
                                      plugin.file().string(), outcome.message());
    if (plugin.declaration().required) {
      stop_all();
      return message;
    }
    Log::error("plugins", "optional plugin skipped", {{"reason", message}});
    it = plugins_.erase(it);
  }
  return std::nullopt;
}

void PluginHost::stop_all(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
    auto& plugin = **it;
    if (!plugin.started_) continue;
    plugin.started_ = false;
    // stop() is never concurrent with a call (the SDK's promise): no call starts from now on,
    // and the ones inside get what is left of the grace to return.
    plugin.gate_->close();
    if (!plugin.gate_->wait_idle(deadline)) {
      Log::error("plugins", "plugin calls still running after the shutdown grace; the plugin is not stopped",
                 {{"plugin", plugin.name()}, {"calls", std::to_string(plugin.gate_->in_flight())}});
      continue;
    }
    try {
      plugin.instance_->stop();
    } catch (...) {
      Log::error("plugins", "plugin threw from stop", {{"plugin", plugin.name()}});
    }
    Log::info("plugins", "plugin stopped", {{"plugin", plugin.name()}});
  }
}

std::shared_ptr<LoadedPlugin> PluginHost::find(std::string_view name) const {
  for (const auto& plugin : plugins_) {
    if (plugin->name() == name) return plugin;
  }
  return nullptr;
}

bool PluginHost::all_started() const {
  for (const auto& plugin : plugins_) {
    if (!plugin->started()) return false;
  }
  return true;
}

void PluginHost::record(const LoadedPlugin& plugin, std::string_view method, const sdk::Outcome& outcome,
                        std::chrono::steady_clock::time_point started, ExpectedFailure expected) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const bool normal = outcome.ok() || (expected != nullptr && expected(outcome));
  metrics_.record_plugin_call(plugin.name(), method, normal, seconds);
  if (!normal) {
    Log::warn("plugins", "plugin call failed",
              {{"plugin", plugin.name()}, {"method", std::string(method)},
               {"status", sdk::to_string(outcome.status())}, {"reason", outcome.message()}});
  }
}

}  // namespace framehouse::plugins
