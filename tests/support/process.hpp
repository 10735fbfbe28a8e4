// Test support: run the real framehouse binary (or any command) as a child process, read
// its output, signal it, and wait for it.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace framehouse::testing {

class ChildProcess {
 public:
  // `input` is written to the child's standard input, which is then closed.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
               const std::string& input = "");
  ~ChildProcess();  // kills the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stdout until a line containing `needle` arrives; returns that line, or "" on timeout/exit.
  std::string wait_for_stdout_line(const std::string& needle, std::chrono::milliseconds timeout);
  void signal(int signal_number);
  // Waits for exit; returns the exit code, or -1 on timeout (the child keeps running).
  int wait(std::chrono::milliseconds timeout);
  // Everything the child wrote to stderr so far (complete once it exited).
  std::string stderr_text();
  std::string stdout_text();
  int pid() const { return pid_; }

 private:
  void drain_stderr();
  int pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdout_buffer_;
  std::string stderr_buffer_;
  bool exited_ = false;
  int exit_code_ = -1;
};

struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs a command to completion (with a generous timeout) and captures its output.
CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
                          const std::string& input = "");

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& contents);
std::string read_file(const std::filesystem::path& path);

}  // namespace framehouse::testing
