#include "framehouse/testkit/fake_host.hpp"

#include <charconv>
#include <random>
#include <system_error>

namespace framehouse::testkit {

namespace fs = std::filesystem;

void FakeLogger::log(sdk::LogLevel level, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  std::lock_guard lock(mutex_);
  lines_.push_back(std::string(kNames[static_cast<int>(level)]) + ": " + std::string(message));
}

std::vector<std::string> FakeLogger::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool FakeLogger::contains(std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const auto& line : lines_) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

FakeConfig& FakeConfig::set(std::string key, Value value) {
  values_[std::move(key)] = std::move(value);
  return *this;
}

FakeConfig& FakeConfig::set_from_text(std::string_view assignment) {
  const auto equals = assignment.find('=');
  const std::string key(assignment.substr(0, equals));
  const std::string_view text = equals == std::string_view::npos ? std::string_view() : assignment.substr(equals + 1);
  const char* end = text.data() + text.size();
  std::int64_t integer = 0;
  if (auto parsed = std::from_chars(text.data(), end, integer); !text.empty() && parsed.ec == std::errc{} && parsed.ptr == end) {
    return set(key, integer);
  }
  double number = 0;
  if (auto parsed = std::from_chars(text.data(), end, number); !text.empty() && parsed.ec == std::errc{} && parsed.ptr == end) {
    return set(key, number);
  }
  if (text == "true" || text == "false") return set(key, text == "true");
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    // [a, b, c]: a list of strings (quotes around an item are dropped).
    std::vector<std::string> items;
    std::string_view rest = text.substr(1, text.size() - 2);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
      if (!item.empty()) items.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return set(key, std::move(items));
  }
  return set(key, std::string(text));
}

template <class T>
std::optional<T> FakeConfig::get(std::string_view key) const {
  const auto found = values_.find(key);
  if (found == values_.end()) return std::nullopt;
  if (const auto* value = std::get_if<T>(&found->second)) return *value;
  return std::nullopt;
}

std::optional<std::string> FakeConfig::string(std::string_view key) const { return get<std::string>(key); }
std::optional<std::int64_t> FakeConfig::integer(std::string_view key) const { return get<std::int64_t>(key); }
std::optional<double> FakeConfig::number(std::string_view key) const {
  // As in the host: an integer is a number too.
  if (const auto whole = get<std::int64_t>(key)) return static_cast<double>(*whole);
  return get<double>(key);
}
std::optional<bool> FakeConfig::boolean(std::string_view key) const { return get<bool>(key); }
std::optional<std::vector<std::string>> FakeConfig::strings(std::string_view key) const {
  return get<std::vector<std::string>>(key);
}

std::chrono::system_clock::time_point FakeClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void FakeClock::set(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  now_ = now;
}

void FakeClock::advance(std::chrono::system_clock::duration by) {
  std::lock_guard lock(mutex_);
  now_ += by;
}

FakeHost::FakeHost() : seed_(std::random_device{}()) {
  // Private, as the host makes it.
  for (int attempt = 0;; ++attempt) {
    data_directory_ = fs::temp_directory_path() / ("framehouse-testkit-" + std::to_string(seed_ + attempt));
    std::error_code ec;
    if (fs::create_directory(data_directory_, ec)) break;
  }
  fs::permissions(data_directory_, fs::perms::owner_all, fs::perm_options::replace);
}

FakeHost::~FakeHost() {
  std::error_code ec;
  fs::remove_all(data_directory_, ec);
}

std::string FakeHost::secret_key(std::string_view purpose) {
  // A deterministic 32 bytes per (host, purpose): SplitMix64 over both.
  std::uint64_t state = seed_;
  for (char c : purpose) state = (state ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  std::string key;
  while (key.size() < 32) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 0; i < 8; ++i) key.push_back(static_cast<char>((z >> (8 * i)) & 0xff));
  }
  return key;
}

}  // namespace framehouse::testkit
