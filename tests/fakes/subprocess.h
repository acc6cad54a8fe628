#pragma once

// Runs the real presence-agent binary (or any program) for end-to-end tests: writes to its
// standard input, reads its standard output line by line, signals it, and collects its exit.

#include <optional>
#include <string>
#include <vector>

namespace presence::testing {

class Subprocess {
 public:
  // Starts argv[0] with the given arguments; stderr goes to a file readable via Stderr().
  explicit Subprocess(const std::vector<std::string>& argv);
  ~Subprocess();  // kills the process if it still runs
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void Write(const std::string& text);
  void CloseStdin();
  // The next line of standard output (without the newline); nullopt at end of output.
  // Blocks until the line arrives: the child answers or exits, there is nothing to poll.
  std::optional<std::string> ReadLine();
  // Everything left on standard output until the child closes it.
  std::string ReadAll();
  void Kill(int signal);
  // Waits for the exit; returns the exit code, or 128 + signal number when killed.
  int Wait();
  std::string Stderr() const;
  const std::string& stderr_path() const { return stderr_path_; }  // the file Stderr() reads
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::string stderr_path_;
  std::optional<int> status_;
};

// Runs a command to completion: exit code, standard output and standard error.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace presence::testing
