// The flows a platform team lives in, over time, driven by kubectl where a
// user would use kubectl: ConfigMap sources edited, fixed, re-applied
// unchanged and missing; releases rolled forward and back with the app's
// gate; a divergent database; and a status that tells the truth throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "operator/operator_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

using kube::GetField;
using kube::GetInt;
using kube::GetString;

constexpr const char* kAddLocale =
    "-- revision: 0006\n-- down_revision: 0005\n-- message: Add users.locale\n\n-- migrate:upgrade\n"
    "ALTER TABLE users ADD COLUMN locale text;\n\n-- migrate:downgrade\nALTER TABLE users DROP COLUMN locale;\n";
constexpr const char* kBroken6 =
    "-- revision: 0006\n-- down_revision: 0005\n-- message: Add users.locale\n\n-- migrate:upgrade\n"
    "ALTER TABLE no_such_table ADD COLUMN locale text;\n\n-- migrate:downgrade\nSELECT 1;\n";

// The bundled files, `extra` added (or replacing one of the same name).
std::map<std::string, std::string> BundledFilesWith(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() + "/migrations/versions")) {
    files[e.path().filename().string()] = ReadFile(e.path().string());
  }
  for (const auto& [name, content] : extra) files[name] = content;
  return files;
}

// A ConfigMap manifest as a user would keep it in git (JSON is YAML).
std::string ConfigMapManifest(const std::string& ns, const std::string& name,
                              const std::map<std::string, std::string>& files, const std::string& label = "") {
  Json cm = Json::object();
  cm["apiVersion"] = Json::string("v1");
  cm["kind"] = Json::string("ConfigMap");
  cm["metadata"]["name"] = Json::string(name);
  cm["metadata"]["namespace"] = Json::string(ns);
  if (!label.empty()) cm["metadata"]["labels"]["team"] = Json::string(label);
  for (const auto& [file, content] : files) cm["data"][file] = Json::string(content);
  return cm.serialize();
}

std::string MigrationManifest(const std::string& ns, const std::string& name, const std::string& spec_json) {
  return R"({"apiVersion":"schemagate.io/v1alpha1","kind":"Migration","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"("},"spec":)" + spec_json + "}";
}

// The first entry of pod.<a>.<b> (e.g. spec.initContainers), or null.
Json FirstOf(const Json& pod, const char* a, const char* b) {
  const Json* list = GetField(pod, {a, b});
  return list != nullptr && list->is_array() && list->size() > 0 ? list->as_array().at(0) : Json::null();
}
std::string GateImage(const Json& pod) { return GetString(FirstOf(pod, "spec", "initContainers"), {"image"}); }
Json GateEnd(const Json& pod) {
  const Json first = FirstOf(pod, "status", "initContainerStatuses");
  const Json* t = GetField(first, {"state", "terminated"});
  return t != nullptr ? *t : Json::null();
}

class LifecycleTest : public OperatorTest {
 protected:
  // kubectl apply of one manifest, as a GitOps sync would.
  std::string Apply(const std::string& manifest) {
    RunResult r = Kubectl({"apply", "-f", "-"}, manifest);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }
  // The namespace and the database Secret, as a user makes them.
  void KubectlNamespaceAndSecret(const std::string& ns, const std::vector<std::string>& secrets,
                                 const std::string& url) {
    RunResult r = Kubectl({"get", "namespace", ns});
    if (r.exit_code != 0) {
      r = Kubectl({"create", "namespace", ns});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    for (const std::string& name : secrets) {
      r = Kubectl({"create", "secret", "generic", name, "-n", ns, "--from-literal=url=" + url});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
  }
  size_t Jobs(const std::string& ns) { return api_->Objects("jobs", ns).size(); }
  std::string Version(const std::string& url) {
    return PgServer::Shared().Query(url, "SELECT string_agg(version_num, ',') FROM alembic_version");
  }
  static bool ReadyAt(const Json& m, const std::string& rev) {
    return Condition(m, "Ready") == "True" && GetString(m, {"status", "currentRevision"}) == rev;
  }
};

const char* kFromCm = R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},)"
                      R"("source":{"configMapRefs":[{"name":"mig-src"}]},"environment":"production")";

