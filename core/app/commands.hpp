// The subcommands of the framehouse binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
#pragma once

#include <filesystem>

namespace framehouse::app {

int serve(const std::filesystem::path& config_file);
int check_config(const std::filesystem::path& config_file);
int inspect_plugin(const std::filesystem::path& plugin_file);

}  // namespace framehouse::app
