// Test support: the real framehouse binary, started on a free port with its own data dir.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace framehouse::testing {

// A configuration on the embedded defaults under `dir`, JSON logs, small limits, cheap
// argon2id; `extra` is appended inside [server] (so it may open further tables). The database
// is SQLite under `dir` unless `database_url` is given; `accounts_extra` goes inside [accounts].
std::string server_config(const std::filesystem::path& dir, const std::string& extra = "",
                          const std::string& database_url = "", const std::string& accounts_extra = "");

// A port nobody listens on now, for a server whose address another process must know first.
std::uint16_t free_loopback_port();
// `config` (from server_config) listening on that port instead of any.
std::string listening_on(std::string config, std::uint16_t port);

class RunningServer {
 public:
  explicit RunningServer(const std::string& config, const std::vector<std::string>& env = {});
  std::filesystem::path config_file() const { return dir.path() / "framehouse.toml"; }

  TempDir dir;
  std::unique_ptr<ChildProcess> process;
  std::uint16_t port = 0;  // 0 when the server did not come up
};

}  // namespace framehouse::testing
