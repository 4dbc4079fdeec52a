// Inputs the fuzz targets (tests/fuzz) found crashing, hanging or hitting
// undefined behaviour, kept as they were found: each must now give a clean
// Status (or the right value) instead.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "core/encoding.h"
#include "core/planner.h"
#include "core/revision_graph.h"
#include "kube/config.h"

namespace schemagate {
namespace {

RevisionGraph TwoRevisions() {
  Revision base, next;
  base.id = "0001";
  base.path = "0001.sql";
  next.id = "0002";
  next.path = "0002.sql";
  next.down_revisions = {"0001"};
  return RevisionGraph::Build({base, next}).value();
}

// std::stoi threw std::out_of_range on a step count beyond int, which
// terminated `schemagate upgrade +266...6`.
TEST(FuzzRegressions, StepCountBeyondIntIsAValidationError) {
  const RevisionGraph g = TwoRevisions();
  const std::string huge = "+26666666666666666666666666666666666";  // as found
  auto up = ResolveTarget(g, {"0001"}, huge, Direction::kUpgrade);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().code(), Code::kValidation);
  EXPECT_EQ(up.status().message(), "target " + huge + ": there is no revision above 0002");
  auto plan = PlanUpgrade(g, {"0001"}, huge);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), Code::kValidation);

  auto down = ResolveTarget(g, {}, "0002-99999999999", Direction::kDowngrade);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kValidation);
  EXPECT_EQ(down.status().message(), "target 0002-99999999999 goes below base");

  // Leading zeros are not a large count.
  auto padded = ResolveTarget(g, {"0001"}, "+00000000000000000001", Direction::kUpgrade);
  ASSERT_TRUE(padded.ok()) << padded.status().message();
  EXPECT_EQ(*padded, std::vector<std::string>{"0002"});
}

// A ',' outside any collection: yaml-cpp yields an empty document without
// consuming it, and YAML::LoadAll asked for documents forever.
TEST(FuzzRegressions, ConfigWithStrayCommaIsInvalidYamlNotAHang) {
  const std::string found =  // as found
      "# schemagate configuration (the seednv overrid\n"
      "  sdaging:\n"
      "    url_env: STAGING_DATABASE%_URL\n"
      ",  production:\n"
      "    url_env: DATABASE_URL\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {found, "schemagate.yaml:4: not valid YAML: unexpected ','"},
      {",", "schemagate.yaml:1: not valid YAML: unexpected ','"},
      {"script_location: m\n---\n,\n", "schemagate.yaml:3: not valid YAML: unexpected ','"},
      {"\"migrations\",", "schemagate.yaml:1: not valid YAML: unexpected ','"},
      // Two real documents are still reported as such.
      {"script_location: a\n---\nscript_location: b\n",
       "schemagate.yaml:3: a second YAML document (the config file holds exactly one)"},
  };
  for (const auto& [text, expected] : cases) {
    Result<ConfigFile> r = ParseConfigFile("schemagate.yaml", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kUsage) << text;
    EXPECT_EQ(r.status().message(), expected) << text;
  }
}

// yaml-cpp throws YAML::BadSubscript for a key looked up in a scalar; a
// kubeconfig with a scalar where a mapping belongs terminated the process.
TEST(FuzzRegressions, KubeconfigClusterThatIsAScalarIsAUsageError) {
  const std::string found =  // as found: `cluster:` holds a scalar
      "apiVersion: v1\n"
      "kind: Config\n"
      "current-context: test\n"
      "clusters:\n"
      "- name: test\n"
      "  c\xecusterme: test\n"
      "  cluster:\n"
      "    se.0.1:8001\n"
      "contexts:\n"
      "- name: test\n"
      "  context:\n"
      "    cluster: test\n"
      "    user: test\n"
      "    namespace: default\n"
      "users:\n"
      "- name: test\n"
      "  user:\n"
      "    tokenFile: token\n";
  auto r = kube::ParseKubeconfig(found, "", "", "kc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUsage);
  EXPECT_EQ(r.status().message(), "kc: cluster 'test' has no server");

  // A user or context that is a scalar reads as one without fields.
  auto user = kube::ParseKubeconfig(
      "current-context: c\n"
      "clusters: [{name: k, cluster: {server: 'https://k:6443/'}}]\n"
      "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
      "users: [{name: u, user: just-a-token}]\n",
      "", "", "kc");
  ASSERT_TRUE(user.ok()) << user.status().message();
  EXPECT_EQ(user->server, "https://k:6443");
  EXPECT_EQ(user->token, "");
  auto context = kube::ParseKubeconfig("current-context: c\ncontexts: [{name: c, context: k}]\n",
                                       "", "", "kc");
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), Code::kUsage);
  EXPECT_EQ(context.status().message(), "kc: cluster '' (context c) not found");
}

// A context without `cluster` looks for the cluster named "", which a
// scalar entry of `clusters` matched before it was subscripted.
TEST(FuzzRegressions, KubeconfigScalarListEntryIsSkipped) {
  const std::string found =  // as found, read with --context dev
      "apiVersion: v1\n"
      "kind: Config\n"
      "preferences: {}\n"
      "current-context: kind-schemagate\n"
      "clusters:\n"
      "- clcurreNt-c\x94\x91\x8b\x9a\x87\x8b\xc5\xdf"
      "dev\n"
      "cluwters: [{name: c, cluster: {sNULL certificate-authority-data: \"%%%\"}}]\n"
      "contexts: [{name: dev, context: {clustes: c, user: u}}]\n"
      "users: [{name: u}]\n"
      "uster:\n"
      "    certifictuah-teaority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0\xef\xef\xef\xef\xef\xef"
      "tLS0tCk1JSUM=\n"
      "    server: https://127.0.0.";
  auto r = kube::ParseKubeconfig(found, "dev", "", "kc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUsage);
  EXPECT_EQ(r.status().message(), "kc: cluster '' (context dev) not found");
}

// Base64 shifted a signed int left without bound: undefined behaviour from
// the sixth character on, i.e. for every real certificate in a kubeconfig.
TEST(FuzzRegressions, Base64OfCertificateSizedData) {
  // The seed kind cluster's data, as found.
  EXPECT_EQ(Base64Decode("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM="),
            "-----BEGIN CERTIFICATE-----\nMIIC");
  std::string all_bytes;
  for (int i = 0; i < 4096; ++i) all_bytes += static_cast<char>(i * 7 % 256);
  const std::string encoded = Base64Encode(all_bytes);
  EXPECT_EQ(encoded.size(), (all_bytes.size() + 2) / 3 * 4);
  EXPECT_EQ(Base64Decode(encoded), all_bytes);
  EXPECT_EQ(Base64Encode("schemagate"), "c2NoZW1hZ2F0ZQ==");

  auto kind = kube::ParseKubeconfig(
      "current-context: kind\n"
      "clusters:\n"
      "- cluster:\n"
      "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=\n"
      "    server: https://127.0.0.1:41235\n"
      "  name: kind\n"
      "contexts: [{name: kind, context: {cluster: kind, user: kind}}]\n"
      "users:\n"
      "- name: kind\n"
      "  user:\n"
      "    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==\n",
      "", "", "kc");
  ASSERT_TRUE(kind.ok()) << kind.status().message();
  EXPECT_EQ(kind->ca_pem, "-----BEGIN CERTIFICATE-----\nMIIC");
  EXPECT_EQ(kind->client_key_pem, "-----BEGIN RSA PRIVATE KEY-----");
}

}  // namespace
}  // namespace schemagate
