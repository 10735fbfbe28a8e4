// framehouse: the server binary and its administrative subcommands.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/plugin_templates.hpp"

namespace {

// The admin subcommands, each with its usage (also what `admin <sub> --help` prints).
constexpr std::pair<std::string_view, std::string_view> kAdminCommands[] = {
    {"create-user", R"(  admin create-user --config FILE --email EMAIL --name NAME [--role ROLE | --admin]
                             create a verified account (the first admin); the password is read
                             from the first line of standard input
)"},
    {"set-role", R"(  admin set-role --config FILE --email EMAIL --role ROLE
                             give an account a role: user, support, billing, privacy, analyst,
                             communications or admin (see docs/accounts.md); the last admin
                             keeps the role
)"},
    {"grant", R"(  admin grant --config FILE --email EMAIL --plan PLAN [--periods N]
                             grant a plan, or extend it by N paid periods (payment arranged
                             outside the app)
)"},
    {"revoke-plan", R"(  admin revoke-plan --config FILE --email EMAIL --reason TEXT
                             end the account's plan now (the paid periods left are gone)
)"},
    {"find", R"(  admin find --config FILE [--query TEXT]
                             accounts whose address or name starts with TEXT (all without it)
)"},
    {"credentials", R"(  admin credentials --config FILE --email EMAIL
                             the account's sessions and API keys, by label and time
)"},
    {"revoke", R"(  admin revoke --config FILE --email EMAIL --credential ID
                             end one session (ses_…) or API key (key_…) of the account
)"},
    {"suspend", R"(  admin suspend --config FILE --email EMAIL --reason TEXT
                             stop an account: sessions and keys end, jobs are canceled, sign-in
                             is refused; the last active admin cannot be suspended
)"},
    {"unsuspend", R"(  admin unsuspend --config FILE --email EMAIL
                             let a suspended account sign in again
)"},
    {"verify-email", R"(  admin verify-email --config FILE --email EMAIL
                             count the account's address as verified (the owner showed it is theirs)
)"},
    {"resend-verification", R"(  admin resend-verification --config FILE --email EMAIL
                             mail the account a new confirmation link
)"},
    {"reset-two-factor", R"(  admin reset-two-factor --config FILE --email EMAIL
                             turn two-factor sign-in off for an owner who lost the device
)"},
};

std::string admin_usage() {
  std::string usage;
  for (const auto& [name, text] : kAdminCommands) usage += text;
  return usage;
}

constexpr std::string_view kUsageTemplate = R"(usage: framehouse <command> [options]

commands:
  serve --config FILE        run the server (FILE defaults to $FRAMEHOUSE_CONFIG)
  check-config FILE          validate a configuration file and its plugins' sections, start nothing
  plugin inspect FILE        print a plugin's manifest and whether this server can load it
  plugin new KIND NAME [--dir DIR]
                             write a new plugin folder (KIND: storage or email) that builds,
                             passes its conformance test and loads; DIR defaults to ./NAME
{admin})  audit verify --config FILE walk the audit log's hash chain; name any edited, removed or
                             reordered entry (exit 1)
  --help                     show this text
  --version                  print the version

exit codes: 0 success, 1 failure, 2 invalid usage or configuration
)";

std::string usage() { return fmt::format(fmt::runtime(kUsageTemplate), fmt::arg("admin", admin_usage())); }

int usage_error(std::string_view message) {
  std::cerr << "framehouse: " << message << "\n\n" << usage();
  return 2;
}

// The "--name value" options and bare flags of an admin subcommand (args from index 2 on);
// --config defaults to $FRAMEHOUSE_CONFIG. Every name in `required` must be given.
struct AdminOptions {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::string error;  // set when the arguments do not fit
};

