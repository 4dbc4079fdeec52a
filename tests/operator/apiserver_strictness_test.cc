// The test API server refuses, prunes, defaults and authorizes as
// kube-apiserver does where a user (or the operator) would notice, proven
// with real kubectl and with the operator under the chart's RBAC.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "operator/operator_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

std::string MigrationYaml(const std::string& ns, const std::string& name, const std::string& extra_spec = "") {
  return "apiVersion: schemagate.io/v1alpha1\nkind: Migration\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  database: {urlFrom: {secretKeyRef: {name: db, key: url}}}\n" + extra_spec;
}

TEST_F(OperatorTest, UndeclaredFieldsArePrunedOrRefusedByFieldValidation) {
  ASSERT_EQ(Kubectl({"create", "namespace", "strict"}).exit_code, 0);
  // kubectl's default (--validate=strict) sends fieldValidation=Strict: refused.
  RunResult strict = Kubectl({"apply", "-f", "-"}, MigrationYaml("strict", "m", "  bogus: 1\n"));
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_CONTAINS(strict.err, R"(strict decoding error: unknown field "spec.bogus")");
  // Warn: created, pruned, and kubectl shows the warning.
  RunResult warn = Kubectl({"apply", "--validate=warn", "-f", "-"}, MigrationYaml("strict", "m", "  bogus: 1\n"));
  ASSERT_EQ(warn.exit_code, 0) << warn.err;
  EXPECT_CONTAINS(warn.err, R"(Warning: unknown field "spec.bogus")");
  Json m = Migration("strict", "m");
  EXPECT_EQ(kube::GetField(m, {"spec", "bogus"}), nullptr) << m.serialize();
  // Schema defaults applied; preserved unknown fields kept.
  EXPECT_EQ(kube::GetString(m, {"spec", "targetRevision"}), "head");
  EXPECT_EQ(kube::GetString(m, {"spec", "downgradePolicy"}), "Forbid");
  RunResult ignore = Kubectl({"apply", "--validate=false", "-f", "-"},
                             MigrationYaml("strict", "r", "  runner: {resources: {limits: {cpu: 1}}, bogus: 2}\n"));
  ASSERT_EQ(ignore.exit_code, 0) << ignore.err;
  EXPECT_EQ(ignore.err.find("Warning"), std::string::npos) << ignore.err;
  Json r = Migration("strict", "r");
  EXPECT_NE(kube::GetField(r, {"spec", "runner", "resources", "limits", "cpu"}), nullptr) << r.serialize();
  EXPECT_EQ(kube::GetField(r, {"spec", "runner", "bogus"}), nullptr) << r.serialize();
  EXPECT_EQ(kube::GetInt(r, {"spec", "runner", "activeDeadlineSeconds"}), 600);
}

