#include "observability/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace framehouse::observability {
namespace {

std::atomic<LogLevel> g_minimum{LogLevel::info};
std::atomic<LogFormat> g_format{LogFormat::text};
std::mutex g_write_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const auto length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(buffer, length) + "." + std::to_string(1000 + millis).substr(1) + "Z";
}

std::string json_quoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& level) {
  for (LogLevel candidate : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (text == level_name(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

void Log::configure(LogLevel minimum, LogFormat format) {
  g_minimum = minimum;
  g_format = format;
}

bool Log::enabled(LogLevel level) { return level >= g_minimum.load(); }

void Log::write(LogLevel level, std::string_view component, std::string_view message,
                std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string line;
  if (g_format.load() == LogFormat::json) {
    line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) +
           "\",\"component\":" + json_quoted(component) + ",\"msg\":" + json_quoted(message);
    for (const auto& field : fields) {
      line += "," + json_quoted(field.key) + ":" + json_quoted(field.value);
    }
    line += "}\n";
  } else {
    line = timestamp() + " " + level_name(level) + " [" + std::string(component) + "] " +
           std::string(message);
    for (const auto& field : fields) {
      line += " " + std::string(field.key) + "=" + field.value;
    }
    line += "\n";
  }
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace framehouse::observability
