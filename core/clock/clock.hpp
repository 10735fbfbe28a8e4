// The time every module reads, as Unix seconds: the system clock in the server, a clock the
// test moves in tests. Below every domain module, so that none needs another for it.
#pragma once

#include <cstdint>
#include <functional>

namespace framehouse {

using UnixClock = std::function<std::int64_t()>;
std::int64_t unix_now();

}  // namespace framehouse
