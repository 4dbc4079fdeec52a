// The Kubernetes side without a server: watch decoding, kubeconfig and
// in-cluster configuration, backoff, conditions, the work queue, the line
// of Migrations waiting for a run slot, Jobs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/watch_decoder.h"
#include "operator/migration.h"
#include "operator/source.h"
#include "operator/waiting_line.h"
#include "operator/work_queue.h"

namespace schemagate {
namespace {

using kube::Json;

TEST(WatchDecoder, ReassemblesLinesSplitAnywhere) {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}\r\n"
      "\n"
      "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"caf\xC3\xA9\"}}}\n";
  // Every split position, including inside the UTF-8 sequence and the CRLF.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    kube::LineDecoder d;
    std::vector<std::string> lines;
    auto collect = [&](std::string_view l) { lines.emplace_back(l); };
    d.Feed(stream.substr(0, cut), collect);
    d.Feed(stream.substr(cut), collect);
    ASSERT_EQ(lines.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(d.pending(), 0u);
    kube::WatchEvent e;
    std::string error;
    ASSERT_TRUE(kube::ParseWatchEvent(lines[2], &e, &error)) << error;
    EXPECT_EQ(e.type, "DELETED");
    EXPECT_EQ(kube::GetString(e.object, {"metadata", "name"}), "caf\xC3\xA9");
  }
  // Byte by byte.
  kube::LineDecoder d;
  int n = 0;
  for (char c : stream) d.Feed(std::string_view(&c, 1), [&](std::string_view) { ++n; });
  EXPECT_EQ(n, 3);
}

TEST(WatchDecoder, PartialLineWaitsAndBadLinesAreReported) {
  kube::LineDecoder d;
  int n = 0;
  d.Feed("{\"type\":\"ADDED\"", [&](std::string_view) { ++n; });
  EXPECT_EQ(n, 0);
  EXPECT_GT(d.pending(), 0u);
  kube::WatchEvent e;
  std::string error;
  EXPECT_FALSE(kube::ParseWatchEvent("{not json", &e, &error));
  EXPECT_NE(error.find("malformed"), std::string::npos);
  EXPECT_FALSE(kube::ParseWatchEvent("{\"object\":{}}", &e, &error));
  ASSERT_TRUE(kube::ParseWatchEvent(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})", &e, &error));
  EXPECT_EQ(kube::GetInt(e.object, {"code"}), 410);
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sg-kube-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: Q0EtUEVN
- name: prod-cluster
  cluster:
    server: https://prod.example
    certificate-authority: ca.pem
    insecure-skip-tls-verify: true
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: ocr}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    client-certificate: cert.pem
    client-key-data: S0VZ
)";

TEST_F(KubeconfigTest, CurrentAndNamedContextsWithDataAndFiles) {
  std::ofstream(dir_ / "ca.pem") << "PROD-CA";
  std::ofstream(dir_ / "cert.pem") << "PROD-CERT";
  auto dev = kube::ParseKubeconfig(kKubeconfig, "", dir_.string(), "kc");
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  EXPECT_EQ(dev->server, "https://dev.example:6443");
  EXPECT_EQ(dev->ca_pem, "CA-PEM");
  EXPECT_EQ(dev->BearerToken(), "dev-token");
  EXPECT_EQ(dev->namespace_, "ocr");
  auto prod = kube::ParseKubeconfig(kKubeconfig, "prod", dir_.string(), "kc");
  ASSERT_TRUE(prod.ok()) << prod.status().message();
  EXPECT_EQ(prod->ca_pem, "PROD-CA");
  EXPECT_EQ(prod->client_cert_pem, "PROD-CERT");
  EXPECT_EQ(prod->client_key_pem, "KEY");
  EXPECT_TRUE(prod->insecure_skip_tls_verify);
  EXPECT_EQ(prod->BearerToken(), "");
}

TEST_F(KubeconfigTest, AnEndlessFileIsRefusedNotReadForever) {
  const std::string yaml = "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n"
                           "    server: https://x\n    certificate-authority: /dev/zero\ncontexts:\n- name: c\n"
                           "  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user: {}\n";
  auto c = kube::ParseKubeconfig(yaml, "", dir_.string(), "kc");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cannot read /dev/zero (missing, unreadable, or over 4 MiB)"), std::string::npos)
      << c.status().message();
}