TEST_F(OperatorTest, InvalidValuesAre422WithEveryCauseAndKubectlPrintsThem) {
  CreateNamespace("strict");
  RunResult bad = Kubectl({"apply", "-f", "-"},
                          MigrationYaml("strict", "m",
                                        "  downgradePolicy: Sometimes\n  targetRevision: 'a b'\n"
                                        "  runner: {activeDeadlineSeconds: 0}\n  suspend: 'yes'\n"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_CONTAINS(bad.err, R"(The Migration "m" is invalid)");
  EXPECT_CONTAINS(bad.err, R"(spec.downgradePolicy: Unsupported value: "Sometimes": supported values: "Forbid", "Allow")");
  EXPECT_CONTAINS(bad.err, R"(spec.targetRevision: Invalid value: "a b": spec.targetRevision in body should match)");
  EXPECT_CONTAINS(bad.err, "spec.runner.activeDeadlineSeconds: Invalid value: 0: spec.runner.activeDeadlineSeconds in "
                           "body should be greater than or equal to 1");
  EXPECT_CONTAINS(bad.err, R"(spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string")");
  // The Status itself, as a client library reads it.
  Json obj = Json::parse(R"({"apiVersion":"schemagate.io/v1alpha1","kind":"Migration","metadata":{"name":"n"},)"
                         R"("spec":{"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},)"
                         R"("downgradePolicy":"Sometimes"}})");
  kube::ApiResponse r = client_->Create(kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", "strict"), obj);
  ASSERT_EQ(r.status, 422) << r.Describe();
  EXPECT_EQ(kube::GetString(r.body, {"reason"}), "Invalid");
  EXPECT_EQ(kube::GetString(r.body, {"message"}),
            R"(Migration.schemagate.io "n" is invalid: spec.downgradePolicy: Unsupported value: "Sometimes": )"
            R"(supported values: "Forbid", "Allow")");
  EXPECT_EQ(kube::GetString(r.body, {"details", "kind"}), "Migration");
  EXPECT_EQ(kube::GetString(r.body, {"details", "group"}), "schemagate.io");
  const Json& cause = r.body.at("details").at("causes").at(0);
  EXPECT_EQ(kube::GetString(cause, {"reason"}), "FieldValueNotSupported");
  EXPECT_EQ(kube::GetString(cause, {"field"}), "spec.downgradePolicy");
}

TEST_F(OperatorTest, StatusWritesAreValidatedWithLengthsInCharacters) {
  CreateSecret("strict", "db", "postgresql://unused");
  CreateMigration("strict", "m", R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}}})");
  const std::string path = kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", "strict", "m") + "/status";
  auto write = [&](const std::string& message, const std::string& condition_status) {
    Json m = Migration("strict", "m");
    m["status"]["lastError"]["message"] = Json::string(message);
    Json c = Json::object();
    c["type"] = Json::string("Ready");
    c["status"] = Json::string(condition_status);
    c["lastTransitionTime"] = Json::string("2025-01-02T03:04:05Z");
    m["status"]["conditions"] = Json::array({c});
    return client_->Replace(path, m);
  };
  std::string euros;
  for (int i = 0; i < 1024; ++i) euros += "\xe2\x82\xac";  // 1,024 characters, 3,072 bytes
  kube::ApiResponse ok = write(euros, "False");
  EXPECT_TRUE(ok.ok()) << ok.Describe();
  kube::ApiResponse too_long = write(euros + "x", "False");
  ASSERT_EQ(too_long.status, 422) << too_long.Describe();
  EXPECT_EQ(kube::GetString(too_long.body.at("details").at("causes").at(0), {"reason"}), "FieldValueTooLong");
  EXPECT_EQ(kube::GetString(too_long.body.at("details").at("causes").at(0), {"field"}), "status.lastError.message");
  kube::ApiResponse bad_enum = write("x", "Maybe");
  ASSERT_EQ(bad_enum.status, 422) << bad_enum.Describe();
  EXPECT_EQ(kube::GetString(bad_enum.body.at("details").at("causes").at(0), {"field"}), "status.conditions[0].status");
}