TEST_F(LifecycleTest, ConfigMapEditsAreAppliedAndUnchangedReappliesStartNothing) {
  std::string url = PgServer::Shared().CreateDatabase("cmlive");
  StartKubelet("/nonexistent-image-migrations");  // only the ConfigMap's files exist
  operator_ = StartOperator({"--run-started-event-after", "5m"});
  KubectlNamespaceAndSecret("cm1", {"db"}, url);
  Apply(ConfigMapManifest("cm1", "mig-src", BundledFilesWith({})));
  Apply(MigrationManifest("cm1", "m", std::string(kFromCm) + "}"));
  Json m = WaitFor("cm1", "m", [](const Json& m) { return ReadyAt(m, "0005"); });
  const std::string first_hash = GetString(m, {"status", "observedSourceHash"});
  EXPECT_EQ(first_hash.size(), 16u) << m.serialize();
  EXPECT_EQ(Jobs("cm1"), 1u);

  // Every GitOps sync re-applies the ConfigMap: unchanged, or with only its
  // metadata changed, that is no run.
  EXPECT_CONTAINS(Apply(ConfigMapManifest("cm1", "mig-src", BundledFilesWith({}))), "unchanged");
  Apply(ConfigMapManifest("cm1", "mig-src", BundledFilesWith({}), "identity"));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(Jobs("cm1"), 1u) << "an unchanged ConfigMap started a run";
  m = Migration("cm1", "m");
  EXPECT_TRUE(ReadyAt(m, "0005")) << m.serialize();
  EXPECT_EQ(GetString(m, {"status", "observedSourceHash"}), first_hash);

  // A new file in the ConfigMap is applied within seconds, with no spec edit.
  Apply(ConfigMapManifest("cm1", "mig-src", BundledFilesWith({{"0006_add_locale.sql", kAddLocale}})));
  m = WaitFor("cm1", "m", [](const Json& m) { return ReadyAt(m, "0006"); }, std::chrono::seconds(30),
              "the new file applied");
  EXPECT_EQ(Version(url), "0006");
  EXPECT_EQ(GetInt(m, {"metadata", "generation"}), 1) << "no spec edit was needed";
  EXPECT_NE(GetString(m, {"status", "observedSourceHash"}), first_hash);
  EXPECT_EQ(GetString(m, {"status", "targetRevision"}), "0006");
  EXPECT_EQ(GetString(m, {"status", "lastAppliedRevision"}), "0006");
  EXPECT_EQ(GetInt(m, {"status", "pendingRevisions"}, -1), 0);
  EXPECT_EQ(Jobs("cm1"), 2u);

  // The gate agrees: the Migration is Ready for this content.
  RunOptions wo;
  wo.env["KUBERNETES_SERVICE_HOST"] = kUnset;
  RunResult gate = RunProcess({SchemagateBinary(), "wait", "--migration", "m", "-n", "cm1", "--kubeconfig", kubeconfig_,
                               "--timeout", "5s", "--interval", "100ms"},
                              wo);
  EXPECT_EQ(gate.exit_code, 0) << gate.err;
}

