// Status and Result<T>: expected failures as values.
//
// Every fallible function in schemagate returns a Status or a Result<T>.
// Exceptions from libraries stop at the adapter that called the library and
// become a Status there; only main() turns a Status into a process exit code.
#ifndef SCHEMAGATE_CORE_STATUS_H_
#define SCHEMAGATE_CORE_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace schemagate {

// The category of a failure. Each maps to one documented exit code
// (design.md §6), see ExitCodeFor().
enum class Code {
  kOk = 0,
  kRuntime,      // exit 1: SQL error, connection failure, I/O error
  kUsage,        // exit 2: bad flags or configuration
  kLockTimeout,  // exit 3: the migration lock was not obtained in time
  kValidation,   // exit 4: malformed file, checksum drift, bad graph, unknown revision
  kNotAtTarget,  // exit 5: `check --head` / `wait` found the database behind
};

int ExitCodeFor(Code code);
const char* CodeName(Code code);

// Where a database error happened; filled by the db layer, read by reports.
struct ErrorLocation {
  std::string revision;   // the migration being applied, if any
  std::string file;       // the migration file
  int line = 0;           // 1-based line of the failing statement in `file`
  std::string sqlstate;   // the server's SQLSTATE, if the server answered
  std::string statement;  // the failing statement (trimmed), if any
};

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Runtime(std::string msg) { return Status(Code::kRuntime, std::move(msg)); }
  static Status Usage(std::string msg) { return Status(Code::kUsage, std::move(msg)); }
  static Status LockTimeout(std::string msg) { return Status(Code::kLockTimeout, std::move(msg)); }
  static Status Validation(std::string msg) { return Status(Code::kValidation, std::move(msg)); }
  static Status NotAtTarget(std::string msg) { return Status(Code::kNotAtTarget, std::move(msg)); }

  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  int exit_code() const { return ExitCodeFor(code_); }

  const ErrorLocation& location() const { return location_; }
  Status& set_location(ErrorLocation location) {
    location_ = std::move(location);
    return *this;
  }

  // Returns a copy whose message is "<prefix>: <message>".
  Status Prefixed(const std::string& prefix) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  ErrorLocation location_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace schemagate

#define SG_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::schemagate::Status sg_status_ = (expr); \
    if (!sg_status_.ok()) return sg_status_;  \
  } while (0)

#endif  // SCHEMAGATE_CORE_STATUS_H_