TEST_F(KubeconfigTest, ErrorsSayWhatIsMissing) {
  EXPECT_NE(kube::ParseKubeconfig(kKubeconfig, "nope", "", "kc").status().message().find("context 'nope' not found"),
            std::string::npos);
  EXPECT_NE(kube::ParseKubeconfig("a: [", "", "", "kc").status().message().find("not valid YAML"), std::string::npos);
  EXPECT_NE(kube::ParseKubeconfig(kKubeconfig, "prod", "/nonexistent", "kc").status().message().find("cannot read"),
            std::string::npos);
}

TEST_F(KubeconfigTest, InClusterTokenIsReReadAsItRotates) {
  std::ofstream(dir_ / "token") << "first";
  std::ofstream(dir_ / "ca.crt") << "CLUSTER-CA";
  std::ofstream(dir_ / "namespace") << "schemagate-system";
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "KUBERNETES_SERVICE_HOST") return "10.0.0.1";
    if (k == "KUBERNETES_SERVICE_PORT") return "443";
    return std::nullopt;
  };
  auto c = kube::InClusterConfig(env, dir_.string());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->ca_pem, "CLUSTER-CA");
  EXPECT_EQ(c->namespace_, "schemagate-system");
  EXPECT_EQ(c->BearerToken(), "first");
  std::ofstream(dir_ / "token", std::ios::trunc) << "rotated\n";
  EXPECT_EQ(c->BearerToken(), "rotated");
  auto none = kube::InClusterConfig([](const std::string&) { return std::optional<std::string>(); }, dir_.string());
  EXPECT_FALSE(none.ok());
}

TEST(Backoff, GrowsExponentiallyToTheCap) {
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(op::ExponentialBackoff(0, ms(100), ms(1000)), ms(0));
  EXPECT_EQ(op::ExponentialBackoff(1, ms(100), ms(1000)), ms(100));
  EXPECT_EQ(op::ExponentialBackoff(3, ms(100), ms(1000)), ms(400));
  EXPECT_EQ(op::ExponentialBackoff(10, ms(100), ms(1000)), ms(1000));
  EXPECT_EQ(op::ExponentialBackoff(1000, ms(100), ms(1000)), ms(1000));
}

TEST(WaitingLine, FrontIsLongestWaitingFirstAndRejoiningKeepsThePlace) {
  op::WaitingLine line;
  line.Join("ns/a");
  line.Join("ns/b");
  line.Join("ns/c");
  line.Join("ns/a");  // a pass that waits again: still first
  EXPECT_EQ(line.Front(2), (std::vector<std::string>{"ns/a", "ns/b"}));
  line.Leave("ns/a");  // took a slot
  line.Leave("ns/x");  // never waited: nothing happens
  line.Join("ns/a");   // waits again later: at the back now
  EXPECT_EQ(line.Front(10), (std::vector<std::string>{"ns/b", "ns/c", "ns/a"}));
  EXPECT_EQ(line.size(), 3u);
  EXPECT_TRUE(line.Front(0).empty());
  // Two free slots go to b and c; a, third in line, and a newcomer wait.
  EXPECT_TRUE(line.MayStart("ns/b", 2));
  EXPECT_TRUE(line.MayStart("ns/c", 2));
  EXPECT_FALSE(line.MayStart("ns/a", 2));
  EXPECT_FALSE(line.MayStart("ns/new", 2));
  EXPECT_FALSE(line.MayStart("ns/b", 0));
  // With more slots free than waiters, a newcomer may start too.
  EXPECT_TRUE(line.MayStart("ns/new", 4));
}

TEST(JobOutcome, OnlyATrueCompleteOrFailedConditionEndsARun) {
  auto job = [](const std::string& conditions) {
    return Json::parse(R"({"status":{"conditions":)" + conditions + "}}");
  };
  EXPECT_EQ(op::JobOutcome(Json::parse("{}")), "");
  EXPECT_EQ(op::JobOutcome(job(R"([{"type":"Complete","status":"True"}])")), "Complete");
  EXPECT_EQ(op::JobOutcome(job(R"([{"type":"Suspended","status":"True"},{"type":"Failed","status":"True"}])")),
            "Failed");
  EXPECT_EQ(op::JobOutcome(job(R"([{"type":"Failed","status":"False"}])")), "");
}

