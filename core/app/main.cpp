// framehouse: the server binary and its administrative subcommands.
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: framehouse <command> [options]

commands:
  serve --config FILE        run the server (FILE defaults to $FRAMEHOUSE_CONFIG)
  check-config FILE          validate a configuration file and its plugins' sections, start nothing
  plugin inspect FILE        print a plugin's manifest and whether this server can load it
  admin create-user --config FILE --email EMAIL --name NAME [--admin]
                             create a verified account (the first admin); the password is read
                             from the first line of standard input
  admin grant --config FILE --email EMAIL --plan PLAN [--periods N]
                             grant a plan, or extend it by N paid periods (payment arranged
                             outside the app)
  audit verify --config FILE walk the audit log's hash chain; name any edited, removed or
                             reordered entry (exit 1)
  --help                     show this text
  --version                  print the version

exit codes: 0 success, 1 failure, 2 invalid usage or configuration
)";

int usage_error(std::string_view message) {
  std::cerr << "framehouse: " << message << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
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
    if (args.size() != 3 || args[1] != "inspect") return usage_error("use: plugin inspect FILE");
    return framehouse::app::inspect_plugin(args[2]);
  }
  if (args[0] == "audit") {
    if (args.size() != 4 || args[1] != "verify" || args[2] != "--config") return usage_error("use: audit verify --config FILE");
    return framehouse::app::audit_verify(args[3]);
  }
  if (args[0] == "admin" && args.size() >= 2 && args[1] == "grant") {
    std::string config, email, plan;
    if (const char* from_env = std::getenv("FRAMEHOUSE_CONFIG")) config = from_env;
    int periods = 1;
    for (std::size_t i = 2; i < args.size(); ++i) {
      const bool has_value = i + 1 < args.size();
      if (args[i] == "--config" && has_value) {
        config = args[++i];
      } else if (args[i] == "--email" && has_value) {
        email = args[++i];
      } else if (args[i] == "--plan" && has_value) {
        plan = args[++i];
      } else if (args[i] == "--periods" && has_value) {
        try {
          periods = std::stoi(args[++i]);
        } catch (const std::exception&) {
          return usage_error("--periods takes a whole number");
        }
      } else {
        return usage_error("unknown option for admin grant: " + args[i]);
      }
    }
    if (config.empty() || email.empty() || plan.empty()) return usage_error("admin grant needs --config, --email and --plan");
    return framehouse::app::grant_plan(config, email, plan, periods);
  }
  if (args[0] == "admin") {
    if (args.size() < 2 || args[1] != "create-user") return usage_error("use: admin create-user ... or admin grant ...");
    std::string config, email, name;
    if (const char* from_env = std::getenv("FRAMEHOUSE_CONFIG")) config = from_env;
    bool admin = false;
    for (std::size_t i = 2; i < args.size(); ++i) {
      const bool has_value = i + 1 < args.size();
      if (args[i] == "--admin") {
        admin = true;
      } else if (args[i] == "--config" && has_value) {
        config = args[++i];
      } else if (args[i] == "--email" && has_value) {
        email = args[++i];
      } else if (args[i] == "--name" && has_value) {
        name = args[++i];
      } else {
        return usage_error("unknown option for admin create-user: " + args[i]);
      }
    }
    if (config.empty() || email.empty() || name.empty()) {
      return usage_error("admin create-user needs --config, --email and --name");
    }
    return framehouse::app::create_user(config, name, email, admin, std::cin);
  }
  return usage_error("unknown command: " + args[0]);
}
