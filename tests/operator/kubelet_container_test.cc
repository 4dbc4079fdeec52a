// The kubelet simulator's container mode (SCHEMAGATE_KUBELET_IMAGE, see
// kubelet_sim.h): a pod spec's command, args, env from a Secret, user and
// group, read-only root filesystem, ConfigMap volume and termination message
// path all reach the container run from the image. Skipped in process mode.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "operator/operator_fixture.h"

namespace schemagate::testing {
namespace {

// Creates Job `name` in `ns` with `pod_spec` and returns its pod once the
// Job has finished.
Json RunJob(kube::Client& client, FakeApiServer& api, const std::string& ns, const std::string& name,
            const std::string& pod_spec) {
  Json job = Json::object();
  job["apiVersion"] = Json::string("batch/v1");
  job["kind"] = Json::string("Job");
  job["metadata"]["name"] = Json::string(name);
  job["spec"]["backoffLimit"] = Json::number(0);
  job["spec"]["template"]["spec"] = Json::parse(pod_spec);
  kube::ApiResponse r = client.Create(kube::ResourcePath("batch", "v1", "jobs", ns), job);
  EXPECT_TRUE(r.ok()) << r.Describe();
  for (int i = 0; i < 600; ++i) {
    if (kube::GetField(api.Object("jobs", ns, name), {"status", "conditions"}) != nullptr) {
      for (const Json& pod : api.Objects("pods", ns)) {
        if (kube::GetString(pod, {"metadata", "labels", "job-name"}) == name) return pod;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "Job " << ns << "/" << name << " did not finish";
  return Json();
}

std::string Terminated(const Json& pod, const char* field) {
  const Json* statuses = kube::GetField(pod, {"status", "containerStatuses"});
  if (statuses == nullptr || !statuses->is_array() || statuses->size() == 0) return "";
  const Json* v = kube::GetField(statuses->at(0), {"state", "terminated", field});
  if (v == nullptr) return "";
  return v->is_string() ? v->as_string() : v->serialize();
}

TEST_F(OperatorTest, ContainerModeRunsThePodFromTheImageAsItsSpecSays) {
  if (std::getenv("SCHEMAGATE_KUBELET_IMAGE") == nullptr) {
    GTEST_SKIP() << "container mode only: set SCHEMAGATE_KUBELET_IMAGE to a built image";
  }
  StartKubelet(SourceDir() + "/migrations");
  CreateSecret("kc", "probe", "value-from-the-secret");
  Json cm = Json::object();
  cm["metadata"]["name"] = Json::string("probe-config");
  cm["data"]["greeting"] = Json::string("hello from the ConfigMap");
  ASSERT_TRUE(client_->Create(kube::ResourcePath("", "v1", "configmaps", "kc"), cm).ok());

  // Each line of the termination message is one fact seen inside.
  Json pod = RunJob(*client_, *api_, "kc", "probe", R"({
    "restartPolicy": "Never",
    "securityContext": {"runAsUser": 1234},
    "volumes": [{"name": "cfg", "configMap": {"name": "probe-config"}}],
    "containers": [{
      "name": "probe", "image": "ghcr.io/schemagate/schemagate:0.1.0",
      "command": ["/bin/sh", "-c"],
      "args": ["{ id -u; id -g; cat /etc/probe/greeting; echo; echo \"$FROM_SECRET\"; if touch /probe 2>/dev/null; then echo writable; else echo read-only; fi; test -f /migrations/versions/0001_initial_schema.sql && echo bundled; } > /var/run/probe/message"],
      "env": [{"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "probe", "key": "url"}}}],
      "securityContext": {"runAsGroup": 4321, "readOnlyRootFilesystem": true},
      "volumeMounts": [{"name": "cfg", "mountPath": "/etc/probe"}],
      "terminationMessagePath": "/var/run/probe/message"
    }]})");
  EXPECT_EQ(Terminated(pod, "exitCode"), "0");
  EXPECT_EQ(Terminated(pod, "message"),
            "1234\n4321\nhello from the ConfigMap\nvalue-from-the-secret\nread-only\nbundled\n");

  // runAsNonRoot with user 0: the kubelet refuses to start it.
  pod = RunJob(*client_, *api_, "kc", "as-root", R"({
    "restartPolicy": "Never",
    "containers": [{
      "name": "root", "image": "ghcr.io/schemagate/schemagate:0.1.0", "args": ["--help"],
      "securityContext": {"runAsUser": 0, "runAsNonRoot": true}
    }]})");
  EXPECT_NE(Terminated(pod, "exitCode"), "0");
  EXPECT_NE(Terminated(pod, "message").find("runAsNonRoot"), std::string::npos) << pod.serialize();
  EXPECT_EQ(kube::GetString(pod, {"status", "phase"}), "Failed");
}

}  // namespace
}  // namespace schemagate::testing