AdminOptions admin_options(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                           const std::set<std::string>& flags, const std::vector<std::string>& required) {
  AdminOptions options;
  if (const char* from_env = std::getenv("FRAMEHOUSE_CONFIG")) options.values["--config"] = from_env;
  const std::string command = "admin " + args[1];
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (flags.count(args[i])) {
      options.flags.insert(args[i]);
    } else if (with_value.count(args[i]) && i + 1 < args.size()) {
      options.values[args[i]] = args[i + 1];
      ++i;
    } else {
      options.error = "unknown option for " + command + ": " + args[i];
      return options;
    }
  }
  for (const auto& name : required) {
    if (!options.values.count(name)) {
      options.error = fmt::format("{} needs {}", command, fmt::join(required, ", "));
      return options;
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything the server and its plugins create — the database, keys, stored files, renders
  // in progress, exports — is readable by the server's own user only, whatever the shell's umask.
  ::umask(077);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "framehouse " << FRAMEHOUSE_VERSION << "\n";
    return 0;
  }
  if (args[0] == "serve") {
    std::string config;
    if (const char* from_env = std::getenv("FRAMEHOUSE_CONFIG")) config = from_env;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--config" && i + 1 < args.size()) {
        config = args[++i];
      } else if (args[i].rfind("--config=", 0) == 0) {
        config = args[i].substr(9);
      } else {
        return usage_error("unknown option for serve: " + args[i]);
      }
    }
    if (config.empty()) return usage_error("serve needs --config FILE");
    return framehouse::app::serve(config);
  }
  if (args[0] == "check-config") {
    if (args.size() != 2) return usage_error("check-config needs exactly one FILE");
    return framehouse::app::check_config(args[1]);
  }
  if (args[0] == "plugin") {
    if (args.size() == 3 && args[1] == "inspect") return framehouse::app::inspect_plugin(args[2]);
    if (args.size() >= 4 && args[1] == "new" && (args.size() == 4 || (args.size() == 6 && args[4] == "--dir"))) {
      return framehouse::app::new_plugin(args[2], args[3], args.size() == 6 ? args[5] : args[3]);
    }
    return usage_error("use: plugin inspect FILE, or plugin new KIND NAME [--dir DIR]");
  }
  if (args[0] == "audit") {
    if (args.size() != 4 || args[1] != "verify" || args[2] != "--config") return usage_error("use: audit verify --config FILE");
    return framehouse::app::audit_verify(args[3]);
  }
  if (args[0] == "admin") {
    const std::string sub = args.size() >= 2 ? args[1] : "";
    // `admin --help`, `admin <sub> --help`: the usage, and success.
    if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
      for (const auto& [name, text] : kAdminCommands) {
        if (name == sub) {
          std::cout << "usage:\n" << text;
          return 0;
        }
      }
      std::cout << "usage:\n" << admin_usage();
      return 0;
    }
    if (sub == "grant") {
      auto options = admin_options(args, {"--config", "--email", "--plan", "--periods"}, {},
                                   {"--config", "--email", "--plan"});
      if (!options.error.empty()) return usage_error(options.error);
      int periods = 1;
      if (options.values.count("--periods")) {
        try {
          periods = std::stoi(options.values["--periods"]);
        } catch (const std::exception&) {
          return usage_error("--periods takes a whole number");
        }
      }
      return framehouse::app::grant_plan(options.values["--config"], options.values["--email"],
                                         options.values["--plan"], periods);
    }
    if (sub == "create-user") {
      auto options = admin_options(args, {"--config", "--email", "--name", "--role"}, {"--admin"},
                                   {"--config", "--email", "--name"});
      if (!options.error.empty()) return usage_error(options.error);
      if (options.flags.count("--admin") && options.values.count("--role")) return usage_error("give --role or --admin");
      std::string role = "user";
      if (options.flags.count("--admin")) {
        role = "admin";
      } else if (const auto given = options.values.find("--role"); given != options.values.end()) {
        role = given->second;
      }
      return framehouse::app::create_user(options.values["--config"], options.values["--name"], options.values["--email"],
                                          role, std::cin);
    }
    if (sub == "set-role") {
      auto options = admin_options(args, {"--config", "--email", "--role"}, {}, {"--config", "--email", "--role"});
      if (!options.error.empty()) return usage_error(options.error);
      return framehouse::app::set_role(options.values["--config"], options.values["--email"], options.values["--role"]);
    }
    // The commands that take an account's address and act on it.
    if (sub == "find") {
      auto options = admin_options(args, {"--config", "--query"}, {}, {"--config"});
      if (!options.error.empty()) return usage_error(options.error);
      return framehouse::app::find_users(options.values["--config"], options.values["--query"]);
    }
    if (sub == "revoke") {
      auto options = admin_options(args, {"--config", "--email", "--credential"}, {}, {"--config", "--email", "--credential"});
      if (!options.error.empty()) return usage_error(options.error);
      return framehouse::app::revoke_credential(options.values["--config"], options.values["--email"],
                                                options.values["--credential"]);
    }
    if (sub == "revoke-plan") {
      auto options = admin_options(args, {"--config", "--email", "--reason"}, {}, {"--config", "--email", "--reason"});
      if (!options.error.empty()) return usage_error(options.error);
      return framehouse::app::revoke_plan(options.values["--config"], options.values["--email"], options.values["--reason"]);
    }
    if (sub == "suspend") {
      auto options = admin_options(args, {"--config", "--email", "--reason"}, {}, {"--config", "--email", "--reason"});
      if (!options.error.empty()) return usage_error(options.error);
      return framehouse::app::suspend(options.values["--config"], options.values["--email"], options.values["--reason"]);
    }
    using AccountCommand = int (*)(const std::filesystem::path&, const std::string&);
    const std::pair<std::string_view, AccountCommand> by_address[] = {{"credentials", &framehouse::app::list_credentials},
                                                                      {"unsuspend", &framehouse::app::unsuspend},
                                                                      {"verify-email", &framehouse::app::verify_email},
                                                                      {"resend-verification", &framehouse::app::resend_verification},
                                                                      {"reset-two-factor", &framehouse::app::reset_two_factor}};
    for (const auto& [name, command] : by_address) {
      if (sub != name) continue;
      auto options = admin_options(args, {"--config", "--email"}, {}, {"--config", "--email"});
      if (!options.error.empty()) return usage_error(options.error);
      return command(options.values["--config"], options.values["--email"]);
    }
    std::string commands;
    for (const auto& [name, text] : kAdminCommands) commands += (commands.empty() ? "" : ", ") + std::string(name);
    return usage_error("use one of: admin " + commands);
  }
  return usage_error("unknown command: " + args[0]);
}
