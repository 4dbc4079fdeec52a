// End-to-end fixture: the test API server, the kubelet simulator, a real
// PostgreSQL and the real `schemagate operator` process.
#ifndef SCHEMAGATE_TESTS_OPERATOR_OPERATOR_FIXTURE_H_
#define SCHEMAGATE_TESTS_OPERATOR_OPERATOR_FIXTURE_H_

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kube/client.h"
#include "operator/fake_apiserver.h"
#include "operator/kubelet_sim.h"
#include "support/pg_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {

using kube::Json;

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts (another) operator process; extra flags appended.
  std::unique_ptr<Child> StartOperator(std::vector<std::string> extra = {});
  // The kubelet simulator, running `migrations_dir` as the image's /migrations.
  void StartKubelet(const std::string& migrations_dir);
  // The same, with each image (by its full reference) bundling its own
  // /migrations: tags of one image as successive releases.
  void StartKubeletWithImages(const std::map<std::string, std::string>& migrations_by_image);
  // Real kubectl against the test API server; `stdin_data` for `-f -`.
  RunResult Kubectl(const std::vector<std::string>& args, const std::string& stdin_data = "");

  // Creates namespace `ns` unless it exists (objects in a missing namespace
  // are refused with 404, as by a real server).
  void CreateNamespace(const std::string& ns);
  // The chart's RBAC as `helm template` renders it for release "schemagate"
  // in schemagate-system (`helm_args` added), applied to the test API server.
  void ApplyChartRbac(const std::vector<std::string>& helm_args = {});
  // Creates a Secret holding `url` (and its namespace if needed) and a Migration using it.
  void CreateSecret(const std::string& ns, const std::string& name, const std::string& url);
  Json CreateMigration(const std::string& ns, const std::string& name, const std::string& spec_json);
  kube::ApiResponse PatchMigration(const std::string& ns, const std::string& name, const std::string& patch_json);
  Json Migration(const std::string& ns, const std::string& name);
  // Waits until `pred(migration)` holds; fails the test after `timeout`.
  Json WaitFor(const std::string& ns, const std::string& name, const std::function<bool(const Json&)>& pred,
               std::chrono::seconds timeout = std::chrono::seconds(60), const std::string& what = "condition");
  static std::string Condition(const Json& m, const std::string& type, const char* field = "status");
  std::vector<std::string> EventReasons(const std::string& ns, const std::string& name);

  std::unique_ptr<FakeApiServer> api_;
  std::unique_ptr<KubeletSimulator> kubelet_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<TempDir> tmp_;
  std::string kubeconfig_;           // an administrator's (kubectl, test clients)
  std::string operator_kubeconfig_;  // ServiceAccount schemagate-system/schemagate, RBAC enforced
  std::unique_ptr<Child> operator_;
};

// A copy of the bundled migrations plus `extra` files (name -> content).
std::string MigrationsWith(const TempDir& dir, const std::map<std::string, std::string>& extra);
// The bundled migrations plus 0006, which sleeps three seconds: a run slow
// enough to act on (kill the operator, delete the Job) while it runs.
std::string MigrationsWithSlowRun(const TempDir& dir);

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_OPERATOR_FIXTURE_H_
