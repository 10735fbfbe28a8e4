// The plugin host: loads compatible plugin files, starts them in declaration order, stops
// them in reverse, and is the only way the core calls into a plugin (through call()).
//
// Libraries are never unloaded while the process runs: objects, vtables and exception types
// that live in a plugin must stay valid for as long as anything may still touch them (a call
// abandoned after its timeout, for one).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "config/schema.hpp"
#include "framehouse/sdk/plugin.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/manifest.hpp"

namespace framehouse::plugins {

struct PluginDeclaration {
  std::string name;
  std::filesystem::path file;
  bool required = true;  // a failure stops the server; otherwise the plugin is skipped
  std::chrono::milliseconds call_timeout{0};  // 0: calls are not timed out
  config::Settings settings;  // the plugin's own keys, without the "plugins.<name>." prefix
};

class LoadedPlugin {
 public:
  // `secret_root` is what HostServices::secret_key derives from.
  LoadedPlugin(PluginDeclaration declaration, PluginManifest manifest,
               std::filesystem::path data_directory, const std::string& secret_root, sdk::Plugin* instance);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const std::string& name() const { return declaration_.name; }
  const std::filesystem::path& file() const { return declaration_.file; }
  const PluginManifest& manifest() const { return manifest_; }
  const PluginDeclaration& declaration() const { return declaration_; }
  bool started() const { return started_; }
  // The minor version of `interface` the plugin was built against (-1 if it names none): the
  // host calls nothing that minor did not have.
  int interface_minor(std::string_view interface) const;

  // The plugin's implementation of an SDK interface, or nullptr. Call it only through
  // PluginHost::call().
  template <class Interface>
  Interface* find() {
    return sdk::interface_of<Interface>(*instance_);
  }

 private:
  friend class PluginHost;
  class Services;

  PluginDeclaration declaration_;
  PluginManifest manifest_;
  std::unique_ptr<Services> services_;
  sdk::Plugin* instance_;
  bool started_ = false;
  std::atomic<int> abandoned_calls_{0};
};

class PluginHost {
 public:
  // A plugin with this many calls still running after their timeout gets no new calls until
  // some return: each holds a thread.
  static constexpr int kMaxAbandonedCalls = 8;

  PluginHost(observability::Metrics& metrics, std::filesystem::path data_directory);
  ~PluginHost();

  // The secret that plugins' HostServices::secret_key() derive from (the server keeps it in
  // its database). Set before load().
  void set_secret_root(std::string root) { secret_root_ = std::move(root); }
  bool has_secret_root() const { return !secret_root_.empty(); }

  // Loads the file (already checked for compatibility) and creates the plugin object.
  // Returns an error message naming the plugin and file, or nothing on success.
  std::optional<std::string> load(PluginDeclaration declaration, PluginManifest manifest);
  // Starts every loaded plugin in load order. A required plugin that fails stops the whole
  // start (already started plugins are stopped again, in reverse); an optional one is dropped.
  std::optional<std::string> start_all();
  // Stops started plugins in reverse order of start.
  void stop_all();

  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  std::shared_ptr<LoadedPlugin> find(std::string_view name) const;
  bool all_started() const;

  // Calls into a plugin: exceptions become Status::internal, a call past the plugin's
  // timeout becomes Status::timeout, and each call is counted by plugin and method.
  // `fn` takes the plugin's Interface& and returns an sdk::Outcome or sdk::Result<T>.
  // With a timeout, fn runs on its own thread and may outlive this call: it must own (copy
  // or share) everything it uses.
  // `timeout` overrides the plugin's call_timeout_ms for long calls (a generation run).
  template <class Interface, class Fn>
  auto call(const std::shared_ptr<LoadedPlugin>& plugin, std::string_view method, Fn fn,
            std::optional<std::chrono::milliseconds> timeout = std::nullopt) -> std::invoke_result_t<Fn, Interface&>;

 private:
  template <class R>
  static R failure(sdk::Status status, std::string message) {
    return R(sdk::Outcome::failure(status, std::move(message)));
  }
  void record(const LoadedPlugin& plugin, std::string_view method, const sdk::Outcome& outcome,
              std::chrono::steady_clock::time_point started);

  observability::Metrics& metrics_;
  std::filesystem::path data_directory_;
  std::string secret_root_;
  std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
};

namespace detail {
template <class R>
const sdk::Outcome& outcome_of(const R& result) {
  if constexpr (std::is_same_v<R, sdk::Outcome>) {
    return result;
  } else {
    static const sdk::Outcome kSuccess;
    return result.ok() ? kSuccess : result.outcome();
  }
}

template <class R, class Fn>
R run_catching(const std::string& plugin, std::string_view method, Fn& fn) {
  try {
    return fn();
  } catch (const std::exception& error) {
    return R(sdk::Outcome::failure(
        sdk::Status::internal, fmt::format("plugin {} threw from {}: {}", plugin, method, error.what())));
  } catch (...) {
    return R(sdk::Outcome::failure(
        sdk::Status::internal, fmt::format("plugin {} threw a non-standard exception from {}", plugin, method)));
  }
}
}  // namespace detail

template <class Interface, class Fn>
auto PluginHost::call(const std::shared_ptr<LoadedPlugin>& plugin, std::string_view method, Fn fn,
                      std::optional<std::chrono::milliseconds> timeout_override) -> std::invoke_result_t<Fn, Interface&> {
  using R = std::invoke_result_t<Fn, Interface&>;
  const auto started = std::chrono::steady_clock::now();
  Interface* implementation = plugin->started() ? plugin->find<Interface>() : nullptr;
  if (implementation == nullptr) {
    R result = failure<R>(sdk::Status::unsupported,
                          fmt::format("plugin {} does not provide {}", plugin->name(), Interface::kInterfaceName));
    record(*plugin, method, detail::outcome_of(result), started);
    return result;
  }
  auto bound = [implementation, fn = std::move(fn)]() mutable { return fn(*implementation); };
  const auto timeout = timeout_override.value_or(plugin->declaration().call_timeout);
  if (timeout.count() == 0) {
    R result = detail::run_catching<R>(plugin->name(), method, bound);
    record(*plugin, method, detail::outcome_of(result), started);
    return result;
  }
  if (plugin->abandoned_calls_.load() >= kMaxAbandonedCalls) {
    R result = failure<R>(sdk::Status::unavailable,
                          fmt::format("plugin {} has {} calls stuck past their timeout; refusing new calls",
                                      plugin->name(), kMaxAbandonedCalls));
    record(*plugin, method, detail::outcome_of(result), started);
    return result;
  }

  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<R> result;
    bool abandoned = false;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, plugin, method = std::string(method), bound = std::move(bound)]() mutable {
    R result = detail::run_catching<R>(plugin->name(), method, bound);
    std::lock_guard lock(shared->mutex);
    if (shared->abandoned) {
      --plugin->abandoned_calls_;
      return;
    }
    shared->result.emplace(std::move(result));
    shared->done.notify_one();
  }).detach();

  std::unique_lock lock(shared->mutex);
  if (!shared->done.wait_for(lock, timeout, [&] { return shared->result.has_value(); })) {
    shared->abandoned = true;
    ++plugin->abandoned_calls_;
    R result = failure<R>(sdk::Status::timeout,
                          fmt::format("plugin {} did not return from {} within {} ms", plugin->name(),
                                      method, timeout.count()));
    record(*plugin, method, detail::outcome_of(result), started);
    return result;
  }
  R result = std::move(*shared->result);
  record(*plugin, method, detail::outcome_of(result), started);
  return result;
}

}  // namespace framehouse::plugins