TEST_F(LifecycleTest, StalledMigrationIsFixedThroughItsConfigMapWithATruthfulStatusOnTheWay) {
  std::string url = PgServer::Shared().CreateDatabase("cmfix");
  StartKubelet("/nonexistent-image-migrations");
  operator_ = StartOperator();
  KubectlNamespaceAndSecret("cm2", {"db"}, url);
  Apply(ConfigMapManifest("cm2", "mig-src", BundledFilesWith({{"0006_add_locale.sql", kBroken6}})));
  Apply(MigrationManifest("cm2", "m",
                          std::string(kFromCm) + R"(,"backoff":{"limit":2,"initialDelaySeconds":2,"maxDelaySeconds":2}})"));

  // After the first failure: a retry is scheduled, and the status says what
  // the run resolved and how far it got (0001-0005 applied, 0006 not).
  Json m = WaitFor("cm2", "m", [](const Json& m) { return GetInt(m, {"status", "failures"}) == 1; },
                   std::chrono::seconds(60), "the first failure");
  EXPECT_EQ(Condition(m, "Ready", "reason"), "RunFailed");
  EXPECT_NE(GetField(m, {"status", "nextRetryTime"}), nullptr) << m.serialize();
  EXPECT_EQ(GetString(m, {"status", "targetRevision"}), "0006");
  EXPECT_EQ(GetInt(m, {"status", "pendingRevisions"}, -1), 1) << m.serialize();
  EXPECT_EQ(GetString(m, {"status", "currentRevision"}), "") << "no run has finished well yet";

  // Out of retries: Stalled, and no retry claimed any more.
  m = WaitFor("cm2", "m", [](const Json& m) { return Condition(m, "Stalled") == "True"; }, std::chrono::seconds(60),
              "Stalled");
  EXPECT_EQ(Condition(m, "Stalled", "reason"), "BackoffLimitExceeded");
  EXPECT_EQ(GetField(m, {"status", "nextRetryTime"}), nullptr) << m.serialize();
  EXPECT_EQ(GetInt(m, {"status", "pendingRevisions"}, -1), 1);
  EXPECT_EQ(GetString(m, {"status", "lastError", "sqlState"}), "42P01");
  EXPECT_EQ(Version(url), "0005");
  const size_t jobs_when_stalled = Jobs("cm2");
  EXPECT_EQ(jobs_when_stalled, 2u);

  // The fix goes into the ConfigMap, as README's troubleshooting says: no
  // spec edit, and a fresh backoff.
  Apply(ConfigMapManifest("cm2", "mig-src", BundledFilesWith({{"0006_add_locale.sql", kAddLocale}})));
  m = WaitFor("cm2", "m", [](const Json& m) { return ReadyAt(m, "0006"); }, std::chrono::seconds(60),
              "recovered through the ConfigMap");
  EXPECT_EQ(Condition(m, "Stalled"), "False");
  EXPECT_EQ(GetInt(m, {"status", "failures"}, -1), 0);
  EXPECT_EQ(GetField(m, {"status", "lastError"}), nullptr);
  EXPECT_EQ(GetField(m, {"status", "nextRetryTime"}), nullptr);
  EXPECT_EQ(GetInt(m, {"status", "pendingRevisions"}, -1), 0);
  EXPECT_EQ(Version(url), "0006");
  EXPECT_EQ(Jobs("cm2"), jobs_when_stalled + 1);
}

