// The runner's JSON report as the operator reads it: the termination message
// of a runner pod's containers (kubelet caps it at 4 KiB), through
// ReadTermination and the fields the reconciler takes from the report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "kube/client.h"
#include "operator/migration.h"

namespace schemagate::op {
namespace {

Json PodWithMessage(const std::string& message) {
  Json terminated = Json::object();
  terminated["exitCode"] = Json::number(4);
  terminated["reason"] = Json::string("Error");
  terminated["message"] = Json::string(message);
  Json container = Json::object();
  container["name"] = Json::string("migrate");
  container["state"]["terminated"] = terminated;
  Json pod = Json::object();
  pod["status"]["initContainerStatuses"] = Json::array({container});
  pod["status"]["containerStatuses"] = Json::array({container});
  return pod;
}

// The reads Reconciler::Step makes of a report.
void ReadReport(const Json& report) {
  for (const char* list : {"to_heads", "applied"}) {
    const Json* heads = kube::GetField(report, {list});
    if (heads == nullptr || !heads->is_array()) continue;
    for (const Json& v : heads->as_array()) {
      if (v.is_string()) (void)v.as_string();
    }
  }
  (void)kube::GetString(report, {"error", "message"});
  (void)kube::GetString(report, {"error", "revision"});
  (void)kube::GetString(report, {"error", "sqlState"});
}

}  // namespace
}  // namespace schemagate::op

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate::op;
  const std::string message(reinterpret_cast<const char*>(data), size);
  const Json pod = PodWithMessage(message);

  for (const char* statuses : {"initContainerStatuses", "containerStatuses"}) {
    const Termination t = ReadTermination(pod, statuses);
    FUZZ_CHECK(t.found && t.exit_code == 4 && t.raw == message);
    if (message.empty()) FUZZ_CHECK(t.report.is_null());
    ReadReport(t.report);
  }
  return 0;
}
