#include "accounts/validation.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "accounts/common_passwords.hpp"

namespace framehouse::accounts {
namespace {

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool valid_domain_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c >= 0x80;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::optional<std::string> normalise_email(std::string_view input) {
  while (!input.empty() && std::isspace(static_cast<unsigned char>(input.front()))) input.remove_prefix(1);
  while (!input.empty() && std::isspace(static_cast<unsigned char>(input.back()))) input.remove_suffix(1);
  if (input.size() > 254) return std::nullopt;
  const auto at = input.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return std::nullopt;
  const std::string_view local = input.substr(0, at);
  const std::string_view domain = input.substr(at + 1);
  for (unsigned char c : local) {
    if (c <= 0x20 || c == 0x7f || c == '@' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return std::nullopt;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return std::nullopt;
  if (domain.find('.') == std::string_view::npos) return std::nullopt;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const auto dot = domain.find('.', start);
    if (!valid_domain_label(domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return std::nullopt;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return lower(input);
}

std::optional<std::string> name_problem(std::string_view name) {
  const std::size_t length = utf8_length(name);
  if (length == 0) return "must not be empty";
  if (length > 100) return "must be at most 100 characters";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view password, std::size_t minimum_length,
                                            std::string_view email, std::string_view name) {
  const std::size_t length = utf8_length(password);
  if (length < minimum_length) return "must be at least " + std::to_string(minimum_length) + " characters";
  if (password.size() > 1024) return "must be at most 1024 bytes";
  if (is_common_password(password)) return "is one of the most common passwords";
  const std::string lowered = lower(password);
  if ((!email.empty() && lowered == lower(email)) ||
      (!email.empty() && lowered == lower(email.substr(0, email.find('@')))) || (!name.empty() && lowered == lower(name))) {
    return "must not be your email address or name";
  }
  return std::nullopt;
}

std::optional<int> age_on(std::string_view date_of_birth, std::string_view today) {
  int year = 0, month = 0, day = 0;
  int today_year = 0, today_month = 0, today_day = 0;
  if (date_of_birth.size() != 10 || date_of_birth[4] != '-' || date_of_birth[7] != '-') return std::nullopt;
  const std::string dob(date_of_birth);
  const std::string now(today);
  if (std::sscanf(dob.c_str(), "%4d-%2d-%2d", &year, &month, &day) != 3) return std::nullopt;
  if (std::sscanf(now.c_str(), "%4d-%2d-%2d", &today_year, &today_month, &today_day) != 3) return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || year < 1900) return std::nullopt;
  int age = today_year - year;
  if (today_month < month || (today_month == month && today_day < day)) --age;
  if (age < 0) return std::nullopt;
  return age;
}

namespace {

std::string format_utc(std::int64_t unix_seconds, const char* format) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &utc);
  return buffer;
}

}  // namespace

std::string utc_date(std::int64_t unix_seconds) { return format_utc(unix_seconds, "%Y-%m-%d"); }

std::string utc_time(std::int64_t unix_seconds) { return format_utc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

std::string whole_hours(std::int64_t seconds) { return std::to_string(std::max<std::int64_t>(1, seconds / 3600)); }

}  // namespace framehouse::accounts