// An edit that lands while the run for the previous content is still going:
// at most one run per Migration, so the new run starts when that one ends.
TEST_F(LifecycleTest, ConfigMapEditedMidRunStartsTheNextRunOnlyAfterTheCurrentOne) {
  std::string url = PgServer::Shared().CreateDatabase("cmmidrun");
  StartKubelet("/nonexistent-image-migrations");
  operator_ = StartOperator({"--run-started-event-after", "500ms"});
  KubectlNamespaceAndSecret("cm4", {"db"}, url);
  const std::string slow = "-- revision: 0006\n-- down_revision: 0005\n-- migrate:upgrade\nSELECT pg_sleep(3);\n";
  Apply(ConfigMapManifest("cm4", "mig-src", BundledFilesWith({{"0006_slow.sql", slow}})));
  Apply(MigrationManifest("cm4", "m", std::string(kFromCm) + "}"));
  Json m = WaitFor("cm4", "m", [](const Json& m) { return GetField(m, {"status", "activeRun"}) != nullptr; },
                   std::chrono::seconds(30), "the first run going");
  const std::string first_job = GetString(m, {"status", "activeRun", "jobName"});
  Apply(ConfigMapManifest("cm4", "mig-src",
                          BundledFilesWith({{"0006_slow.sql", slow},
                                            {"0007_add_locale.sql",
                                             "-- revision: 0007\n-- down_revision: 0006\n-- migrate:upgrade\n"
                                             "ALTER TABLE users ADD COLUMN locale text;\n"}})));
  int most_running = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int running = 0;
    for (const Json& j : api_->Objects("jobs", "cm4")) running += GetField(j, {"status", "conditions"}) ? 0 : 1;
    most_running = std::max(most_running, running);
    m = Migration("cm4", "m");
    if (ReadyAt(m, "0007")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ReadyAt(m, "0007")) << m.serialize();
  EXPECT_EQ(most_running, 1) << "two runs of one Migration at once";
  EXPECT_EQ(Jobs("cm4"), 2u);
  EXPECT_EQ(GetField(m, {"status", "activeRun"}), nullptr);
  EXPECT_EQ(Version(url), "0007");
  // The second run was created after the first had ended.
  const Json first = api_->Object("jobs", "cm4", first_job);
  const Json first_end = FirstOf(first, "status", "conditions");
  ASSERT_FALSE(first_end.is_null()) << first.serialize();
  for (const Json& j : api_->Objects("jobs", "cm4")) {
    if (GetString(j, {"metadata", "name"}) == first_job) continue;
    EXPECT_GE(GetString(j, {"metadata", "creationTimestamp"}), GetString(first_end, {"lastTransitionTime"}));
  }
}

TEST_F(LifecycleTest, MissingConfigMapIsNamedInStatusAndTheRunStartsWhenItAppears) {
  std::string url = PgServer::Shared().CreateDatabase("cmmissing");
  StartKubelet("/nonexistent-image-migrations");
  operator_ = StartOperator();
  KubectlNamespaceAndSecret("cm3", {"db"}, url);
  Apply(ConfigMapManifest("cm3", "base", BundledFilesWith({})));
  Apply(MigrationManifest(
      "cm3", "m",
      R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"source":{"configMapRefs":[{"name":"base"},{"name":"later"}]}})"));
  Json m = WaitFor("cm3", "m", [](const Json& m) { return Condition(m, "Ready", "reason") == "SourceNotFound"; });
  EXPECT_EQ(Condition(m, "Ready"), "False");
  EXPECT_CONTAINS(Condition(m, "Ready", "message"), "ConfigMap cm3/later (spec.source.configMapRefs[1]) does not exist");
  EXPECT_EQ(Condition(m, "Stalled"), "True");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Jobs("cm3"), 0u) << "a Job that could only fail was started";

  // Created later (its own GitOps sync): the Migration runs on its own.
  Apply(ConfigMapManifest("cm3", "later", {{"0006_add_locale.sql", kAddLocale}}));
  m = WaitFor("cm3", "m", [](const Json& m) { return ReadyAt(m, "0006"); }, std::chrono::seconds(30));
  EXPECT_EQ(Condition(m, "Stalled"), "False");
  EXPECT_EQ(Version(url), "0006");

  // Deleted again: the source is gone, and the status says so.
  RunResult del = Kubectl({"delete", "configmap", "later", "-n", "cm3"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  m = WaitFor("cm3", "m", [](const Json& m) { return Condition(m, "Ready", "reason") == "SourceNotFound"; });
  EXPECT_EQ(GetString(m, {"status", "currentRevision"}), "0006");
}

// A message longer than lastError.message's 1024 characters, all of them
// two bytes long: the cut falls between characters, and the status write
// (which a real API server refuses with invalid UTF-8) goes through.
TEST_F(LifecycleTest, LongMultiByteErrorIsCutOnCharacterBoundaries) {
  std::string url = PgServer::Shared().CreateDatabase("utf8err");
  TempDir dir;
  StartKubelet(MigrationsWith(dir, {{"0006_raise.sql",
                                     "-- revision: 0006\n-- down_revision: 0005\n-- migrate:upgrade\n"
                                     "DO $$ BEGIN RAISE EXCEPTION 'Überprüfung: %', repeat('é€😀', 1000); END $$;\n"}}));
  operator_ = StartOperator();
  KubectlNamespaceAndSecret("utf", {"db"}, url);
  CreateMigration("utf", "m", R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"backoff":{"limit":1}})");
  Json m = WaitFor("utf", "m", [](const Json& m) { return Condition(m, "Stalled") == "True"; });
  const std::string message = GetString(m, {"status", "lastError", "message"});
  EXPECT_EQ(FirstInvalidUtf8(message), std::string::npos);
  size_t chars = 0;
  for (unsigned char c : message) chars += (c & 0xC0) != 0x80 ? 1 : 0;
  EXPECT_LE(chars, 1024u);
  EXPECT_GT(chars, 200u) << message;
  EXPECT_CONTAINS(message, "Überprüfung: é€😀é€😀");
  for (const char* type : {"Ready", "Stalled"}) {
    EXPECT_EQ(FirstInvalidUtf8(Condition(m, type, "message")), std::string::npos) << type;
  }
  // The runner's own report (the pod's termination message, at most 4 KiB)
  // is cut between characters too.
  const std::vector<Json> pods = api_->Objects("pods", "utf");
  ASSERT_FALSE(pods.empty());
  const std::string report = GetString(GateEnd(pods[0]), {"message"});
  EXPECT_LE(report.size(), 4096u);
  EXPECT_EQ(FirstInvalidUtf8(report), std::string::npos) << report;
  EXPECT_NOT_CONTAINS(report, "\xEF\xBF\xBD");  // no U+FFFD standing in for a split character
  EXPECT_CONTAINS(report, "Überprüfung");
}

