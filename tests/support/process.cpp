#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace framehouse::testing {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Appends whatever is readable now; returns false at end of file.
bool read_available(int fd, std::string& buffer) {
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EINTR;
  }
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                           const std::string& input) {
  int in_pipe[2];
  int out_pipe[2];
  // stderr goes to an in-memory file, not a pipe: a chatty server must never block on a log
  // line because the test is not reading at that moment.
  const int err_file = ::memfd_create("child-stderr", MFD_CLOEXEC);
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0 || err_file < 0) throw std::runtime_error("pipe failed");
  // extra_env replaces a variable of the same name (a program reads the first one it finds).
  std::vector<std::string> env_strings;
  const auto overridden = [&](std::string_view entry) {
    const auto name = entry.substr(0, entry.find('=') + 1);
    return std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& e) { return e.rfind(name, 0) == 0; });
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env_strings.emplace_back(*e);
  }
  for (const auto& e : extra_env) env_strings.push_back(e);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in_pipe[0], 0);
    ::close(in_pipe[1]);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_file, 2);
    ::close(out_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    ::execve(args[0], args.data(), env.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  // Small inputs only (a password): they fit in the pipe buffer, so this cannot block.
  if (!input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
  ::close(in_pipe[1]);
  ::close(out_pipe[1]);
  stdout_fd_ = out_pipe[0];
  stderr_fd_ = err_file;
  set_nonblocking(stdout_fd_);
}

ChildProcess::~ChildProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

void ChildProcess::drain_stderr() {
  // pread: the child shares the file offset, which its writes advance.
  char chunk[8192];
  for (;;) {
    const ssize_t n = ::pread(stderr_fd_, chunk, sizeof chunk, static_cast<off_t>(stderr_buffer_.size()));
    if (n <= 0) return;
    stderr_buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string ChildProcess::wait_for_stdout_line(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t line_start = 0;
    for (std::size_t newline; (newline = stdout_buffer_.find('\n', line_start)) != std::string::npos;
         line_start = newline + 1) {
      std::string line = stdout_buffer_.substr(line_start, newline - line_start);
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd fds[1] = {{stdout_fd_, POLLIN, 0}};
    ::poll(fds, 1, static_cast<int>(std::min<long>(left.count(), 100)));
    drain_stderr();
    if (!read_available(stdout_fd_, stdout_buffer_) && stdout_buffer_.find(needle) == std::string::npos) {
      if (wait(std::chrono::milliseconds(0)) != -1) return "";
    }
  }
}

void ChildProcess::signal(int signal_number) {
  if (!exited_) ::kill(pid_, signal_number);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exited_) {
    drain_stderr();
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    ::usleep(10'000);
  }
  drain_stderr();
  return exit_code_;
}

std::string ChildProcess::stderr_text() {
  drain_stderr();
  return stderr_buffer_;
}

std::string ChildProcess::stdout_text() {
  read_available(stdout_fd_, stdout_buffer_);
  return stdout_buffer_;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                          const std::string& input) {
  ChildProcess child(argv, extra_env, input);
  int code = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (code == -1 && std::chrono::steady_clock::now() < deadline) {
    child.stdout_text();  // keeps the pipe from filling up
    code = child.wait(std::chrono::milliseconds(20));
  }
  return CommandResult{code, child.stdout_text(), child.stderr_text()};
}

TempDir::TempDir() {
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() / ("framehouse-test-" + std::to_string(random()) + std::to_string(::getpid()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& path, const std::string& contents) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << contents;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace framehouse::testing
