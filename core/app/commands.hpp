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
// Ends the account's plan now, as DELETE /v1/admin/users/{id}/subscription.
int revoke_plan(const std::filesystem::path& config_file, const std::string& email, const std::string& reason);
int create_user(const std::filesystem::path& config_file, const std::string& name, const std::string& email,
                const std::string& role, std::istream& password_input);
// Gives an account one of the roles (accounts/roles.hpp), as PUT /v1/admin/users/{id}/role.
int set_role(const std::filesystem::path& config_file, const std::string& email, const std::string& role);
// Helping an owner, as the HTTP admin API does; each audited with what changed.
// Accounts whose address or name starts with `query` (or all), one line each.
int find_users(const std::filesystem::path& config_file, const std::string& query);
// Sessions and API keys (by label and time, never a token); and ending one.
int list_credentials(const std::filesystem::path& config_file, const std::string& email);
int revoke_credential(const std::filesystem::path& config_file, const std::string& email, const std::string& credential);
// Every session and key ends, jobs are canceled, sign-in is refused with the reason kept.
int suspend(const std::filesystem::path& config_file, const std::string& email, const std::string& reason);
int unsuspend(const std::filesystem::path& config_file, const std::string& email);
int verify_email(const std::filesystem::path& config_file, const std::string& email);
int resend_verification(const std::filesystem::path& config_file, const std::string& email);
// Two-factor sign-in off, for an owner who lost the device (they are mailed).
int reset_two_factor(const std::filesystem::path& config_file, const std::string& email);
// Walks the audit log's hash chain; prints where it breaks (exit 1) or that it is intact.
int audit_verify(const std::filesystem::path& config_file);

}  // namespace framehouse::app
