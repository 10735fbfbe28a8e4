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

#include <typeinfo>

#include <boost/core/demangle.hpp>
#include <fmt/format.h>

#include "config/schema.hpp"
#include "framehouse/sdk/plugin.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "plugins/call_gate.hpp"
#include "plugins/manifest.hpp"
#include "workers/task_processor.hpp"

namespace framehouse::plugins {

struct PluginDeclaration {
  std::string name;
  std::filesystem::path file;
  bool required = true;  // a failure stops the server; otherwise the plugin is skipped
  std::chrono::milliseconds call_timeout{0};  // 0: calls are not timed out
  int concurrency = 4;  // calls running at once, each on one of the plugin's own threads
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
  const CallGate& calls() const { return *gate_; }

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
  std::atomic<bool> started_{false};
  // Shared with the calls running on the threads: one that outlives this object (hung past the
  // shutdown grace) still releases its slot into a live gate.
  std::shared_ptr<CallGate> gate_;
  // The plugin's own threads, as many as its concurrency. Owned, except when calls are still
  // inside the plugin at destruction: then it is left to the process's exit, like the library.
  std::unique_ptr<workers::TaskProcessor> threads_;
};

class PluginHost {
 public:
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
  // Stops started plugins in reverse order of start. Each first takes no new calls and gets up to
  // `grace` for the calls inside it to return: stop() is never concurrent with a call. A plugin
  // still busy after that is not stopped (and never called again).
  void stop_all(std::chrono::milliseconds grace = std::chrono::seconds(10));

  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  std::shared_ptr<LoadedPlugin> find(std::string_view name) const;
  bool all_started() const;

  // Calls into a plugin on one of its own threads (at most its concurrency at once):
  // exceptions become Status::internal, a call that gets no slot or no answer within the
  // plugin's timeout becomes Status::timeout, and each call is counted by plugin and method.
  // `fn` takes the plugin's Interface& and returns an sdk::Outcome or sdk::Result<T>; it may
  // outlive this call (a timed-out one runs on): it must own (copy or share) what it uses.
  // `timeout` overrides the plugin's call_timeout_ms for long calls (a generation run).
  // `expected` names failures that are a normal outcome (a generation run the user canceled):
  // counted and logged as successes are, without a warning.
  using ExpectedFailure = bool (*)(const sdk::Outcome&);
  template <class Interface, class Fn>
  auto call(const std::shared_ptr<LoadedPlugin>& plugin, std::string_view method, Fn fn,
            std::optional<std::chrono::milliseconds> timeout = std::nullopt, ExpectedFailure expected = nullptr)
      -> std::invoke_result_t<Fn, Interface&>;