TEST(WorkQueue, DeduplicatesAndNeverHandsAKeyToTwoWorkers) {
  op::WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Length(), 2u);
  std::string k;
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "a");
  q.Add("a");  // while processing: comes back after Done
  EXPECT_EQ(q.Length(), 1u);
  q.Done("a");
  EXPECT_EQ(q.Length(), 2u);
  q.AddAfter("c", std::chrono::milliseconds(50));
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "b");
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "a");
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(q.Get(&k));
  EXPECT_EQ(k, "c");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  q.ShutDown();
  EXPECT_FALSE(q.Get(&k));
}

TEST(Conditions, TransitionTimeMovesOnlyWhenStatusFlips) {
  Json status = Json::object();
  EXPECT_TRUE(op::SetCondition(status, "Ready", "False", "RunStarted", "running", 1, "T1"));
  EXPECT_FALSE(op::SetCondition(status, "Ready", "False", "RunStarted", "running", 1, "T2"));
  EXPECT_EQ(kube::GetString(status["conditions"][0], {"lastTransitionTime"}), "T1");
  EXPECT_TRUE(op::SetCondition(status, "Ready", "False", "RunFailed", "boom", 1, "T3"));
  EXPECT_EQ(kube::GetString(status["conditions"][0], {"lastTransitionTime"}), "T1");
  EXPECT_TRUE(op::SetCondition(status, "Ready", "True", "Succeeded", "ok", 2, "T4"));
  EXPECT_EQ(kube::GetString(status["conditions"][0], {"lastTransitionTime"}), "T4");
  EXPECT_EQ(kube::GetInt(status["conditions"][0], {"observedGeneration"}), 2);
  EXPECT_EQ(op::ConditionStatus(status, "Ready"), "True");
  EXPECT_EQ(op::ConditionStatus(status, "Stalled"), "");
}

Json Migration(const std::string& spec) {
  Json m = Json::object();
  m["metadata"]["name"] = Json::string("ocr-identity");
  m["metadata"]["namespace"] = Json::string("ocr");
  m["metadata"]["uid"] = Json::string("u-1");
  m["metadata"]["generation"] = Json::number(3);
  m["spec"] = Json::parse(spec);
  return m;
}

TEST(MigrationSpec, ValidatesAndDefaults) {
  auto ok = op::ParseMigrationSpec(Migration(R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}}})"), "img");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->target, "head");
  EXPECT_EQ(ok->image, "img");
  EXPECT_FALSE(ok->allow_downgrade);
  EXPECT_EQ(ok->backoff_limit, 5);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({})", "secretKeyRef needs name and key"},
      {R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"downgradePolicy":"Maybe"})", "Forbid or Allow"},
      {R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"targetRevision":"a:b"})", "not a revision target"},
      {R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"backoff":{"limit":-1}})", "negative"},
  };
  for (const auto& [spec, expected] : bad) {
    auto r = op::ParseMigrationSpec(Migration(spec), "img");
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST(RunnerJob, DeterministicNameSecretOnlyAndOwned) {
  Json m = Migration(R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"targetRevision":"0003","downgradePolicy":"Allow"})");
  EXPECT_EQ(op::JobNameFor(m, 0), op::JobNameFor(m, 0));
  EXPECT_NE(op::JobNameFor(m, 0), op::JobNameFor(m, 1));
  EXPECT_EQ(op::JobNameFor(m, 0).rfind("ocr-identity-", 0), 0u);
  // ConfigMap content is part of what a run is for; image sources keep their names.
  EXPECT_EQ(op::JobNameFor(m, 0, ""), op::JobNameFor(m, 0));
  EXPECT_NE(op::JobNameFor(m, 0, "0123456789abcdef"), op::JobNameFor(m, 0));
  EXPECT_NE(op::JobNameFor(m, 0, "0123456789abcdef"), op::JobNameFor(m, 0, "fedcba9876543210"));
  auto spec = op::ParseMigrationSpec(m, "img");
  Json job = op::BuildRunnerJob(m, *spec, "ocr-identity-x");
  const std::string text = job.serialize();
  EXPECT_NE(text.find(R"("secretKeyRef":{"key":"url","name":"db"})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("upgrade","0003","--report","/dev/termination-log")"), std::string::npos) << text;
  EXPECT_NE(text.find("--allow-downgrade"), std::string::npos);
  EXPECT_EQ(text.find("SCHEMAGATE_FORBID_DOWNGRADE"), std::string::npos);
  // Forbid (the default): the runner refuses a target below the database
  // instead of doing nothing as Alembic's upgrade does.
  Json forbid = Migration(R"({"database":{"urlFrom":{"secretKeyRef":{"name":"db","key":"url"}}},"targetRevision":"0003"})");
  const std::string forbid_text =
      op::BuildRunnerJob(forbid, *op::ParseMigrationSpec(forbid, "img"), "ocr-identity-x").serialize();
  EXPECT_NE(forbid_text.find(R"({"name":"SCHEMAGATE_FORBID_DOWNGRADE","value":"true"})"), std::string::npos)
      << forbid_text;
  EXPECT_EQ(forbid_text.find("--forbid-downgrade"), std::string::npos) << "older runners do not know the flag";
  EXPECT_EQ(forbid_text.find("--allow-downgrade"), std::string::npos);
  EXPECT_EQ(kube::GetString(job, {"metadata", "ownerReferences"}), "");
  EXPECT_EQ(kube::GetString(job["metadata"]["ownerReferences"][0], {"uid"}), "u-1");
  EXPECT_EQ(kube::GetInt(job, {"spec", "backoffLimit"}, -1), 0);
  EXPECT_NE(text.find(R"("runAsNonRoot":true)"), std::string::npos);
  EXPECT_NE(text.find(R"("readOnlyRootFilesystem":true)"), std::string::npos);
}

}  // namespace
}  // namespace schemagate

