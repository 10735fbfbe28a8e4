// The subcommands of the framehouse binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
#pragma once

#include <filesystem>
#include <istream>
#include <string>

namespace framehouse::app {

int serve(const std::filesystem::path& config_file);
int check_config(const std::filesystem::path& config_file);
int inspect_plugin(const std::filesystem::path& plugin_file);
// A verified account, created by an operator; the password is the first line of the input.
// An admin grants a plan (or extends it) by paid periods, as POST /v1/admin/users/{id}/subscription.
int grant_plan(const std::filesystem::path& config_file, const std::string& email, const std::string& plan, int periods);
int create_user(const std::filesystem::path& config_file, const std::string& name, const std::string& email,
                const std::string& role, std::istream& password_input);
// Gives an account one of the roles (accounts/roles.hpp), as PUT /v1/admin/users/{id}/role.
int set_role(const std::filesystem::path& config_file, const std::string& email, const std::string& role);
// Walks the audit log's hash chain; prints where it breaks (exit 1) or that it is intact.
int audit_verify(const std::filesystem::path& config_file);

}  // namespace framehouse::app