 private:
  template <class R>
  static R failure(sdk::Status status, std::string message) {
    return R(sdk::Outcome::failure(status, std::move(message)));
  }
  void record(const LoadedPlugin& plugin, std::string_view method, const sdk::Outcome& outcome,
              std::chrono::steady_clock::time_point started, ExpectedFailure expected);

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

// Whether an exception's text may go into the outcome: only for start(), which handles no one's
// data and whose text is the admin's clue (a wrong setting, an unreachable server).
enum class ExceptionText { hidden, shown };

template <class R, class Fn>
R run_catching(const std::string& plugin, std::string_view method, Fn& fn, ExceptionText text = ExceptionText::hidden) {
  try {
    return fn();
  } catch (const std::exception& error) {
    const std::string type = boost::core::demangle(typeid(error).name());
    if (text == ExceptionText::shown) {
      return R(sdk::Outcome::failure(sdk::Status::internal,
                                     fmt::format("plugin {} threw {} from {}: {}", plugin, type, method, error.what())));
    }
    // The outcome, logged and kept (a task's last error), names the exception's type only: its
    // text may quote what the plugin was handling, personal data included. The text goes to
    // the debug log, for a developer reproducing the failure.
    observability::Log::debug("plugins", "plugin exception text", {{"plugin", plugin}, {"method", std::string(method)},
                                                                    {"type", type}, {"text", error.what()}});
    return R(sdk::Outcome::failure(sdk::Status::internal, fmt::format("plugin {} threw {} from {}", plugin, type, method)));
  } catch (...) {
    return R(sdk::Outcome::failure(
        sdk::Status::internal, fmt::format("plugin {} threw a non-standard exception from {}", plugin, method)));
  }
}
}  // namespace detail

template <class Interface, class Fn>
auto PluginHost::call(const std::shared_ptr<LoadedPlugin>& plugin, std::string_view method, Fn fn,
                      std::optional<std::chrono::milliseconds> timeout_override, ExpectedFailure expected)
    -> std::invoke_result_t<Fn, Interface&> {
  workers::about_to_block();  // a call waits for its answer
  using R = std::invoke_result_t<Fn, Interface&>;
  const auto started = std::chrono::steady_clock::now();
  // Every answer, the plugin's own included, is counted by plugin and method.
  const auto answer = [&](R result) {
    record(*plugin, method, detail::outcome_of(result), started, expected);
    return result;
  };
  Interface* implementation = plugin->started() ? plugin->find<Interface>() : nullptr;
  if (implementation == nullptr) {
    return answer(failure<R>(sdk::Status::unsupported,
                             fmt::format("plugin {} does not provide {}", plugin->name(), Interface::kInterfaceName)));
  }
  auto bound = [implementation, fn = std::move(fn)]() mutable { return fn(*implementation); };
  const auto timeout = timeout_override.value_or(plugin->declaration().call_timeout);
  const CallGate::Deadline deadline =
      timeout.count() > 0 ? CallGate::Deadline(started + timeout) : CallGate::Deadline(std::nullopt);
  const auto timed_out = [&](std::string what) {
    metrics_.count("framehouse_plugin_call_timeouts_total", "Plugin calls that timed out, waiting for a slot or for an answer.",
                   "plugin", plugin->name());
    return answer(failure<R>(sdk::Status::timeout, std::move(what)));
  };
  switch (plugin->gate_->acquire(deadline)) {
    case CallGate::Admission::granted:
      break;
    case CallGate::Admission::closed:
      return answer(failure<R>(sdk::Status::unavailable, fmt::format("plugin {} is stopping", plugin->name())));
    case CallGate::Admission::busy:
      metrics_.count("framehouse_plugin_calls_refused_total",
                     "Plugin calls refused at once because every slot was taken and as many calls waited.", "plugin",
                     plugin->name());
      return answer(failure<R>(sdk::Status::unavailable,
                               fmt::format("plugin {} is busy: all {} of its calls are running and as many wait", plugin->name(),
                                           plugin->gate_->concurrency())));
    case CallGate::Admission::timed_out:
      return timed_out(fmt::format("plugin {}: all {} of its calls were busy for {} ms (each call waits that long)",
                                   plugin->name(), plugin->gate_->concurrency(), timeout.count()));
  }

  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<R> result;
  };
  auto shared = std::make_shared<Shared>();
  std::shared_ptr<CallGate> gate = plugin->gate_;
  // The slot is released by the plugin's thread when the plugin returns — also when the caller
  // gave up waiting — so a hung call keeps holding its thread's slot.
  const bool posted = plugin->threads_->try_post([shared, gate, name = plugin->name(), method = std::string(method),
                                                  bound = std::move(bound)]() mutable {
    R result = detail::run_catching<R>(name, method, bound);
    {
      std::lock_guard lock(shared->mutex);
      shared->result.emplace(std::move(result));
    }
    shared->done.notify_one();
    gate->release();
  });
  if (!posted) {  // cannot happen while slots and threads are one to one
    gate->release();
    return answer(failure<R>(sdk::Status::unavailable, fmt::format("plugin {} has no thread free", plugin->name())));
  }
  std::unique_lock lock(shared->mutex);
  const auto answered = [&] { return shared->result.has_value(); };
  if (deadline) {
    if (!shared->done.wait_until(lock, *deadline, answered)) {
      return timed_out(fmt::format("plugin {} did not return from {} within {} ms", plugin->name(), method, timeout.count()));
    }
  } else {
    shared->done.wait(lock, answered);
  }
  return answer(std::move(*shared->result));
}

}  // namespace framehouse::plugins