namespace schemagate {
namespace {

Json ConfigMap(const std::string& json) { return Json::parse(json); }

TEST(ConfigMapSource, ContentHashFollowsFilesNotMetadataOrKeyOrder) {
  const std::string base = op::ConfigMapContentHash(
      ConfigMap(R"({"metadata":{"name":"m","resourceVersion":"1"},"data":{"0001_a.sql":"A","0002_b.sql":"B"}})"));
  // The same files in another order, with other metadata: the same content.
  EXPECT_EQ(op::ConfigMapContentHash(ConfigMap(
                R"({"metadata":{"name":"m","resourceVersion":"9","labels":{"x":"y"}},"data":{"0002_b.sql":"B","0001_a.sql":"A"}})")),
            base);
  const std::vector<std::string> changed = {
      R"({"data":{"0001_a.sql":"A","0002_b.sql":"B2"}})",                   // a file edited
      R"({"data":{"0001_a.sql":"A","0002_b.sql":"B","0003_c.sql":"C"}})",  // a file added
      R"({"data":{"0001_a.sql":"A"}})",                                    // a file removed
      R"({"data":{"0001_a.sql":"A","0002_c.sql":"B"}})",                   // a file renamed
      R"({"data":{"0001_a.sql":"A"},"binaryData":{"0002_b.sql":"Qg=="}})",  // moved to binaryData
      R"({"data":{"0001_a.sql":"A0","002_b.sql":"B"}})",                   // bytes moved across the boundary
  };
  for (const std::string& c : changed) EXPECT_NE(op::ConfigMapContentHash(ConfigMap(c)), base) << c;
  Json slim = op::SlimConfigMap(ConfigMap(R"({"metadata":{"name":"m","namespace":"n","resourceVersion":"1"},"data":{"0001_a.sql":"A","0002_b.sql":"B"}})"));
  EXPECT_EQ(kube::GetString(slim, {op::kContentHashField}), base);
  EXPECT_EQ(kube::GetString(slim, {"metadata", "name"}), "m");
  EXPECT_EQ(kube::GetField(slim, {"data"}), nullptr);  // the files are not cached
}

TEST(ConfigMapSource, ResolveNamesTheFirstMissingAndHashesInOrder) {
  std::map<std::string, std::string> hashes{{"a", "ha"}, {"b", "hb"}};
  auto lookup = [&](const std::string& n) -> std::optional<std::string> {
    auto it = hashes.find(n);
    if (it == hashes.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(op::ResolveSource({}, lookup).hash, "");  // an image source
  op::SourceState ab = op::ResolveSource({"a", "b"}, lookup);
  EXPECT_EQ(ab.hash.size(), 16u);
  EXPECT_TRUE(ab.missing.empty());
  EXPECT_NE(op::ResolveSource({"b", "a"}, lookup).hash, ab.hash);  // order decides which file wins
  op::SourceState missing = op::ResolveSource({"a", "c", "d"}, lookup);
  EXPECT_EQ(missing.missing, "c");
  EXPECT_EQ(missing.missing_index, 1);
  EXPECT_EQ(missing.hash, "");
  hashes["b"] = "hb2";
  EXPECT_NE(op::ResolveSource({"a", "b"}, lookup).hash, ab.hash);
}

}  // namespace
}  // namespace schemagate
