#include "core/status.h"

namespace schemagate {

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk: return 0;
    case Code::kRuntime: return 1;
    case Code::kUsage: return 2;
    case Code::kLockTimeout: return 3;
    case Code::kValidation: return 4;
    case Code::kNotAtTarget: return 5;
  }
  return 1;
}

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kRuntime: return "runtime_error";
    case Code::kUsage: return "usage_error";
    case Code::kLockTimeout: return "lock_timeout";
    case Code::kValidation: return "validation_failed";
    case Code::kNotAtTarget: return "not_at_target";
  }
  return "runtime_error";
}

Status Status::Prefixed(const std::string& prefix) const {
  Status copy = *this;
  copy.message_ = prefix + ": " + message_;
  return copy;
}

}  // namespace schemagate
