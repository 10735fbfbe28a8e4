// Input rules for accounts: email addresses, names, passwords, dates of birth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace framehouse::accounts {

// Trimmed and lower-cased, or nothing when it is not a plausible address (RFC 5321 limits,
// one '@', a dotted domain, no spaces or control characters).
std::optional<std::string> normalise_email(std::string_view input);

// A display name: 1-100 characters, no control characters. Returns the problem, if any.
std::optional<std::string> name_problem(std::string_view name);

// The password policy: length in characters (not bytes), not one of the most common
// passwords, not the user's own address or name. Returns the problem, if any.
std::optional<std::string> password_problem(std::string_view password, std::size_t minimum_length,
                                            std::string_view email, std::string_view name);

// Age in whole years on `today` (both "YYYY-MM-DD"), or nothing for an invalid date or one in
// the future.
std::optional<int> age_on(std::string_view date_of_birth, std::string_view today);

// Today's date in UTC as "YYYY-MM-DD".
std::string utc_date(std::int64_t unix_seconds);
// ISO 8601 in UTC, to the second: "2026-12-01T14:00:00Z".
std::string utc_time(std::int64_t unix_seconds);
// "3" for three hours, at least "1": how long a mailed link works.
std::string whole_hours(std::int64_t seconds);

}  // namespace framehouse::accounts
