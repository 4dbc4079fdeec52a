#include "support/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace schemagate::testing {

namespace {

// Appends what the product printed to $SCHEMAGATE_TEST_OUTPUT_DIR (set by
// CTest), one file per test process, for the suite-wide secrets grep.
void RecordProductOutput(const std::string& command, const RunResult& r) {
  const char* dir = std::getenv("SCHEMAGATE_TEST_OUTPUT_DIR");
  if (dir == nullptr || *dir == '\0') return;
  const std::string path = std::string(dir) + "/outputs-" + std::to_string(getpid()) + ".log";
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return;
  std::fprintf(f, "### %s (exit %d)\n", command.c_str(), r.exit_code);
  std::fwrite(r.out.data(), 1, r.out.size(), f);
  std::fwrite(r.err.data(), 1, r.err.size(), f);
  std::fputc('\n', f);
  std::fclose(f);
}

// True for the binary under test (not psql, helm or the test tools).
bool IsProduct(const std::vector<std::string>& argv) {
  const char* bin = std::getenv("SCHEMAGATE_BIN");
  return bin != nullptr && !argv.empty() && argv[0] == bin;
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const RunOptions& options)
    : stdin_data_(options.stdin_data), timeout_(options.timeout),
      product_(!options.product_command.empty() || IsProduct(argv)),
      command_(!options.product_command.empty() ? options.product_command : argv.size() > 1 ? argv[1] : "") {
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  // Build argv and envp before fork: only async-signal-safe calls after it.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) {
    if (v == kUnset) env.erase(k);
    else env[k] = v;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    execvpe(args[0], args.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(in[0]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  in_fd_ = in[1];
}

Child::~Child() {
  if (!waited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

void Child::Kill(int signal) {
  if (pid_ > 0 && !waited_) kill(pid_, signal);
}

RunResult Child::Wait() {
  RunResult result;
  if (waited_) return result;
  waited_ = true;
  // Feed stdin, then close it.
  size_t written = 0;
  signal(SIGPIPE, SIG_IGN);
  while (written < stdin_data_.size()) {
    ssize_t n = write(in_fd_, stdin_data_.data() + written, stdin_data_.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(in_fd_);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      break;
    }
    int r = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  if (product_) RecordProductOutput("schemagate " + command_, result);
  return result;
}

RunResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options) {
  Child child(argv, options);
  return child.Wait();
}

int FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string SchemagateBinary() {
  const char* bin = std::getenv("SCHEMAGATE_BIN");
  if (bin == nullptr) throw std::runtime_error("SCHEMAGATE_BIN is not set (run the tests through ctest)");
  return bin;
}

std::string SourceDir() {
  const char* dir = std::getenv("SCHEMAGATE_SOURCE_DIR");
  if (dir == nullptr) throw std::runtime_error("SCHEMAGATE_SOURCE_DIR is not set (run the tests through ctest)");
  return dir;
}

}  // namespace schemagate::testing
