#include "tests/fakes/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace presence::testing {
namespace {

std::string TempStderrPath() {
  char path[] = "/tmp/presence-stderr-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  return path;
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv) : stderr_path_(TempStderrPath()) {
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  // Built before fork: the child of a threaded process may only call async-signal-safe code.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_TRUNC);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  signal(SIGPIPE, SIG_IGN);  // a child that died must fail the test, not kill it
}

Subprocess::~Subprocess() {
  if (!status_) {
    Kill(SIGKILL);
    Wait();
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
  unlink(stderr_path_.c_str());
}

void Subprocess::Write(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(stdin_fd_, text.data() + done, text.size() - done);
    if (n <= 0) throw std::runtime_error("write to child failed: " + std::string(strerror(errno)));
    done += static_cast<size_t>(n);
  }
}

void Subprocess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

std::optional<std::string> Subprocess::ReadLine() {
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (buffer_.empty()) return std::nullopt;
      std::string rest = std::move(buffer_);
      buffer_.clear();
      return rest;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::string Subprocess::ReadAll() {
  std::string all;
  while (std::optional<std::string> line = ReadLine()) all += *line + "\n";
  return all;
}

void Subprocess::Kill(int signal) {
  if (!status_) kill(pid_, signal);
}

int Subprocess::Wait() {
  if (!status_) {
    int raw = 0;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  }
  return *status_;
}

std::string Subprocess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult RunCommand(const std::vector<std::string>& argv, const std::string& input) {
  Subprocess process(argv);
  if (!input.empty()) process.Write(input);
  process.CloseStdin();
  RunResult result;
  result.out = process.ReadAll();
  result.exit_code = process.Wait();
  result.err = process.Stderr();
  return result;
}

}  // namespace presence::testing
