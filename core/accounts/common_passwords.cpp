// The most common passwords of public breach corpora, long enough to pass a length check.
// Short ones (123456, qwerty, ...) are already refused by the minimum length.
#include "accounts/common_passwords.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace framehouse::accounts {
namespace {

constexpr std::array<std::string_view, 120> kCommon = {
    "12345678",     "123456789",     "1234567890",    "12345678910",   "0123456789",   "1234567891",
    "123123123",    "111111111",     "1111111111",    "000000000",     "0000000000",   "987654321",
    "9876543210",   "1q2w3e4r",      "1q2w3e4r5t",    "1q2w3e4r5t6y",  "q1w2e3r4t5",   "1qaz2wsx",
    "1qaz2wsx3edc", "zaq12wsx",      "qwertyuiop",    "qwerty123",     "qwerty1234",   "qwertyuiop123",
    "asdfghjkl",    "asdfasdf",      "zxcvbnm123",    "password",      "password1",    "password12",
    "password123",  "password1234",  "passw0rd",      "p@ssw0rd",      "p@ssword",     "passwort",
    "iloveyou",     "iloveyou1",     "iloveyou123",   "sunshine",      "princess",     "football",
    "baseball",     "basketball",    "superman",      "batman123",     "starwars",     "whatever",
    "trustno1",     "welcome1",      "welcome123",    "letmein1",      "letmein123",   "changeme",
    "changeme123",  "administrator", "admin1234",     "admin12345",    "administrator1","rootroot",
    "computer",     "internet",      "michelle",      "jennifer",      "alexander",    "charlie1",
    "mercedes",     "corvette",      "elephant",      "butterfly",     "chocolate",    "pokemon123",
    "minecraft",    "liverpool",     "chelsea1",      "arsenal1",      "manchester",   "barcelona",
    "mustang1",     "michael1",      "jordan23",      "jessica1",      "danielle",     "samantha",
    "sweetheart",   "monkey123",     "dragon123",     "shadow123",     "master123",    "freedom1",
    "abcd1234",     "abc12345",      "abcdefgh",      "aa123456",      "qazwsxedc",    "asdf1234",
    "11223344",     "12341234",      "12344321",      "147258369",     "123654789",    "159753456",
    "123qweasd",    "qweasdzxc",     "qwe123qwe",     "1234qwer",      "q1w2e3r4",     "zxcvbnm1",
    "football1",    "princess1",     "sunshine1",     "summer2024",    "spring2024",   "winter2024",
    "welcome2024",  "password2024",  "password2025",  "password2026",  "framehouse",   "framehouse1",
};

}  // namespace

bool is_common_password(std::string_view password) {
  std::string lowered(password);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kCommon.begin(), kCommon.end(), lowered) != kCommon.end();
}

}  // namespace framehouse::accounts