// Port 0 on both listeners: each gets a free port of its own and says which.
TEST_F(LifecycleTest, ListenersOnPortZeroEachGetAFreePortAndLogIt) {
  const std::string log = tmp_->path() + "/operator.log";
  RunOptions o;
  o.env["KUBERNETES_SERVICE_HOST"] = kUnset;
  Child op({"bash", "-c", "exec \"$0\" \"$@\" 2>" + log, SchemagateBinary(), "operator", "--kubeconfig", kubeconfig_,
            "--leader-elect=false", "--log-format", "text", "--metrics-addr", "127.0.0.1:0", "--health-addr",
            "127.0.0.1:0"},
           o);
  auto port_of = [&](const std::string& what) {
    for (int i = 0; i < 100; ++i) {
      const std::string text = ReadFile(log);
      const size_t at = text.find("serving " + what + " on 127.0.0.1:");
      if (at != std::string::npos) {
        const size_t colon = text.find(':', at + 9 + what.size());
        return std::stoi(text.substr(colon + 1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  };
  const int metrics = port_of("/metrics"), health = port_of("/healthz and /readyz");
  ASSERT_GT(metrics, 0) << ReadFile(log);
  ASSERT_GT(health, 0) << ReadFile(log);
  EXPECT_NE(metrics, health);
  kube::ClusterConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(health);
  EXPECT_EQ(kube::Client(kube::MakeHttpTransport(c, std::chrono::seconds(5))).Get("/healthz").status, 200);
  c.server = "http://127.0.0.1:" + std::to_string(metrics);
  kube::ApiResponse r = kube::Client(kube::MakeHttpTransport(c, std::chrono::seconds(5))).Get("/metrics");
  EXPECT_EQ(r.status, 200);
  op.Kill(SIGTERM);
  EXPECT_EQ(op.Wait().exit_code, 0) << ReadFile(log);

  // "off" turns a listener off; a bad address is a usage error naming it.
  RunResult bad = RunProcess({SchemagateBinary(), "operator", "--kubeconfig", kubeconfig_, "--leader-elect=false",
                              "--metrics-addr", "off", "--health-addr", "localhost"},
                             o);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_CONTAINS(bad.err, "--health-addr");
}

constexpr const char* kImageN = "ghcr.io/schemagate/schemagate:0.1.0";   // files end at 0005
constexpr const char* kImageN1 = "ghcr.io/schemagate/schemagate:0.2.0";  // adds 0006

// The chart's `migration` block for one release, as `helm template` renders
// it (what a GitOps pipeline commits, or what `helm upgrade` would apply).
std::string HelmMigration(const std::string& image) {
  RunResult r = RunProcess({"helm", "template", "ocr", SourceDir() + "/charts/schemagate", "--namespace", "ocr",
                            "--show-only", "templates/migration.yaml", "--set", "migration.enabled=true", "--set",
                            "migration.name=ocr-identity", "--set", "migration.database.secretName=ocr-db", "--set",
                            "migration.runner.image=" + std::string(image)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The app Deployment from the samples, its gate from the release's image.
std::string AppDeployment(const std::string& image) {
  std::string app = ReadFile(SourceDir() + "/manifests/samples/ocr-identity-app.yaml");
  const std::string sample_image = "image: ghcr.io/schemagate/schemagate:0.1.0";
  const size_t at = app.find(sample_image);
  EXPECT_NE(at, std::string::npos);
  app.replace(at, sample_image.size(), "image: " + image);
  return app;
}

TEST_F(LifecycleTest, HelmReleasesRollForwardAndBackAndTheGatedPodsStartEachTime) {
  std::string url = PgServer::Shared().CreateDatabase("rollback");
  TempDir n1;
  StartKubeletWithImages({{kImageN, SourceDir() + "/migrations"},
                          {kImageN1, MigrationsWith(n1, {{"0006_add_locale.sql", kAddLocale}})}});
  operator_ = StartOperator({"--run-started-event-after", "5m"});
  KubectlNamespaceAndSecret("ocr", {"ocr-db", "ocr-db-readonly"}, url);
  // The app's gated pods, by the image their gate runs.
  auto app_pod = [&](const std::string& image) -> Json {
    for (const Json& p : api_->Objects("pods", "ocr")) {
      if (GetString(p, {"metadata", "labels", "app"}) == "ocr-identity" && GateImage(p) == image) {
        return p;
      }
    }
    return Json::null();
  };
  auto started = [&](const std::string& image) -> Json {
    for (int i = 0; i < 600; ++i) {
      Json p = app_pod(image);
      if (!p.is_null() && GetString(p, {"status", "phase"}) == "Running") return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no app pod with gate " << image << " started";
    return Json::null();
  };
  auto gate_exit = [](const Json& pod) {
    return GetInt(GateEnd(pod), {"exitCode"}, -1);
  };

  // Release N.
  Apply(HelmMigration(kImageN));
  Apply(AppDeployment(kImageN));
  Json m = WaitFor("ocr", "ocr-identity", [](const Json& m) { return ReadyAt(m, "0005"); });
  EXPECT_EQ(gate_exit(started(kImageN)), 0);

  // Release N+1: a new image tag with a new head. Its app pod is released
  // only after the Migration applied 0006.
  Apply(HelmMigration(kImageN1));
  Apply(AppDeployment(kImageN1));
  m = WaitFor("ocr", "ocr-identity", [](const Json& m) {
    return ReadyAt(m, "0006") && GetInt(m, {"status", "observedGeneration"}) == 2;
  });
  EXPECT_EQ(GetString(m, {"status", "lastAppliedRevision"}), "0006");
  Json pod = started(kImageN1);
  EXPECT_EQ(gate_exit(pod), 0);
  EXPECT_GE(GetString(GateEnd(pod), {"finishedAt"}),
            GetString(m, {"status", "lastAppliedTime"}));
  EXPECT_EQ(Version(url), "0006");

  // Rollback: release N's manifests again (helm rollback, Argo CD rollback).
  // Its files end at 0005 while the database is at 0006: nothing to run,
  // Ready with a reason that says so, and release N's pods still start.
  Apply(HelmMigration(kImageN));
  Apply(AppDeployment(kImageN));
  m = WaitFor("ocr", "ocr-identity", [](const Json& m) {
    return Condition(m, "Ready") == "True" && GetInt(m, {"status", "observedGeneration"}) == 3;
  });
  EXPECT_EQ(Condition(m, "Ready", "reason"), "DatabaseAhead") << m.serialize();
  EXPECT_CONTAINS(Condition(m, "Ready", "message"), "0005 is applied");
  EXPECT_EQ(Condition(m, "Stalled"), "False");
  EXPECT_EQ(GetString(m, {"status", "currentRevision"}), "0006");
  EXPECT_EQ(GetString(m, {"status", "targetRevision"}), "0005");
  EXPECT_EQ(GetInt(m, {"status", "pendingRevisions"}, -1), 0);
  EXPECT_EQ(Version(url), "0006") << "a rollback must not touch the schema";
  // The runner in the rollback's Job exited 0 (`upgrade head` with files to 0005).
  for (const Json& p : api_->Objects("pods", "ocr")) {
    if (GetString(p, {"metadata", "labels", "schemagate.io/generation"}) != "3") continue;
    EXPECT_EQ(GetInt(GateEnd(p), {"exitCode"}, -1), 0);
    EXPECT_CONTAINS(GetString(GateEnd(p), {"message"}), "\"ahead\":true");
  }
  int rollback_pods = 0;
  for (const Json& p : api_->Objects("pods", "ocr")) {
    if (GetString(p, {"metadata", "labels", "app"}) == "ocr-identity" &&
        GateImage(p) == kImageN) {
      ++rollback_pods;
    }
  }
  EXPECT_EQ(rollback_pods, 2) << "release N's pods start again on the rollback";
  for (int i = 0; i < 600 && rollback_pods == 2; ++i) {
    bool all_running = true;
    for (const Json& p : api_->Objects("pods", "ocr")) {
      if (GetString(p, {"metadata", "labels", "app"}) == "ocr-identity" &&
          GateImage(p) == kImageN) {
        all_running &= GetString(p, {"status", "phase"}) == "Running" && gate_exit(p) == 0;
      }
    }
    if (all_running) break;
    if (i == 599) ADD_FAILURE() << "the rollback's app pod did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto reasons = EventReasons("ocr", "ocr-identity");
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "DatabaseAhead"), 1);
}

// A database on a branch this release does not continue (0006x on 0004,
// where this release has 0005 on 0004) is not "ahead": still refused.
TEST_F(LifecycleTest, DivergentBranchIsStillRefused) {
  std::string url = PgServer::Shared().CreateDatabase("divergent");
  TempDir feature;
  const std::string feature_dir = MigrationsWith(
      feature, {{"0006_feature.sql", "-- revision: 0006x\n-- down_revision: 0004\n-- migrate:upgrade\n"
                                     "CREATE TABLE feature_flags (name text primary key);\n"}});
  std::filesystem::remove(feature_dir + "/versions/0005_users_email_index.sql");
  StartKubeletWithImages({{kImageN, SourceDir() + "/migrations"}, {"ghcr.io/schemagate/schemagate:feature", feature_dir}});
  operator_ = StartOperator();
  KubectlNamespaceAndSecret("div", {"db"}, url);
  CreateMigration("div", "m", R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},)"
                              R"("runner":{"image":"ghcr.io/schemagate/schemagate:feature"}})");
  WaitFor("div", "m", [](const Json& m) { return ReadyAt(m, "0006x"); });
  ASSERT_TRUE(PatchMigration("div", "m", R"({"spec":{"runner":{"image":"ghcr.io/schemagate/schemagate:0.1.0"}}})").ok());
  Json m = WaitFor("div", "m", [](const Json& m) {
    return Condition(m, "Stalled") == "True" && GetInt(m, {"status", "observedGeneration"}) == 2;
  });
  EXPECT_EQ(Condition(m, "Stalled", "reason"), "ValidationFailed");
  EXPECT_CONTAINS(Condition(m, "Ready", "message"), "0006x, which no migration file here defines");
  EXPECT_EQ(Version(url), "0006x");
}

}  // namespace
}  // namespace schemagate::testing
