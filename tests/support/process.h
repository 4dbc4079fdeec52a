// Running real processes from tests: the schemagate binary, psql, alembic.
#ifndef SCHEMAGATE_TESTS_SUPPORT_PROCESS_H_
#define SCHEMAGATE_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace schemagate::testing {

// An env value that removes the variable from the child's environment.
inline constexpr const char* kUnset = "\x01unset";

struct RunOptions {
  std::string cwd;                          // "" = inherit
  std::map<std::string, std::string> env;   // overrides; kUnset removes
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Set when the product runs inside (a container of the image), naming its
  // command: the output is then recorded like the binary under test's.
  std::string product_command;
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N; -1 when it could not start
  std::string out;
  std::string err;
  bool timed_out = false;
};

// A child process with its stdout and stderr captured.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const RunOptions& options);
  ~Child();  // kills the child if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Kill(int signal);
  // Reads output until the child exits (or the timeout passes: SIGKILL).
  RunResult Wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int in_fd_ = -1;
  std::string stdin_data_;
  std::chrono::milliseconds timeout_;
  bool product_ = false;  // the schemagate binary: its output is recorded
  std::string command_;
  bool waited_ = false;
};

// Runs to completion.
RunResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options = {});

// A TCP port on 127.0.0.1 that nothing listens on right now.
int FreeTcpPort();

// The binary under test (SCHEMAGATE_BIN, set by CTest) and the source tree.
std::string SchemagateBinary();
std::string SourceDir();

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_SUPPORT_PROCESS_H_
