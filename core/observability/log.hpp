// Structured logging. Log lines name what happened with ids and counts; they never carry
// passwords, tokens, or personal data (names, addresses, prompts). The API makes that easy:
// a message is a fixed text and every variable part is a named field.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace framehouse::observability {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { text, json };

struct LogField {
  std::string_view key;
  std::string value;
};

bool parse_log_level(std::string_view text, LogLevel& level);

class Log {
 public:
  static void configure(LogLevel minimum, LogFormat format);
  static bool enabled(LogLevel level);
  static void write(LogLevel level, std::string_view component, std::string_view message,
                    std::initializer_list<LogField> fields = {});

  static void debug(std::string_view component, std::string_view message,
                    std::initializer_list<LogField> fields = {}) {
    write(LogLevel::debug, component, message, fields);
  }
  static void info(std::string_view component, std::string_view message,
                   std::initializer_list<LogField> fields = {}) {
    write(LogLevel::info, component, message, fields);
  }
  static void warn(std::string_view component, std::string_view message,
                   std::initializer_list<LogField> fields = {}) {
    write(LogLevel::warn, component, message, fields);
  }
  static void error(std::string_view component, std::string_view message,
                    std::initializer_list<LogField> fields = {}) {
    write(LogLevel::error, component, message, fields);
  }
};

}  // namespace framehouse::observability