TEST_F(OperatorTest, ObjectsInAMissingNamespaceAreNotFound) {
  RunResult r = Kubectl({"apply", "-f", "-"}, MigrationYaml("nowhere", "m"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_CONTAINS(r.err, R"(Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found)");
  EXPECT_TRUE(Migration("nowhere", "m").is_null());
  // Deleting a namespace deletes what is in it.
  CreateSecret("gone", "db", "postgresql://unused");
  ASSERT_EQ(Kubectl({"delete", "namespace", "gone"}).exit_code, 0);
  EXPECT_TRUE(api_->Objects("secrets", "gone").empty());
}

TEST_F(OperatorTest, KubectlExplainGetAndCreateWorkAsOnACluster) {
  RunResult explain = Kubectl({"explain", "mig.spec"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_CONTAINS(explain.out, "KIND:       Migration");
  EXPECT_CONTAINS(explain.out, "head, heads, a revision id, a LABEL@head, REV+N or REV-N.");
  RunResult status = Kubectl({"explain", "migration.status.lastError.message"});
  EXPECT_CONTAINS(status.out, "cut to 1024 characters");

  ASSERT_EQ(Kubectl({"create", "namespace", "demo"}).exit_code, 0);
  WriteFile(tmp_->path() + "/0001_a.sql", "-- revision: 0001\nSELECT 1;\n");
  RunResult cm = Kubectl({"create", "configmap", "files", "-n", "demo", "--from-file=" + tmp_->path() + "/0001_a.sql"});
  ASSERT_EQ(cm.exit_code, 0) << cm.err;
  EXPECT_EQ(kube::GetString(api_->Object("configmaps", "demo", "files"), {"data", "0001_a.sql"}),
            "-- revision: 0001\nSELECT 1;\n");
  RunResult secret = Kubectl({"create", "secret", "generic", "db", "-n", "demo", "--from-literal=url=postgresql://x"});
  ASSERT_EQ(secret.exit_code, 0) << secret.err;
  for (const char* kind : {"ns", "cm", "po", "deploy", "svc", "sa", "crd", "mig"}) {
    RunResult get = Kubectl({"get", kind, "-n", "demo"});
    EXPECT_EQ(get.exit_code, 0) << kind << ": " << get.err;
  }
  RunResult cms = Kubectl({"get", "cm", "-n", "demo"});
  EXPECT_TRUE(std::regex_search(cms.out, std::regex(R"(files\s+1\s+\d+s)"))) << cms.out;
  ASSERT_EQ(Kubectl({"apply", "-f", "-"}, MigrationYaml("demo", "m")).exit_code, 0);
  RunResult mig = Kubectl({"get", "mig", "-n", "demo"});
  EXPECT_TRUE(std::regex_search(mig.out, std::regex(R"(NAME\s+READY\s+CURRENT\s+TARGET\s+PENDING\s+REASON\s+AGE)"))) << mig.out;
  // AGE is a duration ("3s"), not the timestamp.
  EXPECT_TRUE(std::regex_search(mig.out, std::regex(R"(\n m\s.*\s\d+s\s*$|\nm\s.*\s\d+s\s*$)"))) << mig.out;
}

TEST_F(OperatorTest, NonStructuralCrdIsRefused) {
  const std::string crd =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
      "spec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions:\n"
      "  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n"
      "        properties:\n          spec:\n            type: object\n            properties:\n"
      "              size: {description: no type}\n";
  RunResult r = Kubectl({"apply", "-f", "-"}, crd);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_CONTAINS(r.err, "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type: Required "
                         "value: must not be empty for specified object fields");
  std::string fixed = crd;
  fixed.replace(fixed.find("{description: no type}"), 22, "{type: integer}");
  RunResult ok = Kubectl({"apply", "-f", "-"}, fixed);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  RunResult get = Kubectl({"get", "widgets", "-A"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
}

// The operator under the chart's RBAC with one grant taken away fails
// visibly, with the real server's 403 in its log.
TEST_F(OperatorTest, MissingGrantIsA403TheOperatorReports) {
  Json role = api_->Object("clusterroles", "", "schemagate");
  ASSERT_FALSE(role.is_null());
  for (Json& rule : role["rules"].as_array()) {
    if (rule["resources"].at(0).as_string() != "configmaps") continue;
    rule["verbs"] = Json::array({Json::string("get"), Json::string("list")});
  }
  ASSERT_TRUE(client_->Replace(kube::ResourcePath("rbac.authorization.k8s.io", "v1", "clusterroles", "", "schemagate"), role).ok());
  operator_ = StartOperator();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  operator_->Kill(SIGTERM);
  RunResult out = operator_->Wait();
  operator_.reset();
  EXPECT_CONTAINS(out.err, R"(warning: watch /api/v1/configmaps: 403 Forbidden: configmaps is forbidden: User )"
                           R"("system:serviceaccount:schemagate-system:schemagate" cannot watch resource "configmaps" )"
                           R"(in API group "" at the cluster scope)");
  EXPECT_TRUE(api_->RbacVerbsUsed().count("configmaps watch"));
}

}  // namespace
}  // namespace schemagate::testing
