#include "support/running_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

namespace framehouse::testing {

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string listening_on(std::string config, std::uint16_t port) {
  const std::string any_port = "listen = \"127.0.0.1:0\"";
  config.replace(config.find(any_port), any_port.size(), "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
  return config;
}

std::string server_config(const std::filesystem::path& dir, const std::string& extra, const std::string& database_url,
                          const std::string& accounts_extra) {
  const std::string url = database_url.empty() ? "sqlite:" + (dir / "var" / "framehouse.db").string() : database_url;
  return "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 2\ndata_dir = \"" + (dir / "var").string() +
         "\"\nmax_body_bytes = 4096\nmax_header_bytes = 2048\nshutdown_grace_ms = 5000\n" + extra +
         "[log]\nformat = \"json\"\n"
         // One pooled connection: code that asks for a second session while holding one
         // deadlocks here at once instead of under load in production.
         "[database]\npool_size = 1\nurl = \"" + url + "\"\n"
         "[accounts]\npassword_ops_limit = 1\npassword_mem_limit_kib = 8\n" + accounts_extra +
         "[plugins]\ndirectory = \"" FRAMEHOUSE_PLUGIN_DIR "\"\n"
         "[plugins.storage_fs]\nfsync = false\n[plugins.email_outbox]\n[plugins.gen_procedural]\npreset = \"ultrafast\"\n"
         "[plugins.payment_manual]\n"
         "[generation]\nplugin = \"gen_procedural\"\n"
         "[billing]\nplugin = \"payment_manual\"\n"
         // Roomy plans, so that tests meet limits only where they look for them.
         "[plans.free]\nmax_seconds = 20\nmax_side = 1920\nvideos_per_day = 1000\nconcurrent_jobs = 64\n"
         "watermark = false\n"
         "[plans.premium]\nmax_seconds = 20\nmax_side = 1920\nvideos_per_day = 1000\nconcurrent_jobs = 64\n"
         "watermark = false\nretention_days = 30\n";
}

RunningServer::RunningServer(const std::string& config, const std::vector<std::string>& env) {
  write_file(config_file(), config);
  process = std::make_unique<ChildProcess>(
      std::vector<std::string>{FRAMEHOUSE_BINARY, "serve", "--config", config_file().string()}, env);
  const std::string line = process->wait_for_stdout_line("listening on", std::chrono::seconds(20));
  std::smatch match;
  if (std::regex_search(line, match, std::regex(":([0-9]+)$"))) port = static_cast<std::uint16_t>(std::stoi(match[1]));
}

}  // namespace framehouse::testing
