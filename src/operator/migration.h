// The Migration resource (design.md §8): its spec as a struct, the runner
// Job built from it, and the status conditions kstatus, Flux and Argo CD read.
#ifndef SCHEMAGATE_OPERATOR_MIGRATION_H_
#define SCHEMAGATE_OPERATOR_MIGRATION_H_

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"
#include "kube/client.h"

namespace schemagate::op {

using kube::Json;

// Condition reasons, named once.
namespace reason {
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kRunStarted = "RunStarted";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kRunFailed = "RunFailed";
inline constexpr const char* kRetryScheduled = "RetryScheduled";
inline constexpr const char* kBackoffLimitExceeded = "BackoffLimitExceeded";
inline constexpr const char* kValidationFailed = "ValidationFailed";
inline constexpr const char* kInvalidSpec = "InvalidSpec";
inline constexpr const char* kSuspended = "Suspended";
inline constexpr const char* kWaitingForSlot = "WaitingForRunSlot";
inline constexpr const char* kSourceNotFound = "SourceNotFound";
inline constexpr const char* kDatabaseAhead = "DatabaseAhead";
}  // namespace reason

// The CRD's maxLength for lastError.message and our cap for condition and
// Event messages, in characters (TruncateUtf8 cuts on character boundaries).
inline constexpr size_t kMessageLimit = 1024;

struct MigrationSpec {
  std::string secret_name, secret_key;
  std::vector<std::string> config_maps;  // source.configMapRefs[].name
  std::string target = "head";
  std::string environment;
  bool allow_downgrade = false;
  std::string image;
  std::string image_pull_policy;
  std::string service_account;
  Json resources, node_selector, tolerations, extra_env;
  int64_t active_deadline_seconds = 600;
  int64_t ttl_seconds_after_finished = 3600;
  int64_t lock_timeout_seconds = 300;
  std::string statement_timeout, lock_timeout;
  int backoff_limit = 5;
  std::chrono::seconds initial_delay{10};
  std::chrono::seconds max_delay{300};
  bool suspend = false;
};

// Parses and validates; kValidation with a message naming the field.
Result<MigrationSpec> ParseMigrationSpec(const Json& migration, const std::string& default_image);

// `<name>-<hash8>` over the uid, generation, source hash (ConfigMap sources,
// see source.h) and attempt: deterministic, so a restarted operator finds the
// Job it created instead of making another, and an edited ConfigMap is a new
// Job.
std::string JobNameFor(const Json& migration, int attempt, const std::string& source_hash = "");

// A Job's outcome: "Complete", "Failed" or "" (still running).
std::string JobOutcome(const Json& job);

// The runner Job: the runner as init container (`schemagate upgrade TARGET
// --report /dev/termination-log`), a main container reporting the resulting
// revision, the URL only as a secretKeyRef, owned by the Migration.
Json BuildRunnerJob(const Json& migration, const MigrationSpec& spec, const std::string& job_name);

// Sets condition `type` in `status.conditions` (lastTransitionTime changes
// only when the status flips). Returns true when anything changed.
bool SetCondition(Json& status, const std::string& type, const std::string& value, const std::string& reason,
                  const std::string& message, int64_t generation, const std::string& now);
std::string ConditionStatus(const Json& status, const std::string& type);
std::string ConditionReason(const Json& status, const std::string& type);

std::string NowRfc3339();

// What one container of a runner pod left when it ended. The runner writes
// its JSON report (`--report /dev/termination-log`) as the termination message.
struct Termination {
  bool found = false;
  int exit_code = -1;
  Json report;  // parsed JSON termination message (null if none)
  std::string raw;
};

// Reads the first container of `pod.status.<statuses>` ("initContainerStatuses"
// or "containerStatuses"). A message that is not JSON leaves `report` null and
// is kept in `raw`: the pod's data is untrusted and never throws out of here.
Termination ReadTermination(const Json& pod, const char* statuses);

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_MIGRATION_H_
