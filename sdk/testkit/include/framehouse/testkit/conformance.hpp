// Framehouse SDK test kit — conformance suites: the contract of each interface, checked against
// a built plugin file. framehouse_add_conformance_test(<plugin target> [CONFIG key=value ...])
// builds and registers a test that runs, for every interface the plugin provides, the suite
// "<interface>_conformance" (see docs/plugin-authoring.md for what each checks).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "framehouse/testkit/fake_host.hpp"
#include "framehouse/testkit/plugin_file.hpp"

namespace framehouse::testkit {

struct ConformanceTarget {
  std::filesystem::path plugin;
  std::vector<std::string> config;  // "key=value", as FakeConfig::set_from_text takes them
};

// A plugin object started on a fresh FakeHost configured for the target; stopped when it goes.
class StartedPlugin {
 public:
  explicit StartedPlugin(const ConformanceTarget& target);
  ~StartedPlugin();
  StartedPlugin(const StartedPlugin&) = delete;
  StartedPlugin& operator=(const StartedPlugin&) = delete;

  // Empty when the plugin was loaded and started; else why not.
  const std::string& error() const { return error_; }
  template <class Interface>
  Interface* find() {
    return plugin_ ? sdk::interface_of<Interface>(*plugin_) : nullptr;
  }
  FakeHost& host() { return host_; }

 private:
  FakeHost host_;
  std::unique_ptr<sdk::Plugin> plugin_;
  bool started_ = false;
  std::string error_;
};

// Registers the suites of every interface the plugin provides with GoogleTest (call before
// RUN_ALL_TESTS). Returns the names of those interfaces; empty (and a failing test registered)
// when the plugin cannot be started.
std::vector<std::string> register_conformance_tests(const ConformanceTarget& target);

}  // namespace framehouse::testkit
