// Framehouse SDK — the plugin itself: metadata, lifecycle, host services.
//
// A plugin is a shared library that contains
//   1. a manifest (JSON) and a build signature in ELF sections, placed there by
//      FRAMEHOUSE_PLUGIN_MANIFEST. The host reads both straight from the file, before it
//      loads the library or runs any of its code, and refuses an incompatible file;
//   2. one entry point, FRAMEHOUSE_PLUGIN_ENTRY(YourPlugin), that creates the plugin object.
//
// The manifest names the plugin (its name is also its [plugins.<name>] table in the
// configuration), its version, the interfaces it implements ("storage", "payment", "email",
// "generation", "privacy"), the categories of personal data it stores or receives, the third
// party behind it if any, and the schema of its configuration section. See
// docs/plugin-authoring.md for the format.
//
// Threading: the host may call any interface method from several threads at once. start()
// and stop() are called once each, from one thread, never concurrently with anything else.
// Libraries are never unloaded while the process runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framehouse/sdk/build_signature.hpp"
#include "framehouse/sdk/outcome.hpp"
#include "framehouse/sdk/version.hpp"

namespace framehouse::sdk {

enum class LogLevel { debug, info, warn, error };

// Log lines go to the server's log with the plugin's name attached. Never pass secrets or
// personal data (addresses, names, prompts): log ids and counts instead.
class Logger {
 public:
  virtual void log(LogLevel level, std::string_view message) = 0;

  void debug(std::string_view message) { log(LogLevel::debug, message); }
  void info(std::string_view message) { log(LogLevel::info, message); }
  void warn(std::string_view message) { log(LogLevel::warn, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }

 protected:
  ~Logger() = default;
};

// The plugin's own [plugins.<name>] section, already validated against the schema in its
// manifest, with defaults filled in and `env:NAME` / `file:/path` secrets resolved.
class ConfigSection {
 public:
  virtual std::optional<std::string> string(std::string_view key) const = 0;
  virtual std::optional<std::int64_t> integer(std::string_view key) const = 0;
  virtual std::optional<double> number(std::string_view key) const = 0;
  virtual std::optional<bool> boolean(std::string_view key) const = 0;
  virtual std::optional<std::vector<std::string>> strings(std::string_view key) const = 0;

 protected:
  ~ConfigSection() = default;
};

class Clock {
 public:
  virtual std::chrono::system_clock::time_point now() const = 0;

 protected:
  ~Clock() = default;
};

// What the host hands a plugin at start. Every reference stays valid until stop() returns.
class HostServices {
 public:
  virtual Logger& logger() = 0;
  virtual const ConfigSection& config() = 0;
  virtual const Clock& clock() = 0;
  // A directory that belongs to this plugin alone (created by the host). Anything the plugin
  // keeps here about a person must be reachable through its privacy participant.
  virtual const std::filesystem::path& data_directory() = 0;
#if FRAMEHOUSE_SINCE(SDK, 1)
  // sdk 1.1. A secret of 32 bytes, the same for this plugin and `purpose` on every start and
  // every node, derived from a secret the host keeps in its database — never in the plugin's
  // data directory. For keyed hashes that must not be checkable by whoever can read the
  // plugin's files (e.g. a suppression list of hashed addresses).
  virtual std::string secret_key(std::string_view purpose) = 0;
#endif

 protected:
  ~HostServices() = default;
};

class Plugin {
 public:
  virtual ~Plugin() = default;

  // Called once after the configuration was validated. A failed outcome stops the server
  // from starting, with the plugin's name and this message.
  virtual Outcome start(HostServices& host) = 0;
  // Called once at shutdown, in reverse order of start. Release resources; don't throw.
  virtual void stop() {}

  // Returns the implementation of the named interface (its kInterfaceName), or nullptr.
  // Use interface_of<T>() rather than calling this directly.
  virtual void* find_interface(std::string_view name) = 0;
};

template <class Interface>
Interface* interface_of(Plugin& plugin) {
  return static_cast<Interface*>(plugin.find_interface(Interface::kInterfaceName));
}

// The usual find_interface() of a plugin class that derives from its interfaces:
//   void* find_interface(std::string_view name) override {
//     return provide_interfaces<StorageBackend, PrivacyParticipant>(this, name);
//   }
template <class... Interfaces, class Self>
void* provide_interfaces(Self* self, std::string_view name) {
  void* found = nullptr;
  ((found = found != nullptr          ? found
            : name == Interfaces::kInterfaceName ? static_cast<void*>(static_cast<Interfaces*>(self))
                                                 : nullptr),
   ...);
  return found;
}

}  // namespace framehouse::sdk

// Places the manifest (a JSON string literal) and this build's signature in the plugin file.
// The CMake helper framehouse_add_plugin() generates this from a plugin.json file.
#define FRAMEHOUSE_PLUGIN_MANIFEST(json_literal)                                            \
  extern "C" __attribute__((used, section(".framehouse_manifest"),                          \
                            visibility("default"))) const char framehouse_plugin_manifest[] = \
      json_literal;                                                                         \
  extern "C" __attribute__((used, section(".framehouse_build"),                             \
                            visibility("default"))) const char framehouse_plugin_build[] =  \
      FRAMEHOUSE_BUILD_SIGNATURE

// The one symbol the host imports. The object is deleted by the host through the virtual
// destructor; creation failures are reported as a null pointer, never as an exception.
#define FRAMEHOUSE_PLUGIN_ENTRY(PluginClass)                                             \
  extern "C" __attribute__((visibility("default"))) ::framehouse::sdk::Plugin*         \
  framehouse_plugin_create() noexcept {                                                  \
    try {                                                                                \
      return new PluginClass();                                                          \
    } catch (...) {                                                                      \
      return nullptr;                                                                    \
    }                                                                                    \
  }
