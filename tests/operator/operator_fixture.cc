#include "operator/operator_fixture.h"

#include <filesystem>
#include <thread>

#include "core/encoding.h"
#include "operator/crd_schema.h"

namespace schemagate::testing {

namespace fs = std::filesystem;

std::string MigrationsWith(const TempDir& dir, const std::map<std::string, std::string>& extra) {
  fs::path root = fs::path(dir.path()) / "migrations";
  fs::create_directories(root / "versions");
  for (const auto& e : fs::directory_iterator(fs::path(SourceDir()) / "migrations" / "versions")) {
    fs::copy_file(e.path(), root / "versions" / e.path().filename(), fs::copy_options::overwrite_existing);
  }
  for (const auto& [name, content] : extra) WriteFile((root / "versions" / name).string(), content);
  return root.string();
}

std::string MigrationsWithSlowRun(const TempDir& dir) {
  return MigrationsWith(dir, {{"0006_slow.sql",
                               "-- revision: 0006\n-- down_revision: 0005\n-- migrate:upgrade\nSELECT pg_sleep(3);\n"}});
}

void OperatorTest::SetUp() {
  tmp_ = std::make_unique<TempDir>();
  api_ = std::make_unique<FakeApiServer>();
  kubeconfig_ = tmp_->path() + "/kubeconfig";
  api_->WriteKubeconfig(kubeconfig_);
  // The operator runs as the chart's ServiceAccount with exactly the chart's
  // RBAC, enforced: a missing grant is a 403 and fails the test.
  operator_kubeconfig_ = tmp_->path() + "/operator-kubeconfig";
  api_->WriteServiceAccountKubeconfig(operator_kubeconfig_, "schemagate-system", "schemagate", "schemagate-system");
  kube::ClusterConfig c;
  c.server = api_->url();
  client_ = std::make_unique<kube::Client>(kube::MakeHttpTransport(c, std::chrono::seconds(60)));
  CreateNamespace("schemagate-system");
  ApplyChartRbac();
  api_->EnforceRbac(true);
}

void OperatorTest::CreateNamespace(const std::string& ns) {
  Json n = Json::object();
  n["metadata"]["name"] = Json::string(ns);
  kube::ApiResponse r = client_->Create(kube::ResourcePath("", "v1", "namespaces", ""), n);
  ASSERT_TRUE(r.ok() || r.status == 409) << r.Describe();
}

void OperatorTest::ApplyChartRbac(const std::vector<std::string>& helm_args) {
  std::vector<std::string> argv{"helm", "template", "schemagate", SourceDir() + "/charts/schemagate", "--namespace",
                                "schemagate-system", "--show-only", "templates/rbac.yaml"};
  argv.insert(argv.end(), helm_args.begin(), helm_args.end());
  RunResult rendered = RunProcess(argv);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  const std::map<std::string, std::string> plural = {{"Role", "roles"},
                                                     {"ClusterRole", "clusterroles"},
                                                     {"RoleBinding", "rolebindings"},
                                                     {"ClusterRoleBinding", "clusterrolebindings"}};
  std::string text = "\n" + rendered.out;
  for (size_t at = 0; at < text.size();) {
    size_t next = text.find("\n---", at + 1);
    if (next == std::string::npos) next = text.size();
    Json doc = YamlToJson(text.substr(at, next - at));
    at = next + 4;
    if (!doc.is_object() || !plural.count(kube::GetString(doc, {"kind"}))) continue;
    const std::string ns = kube::GetString(doc, {"metadata", "namespace"});
    if (!ns.empty()) CreateNamespace(ns);
    const std::string path = kube::ResourcePath("rbac.authorization.k8s.io", "v1", plural.at(kube::GetString(doc, {"kind"})), ns);
    kube::ApiResponse r = client_->Create(path, doc);
    if (r.status == 409) r = client_->Replace(path + "/" + kube::GetString(doc, {"metadata", "name"}), doc);
    ASSERT_TRUE(r.ok()) << r.Describe();
  }
}

void OperatorTest::TearDown() {
  if (operator_) {
    operator_->Kill(SIGTERM);
    RunResult r = operator_->Wait();
    if (HasFailure()) {
      std::cerr << "--- operator output ---\n" << r.out << r.err << "\n";
      for (const char* res : {"jobs", "pods"}) {
        for (const Json& o : api_->Objects(res, "")) std::cerr << "--- " << res << ": " << o.serialize() << "\n";
      }
    }
  }
  kubelet_.reset();
  api_.reset();
}

namespace {

// SCHEMAGATE_KUBELET_IMAGE names a locally built image: the kubelet
// simulator then runs the runner pods from it (container mode).
std::string KubeletImage() {
  const char* image = std::getenv("SCHEMAGATE_KUBELET_IMAGE");
  return image == nullptr ? "" : image;
}

}  // namespace

void OperatorTest::StartKubelet(const std::string& migrations_dir) {
  KubeletSimulator::Options o;
  o.api_url = api_->url();
  o.binary = SchemagateBinary();
  o.container_image = KubeletImage();
  // The image bundles the source tree's migrations: from the image, those
  // are its own /migrations, not a mounted copy.
  if (o.container_image.empty() ||
      fs::weakly_canonical(migrations_dir) != fs::weakly_canonical(fs::path(SourceDir()) / "migrations")) {
    o.paths["/migrations"] = migrations_dir;
  }
  o.work_dir = tmp_->path();
  kubelet_ = std::make_unique<KubeletSimulator>(o);
}

void OperatorTest::StartKubeletWithImages(const std::map<std::string, std::string>& migrations_by_image) {
  KubeletSimulator::Options o;
  o.api_url = api_->url();
  o.binary = SchemagateBinary();
  o.container_image = KubeletImage();
  for (const auto& [image, dir] : migrations_by_image) o.image_paths[image]["/migrations"] = dir;
  o.work_dir = tmp_->path();
  kubelet_ = std::make_unique<KubeletSimulator>(o);
}

RunResult OperatorTest::Kubectl(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv{"kubectl"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o;
  o.env["HOME"] = tmp_->path();
  o.env["KUBECONFIG"] = kubeconfig_;
  o.stdin_data = stdin_data;
  o.timeout = std::chrono::seconds(60);
  return RunProcess(argv, o);
}

std::unique_ptr<Child> OperatorTest::StartOperator(std::vector<std::string> extra) {
  std::vector<std::string> argv{SchemagateBinary(), "operator", "--kubeconfig", operator_kubeconfig_, "--log-format", "text"};
  // Defaults for what the test did not set itself.
  auto given = [&extra](const std::string& flag) {
    for (const std::string& e : extra) {
      if (e == flag || e.rfind(flag + "=", 0) == 0) return true;
    }
    return false;
  };
  if (!given("--leader-elect")) argv.push_back("--leader-elect=false");
  if (!given("--metrics-addr")) argv.insert(argv.end(), {"--metrics-addr", "off"});
  if (!given("--health-addr")) argv.insert(argv.end(), {"--health-addr", "off"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  // SCHEMAGATE_OPERATOR_WRAPPER="gdb -batch -ex run -ex bt --args" to debug.
  if (const char* wrap = std::getenv("SCHEMAGATE_OPERATOR_WRAPPER")) {
    std::vector<std::string> prefix;
    std::string w = wrap, word;
    for (char ch : w + " ") {
      if (ch == ' ') {
        if (!word.empty()) prefix.push_back(word);
        word.clear();
      } else {
        word += ch;
      }
    }
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
  }
  RunOptions o;
  o.timeout = std::chrono::minutes(10);
  o.env["KUBERNETES_SERVICE_HOST"] = kUnset;
  return std::make_unique<Child>(argv, o);
}

void OperatorTest::CreateSecret(const std::string& ns, const std::string& name, const std::string& url) {
  CreateNamespace(ns);
  Json s = Json::object();
  s["metadata"]["name"] = Json::string(name);
  s["data"]["url"] = Json::string(Base64Encode(url));
  kube::ApiResponse r = client_->Create(kube::ResourcePath("", "v1", "secrets", ns), s);
  ASSERT_TRUE(r.ok()) << r.Describe();
}

Json OperatorTest::CreateMigration(const std::string& ns, const std::string& name, const std::string& spec_json) {
  Json m = Json::object();
  m["apiVersion"] = Json::string("schemagate.io/v1alpha1");
  m["kind"] = Json::string("Migration");
  m["metadata"]["name"] = Json::string(name);
  m["spec"] = Json::parse(spec_json);
  kube::ApiResponse r = client_->Create(kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", ns), m);
  EXPECT_TRUE(r.ok()) << r.Describe();
  return r.body;
}

kube::ApiResponse OperatorTest::PatchMigration(const std::string& ns, const std::string& name,
                                               const std::string& patch_json) {
  return client_->MergePatch(kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", ns, name),
                             Json::parse(patch_json));
}

Json OperatorTest::Migration(const std::string& ns, const std::string& name) {
  return api_->Object("migrations", ns, name);
}

std::string OperatorTest::Condition(const Json& m, const std::string& type, const char* field) {
  const Json* conds = kube::GetField(m, {"status", "conditions"});
  if (conds == nullptr || !conds->is_array()) return "";
  for (const Json& c : conds->as_array()) {
    if (kube::GetString(c, {"type"}) == type) return kube::GetString(c, {field});
  }
  return "";
}

Json OperatorTest::WaitFor(const std::string& ns, const std::string& name, const std::function<bool(const Json&)>& pred,
                           std::chrono::seconds timeout, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Json m;
  while (std::chrono::steady_clock::now() < deadline) {
    m = Migration(ns, name);
    if (!m.is_null() && pred(m)) return m;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "timed out waiting for " << what << " on " << ns << "/" << name << "; last: " << m.serialize();
  return m;
}

std::vector<std::string> OperatorTest::EventReasons(const std::string& ns, const std::string& name) {
  std::vector<std::string> out;
  for (const Json& e : api_->Objects("events", ns)) {
    if (kube::GetString(e, {"involvedObject", "name"}) == name) out.push_back(kube::GetString(e, {"reason"}));
  }
  return out;
}

}  // namespace schemagate::testing
