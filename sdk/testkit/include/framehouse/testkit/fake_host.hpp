// Framehouse SDK test kit — what the host hands a plugin, without a server: a logger that keeps
// its lines, a configuration section set from the test, a clock the test moves, a data
// directory of the plugin's own (a fresh temporary directory, removed afterwards) and secret
// keys. Link FramehouseSDK::testkit; see docs/plugin-authoring.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framehouse/sdk/plugin.hpp"

namespace framehouse::testkit {

class FakeLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel level, std::string_view message) override;
  // Every line so far, as "<level>: <message>".
  std::vector<std::string> lines() const;
  // Whether any line contains `text` (a test that no address or secret was logged uses it).
  bool contains(std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// The plugin's [plugins.<name>] section. Set keys before start(); what is not set is absent
// (the host fills in the manifest's defaults; a test sets what its plugin needs).
class FakeConfig final : public sdk::ConfigSection {
 public:
  using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;
  FakeConfig& set(std::string key, Value value);
  // "key=value": an integer, a number, true/false, [a, b] (a list of strings), or else a string
  // ("key=" is an empty one).
  FakeConfig& set_from_text(std::string_view assignment);

  std::optional<std::string> string(std::string_view key) const override;
  std::optional<std::int64_t> integer(std::string_view key) const override;
  std::optional<double> number(std::string_view key) const override;
  std::optional<bool> boolean(std::string_view key) const override;
  std::optional<std::vector<std::string>> strings(std::string_view key) const override;

 private:
  template <class T>
  std::optional<T> get(std::string_view key) const;
  std::map<std::string, Value, std::less<>> values_;
};

class FakeClock final : public sdk::Clock {
 public:
  std::chrono::system_clock::time_point now() const override;
  void set(std::chrono::system_clock::time_point now);
  void advance(std::chrono::system_clock::duration by);

 private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

class FakeHost final : public sdk::HostServices {
 public:
  FakeHost();
  ~FakeHost();  // removes the data directory
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  sdk::Logger& logger() override { return logger_; }
  const sdk::ConfigSection& config() override { return config_; }
  const sdk::Clock& clock() override { return clock_; }
  const std::filesystem::path& data_directory() override { return data_directory_; }
  // 32 bytes, the same for the same purpose on every call of this host (not a real secret:
  // derived from the purpose and a per-host value).
  std::string secret_key(std::string_view purpose) override;

  FakeLogger& log() { return logger_; }
  FakeConfig& settings() { return config_; }
  FakeClock& time() { return clock_; }

 private:
  FakeLogger logger_;
  FakeConfig config_;
  FakeClock clock_;
  std::filesystem::path data_directory_;
  std::uint64_t seed_;
};

}  // namespace framehouse::testkit
