#pragma once

#include <string_view>

namespace framehouse::accounts {

// True if the password (compared case-insensitively) is on the bundled list of the most
// commonly used passwords.
bool is_common_password(std::string_view password);

}  // namespace framehouse::accounts
