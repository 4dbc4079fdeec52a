// TLS to the API server is verified by default: a server whose certificate
// no trusted CA signed is refused; naming its CA (certificate-authority-data)
// lets the same request through. The server is `openssl s_server`.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/encoding.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/transport.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    const std::string d = dir_->path();
    RunResult gen = RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", d + "/key.pem",
                                "-out", d + "/cert.pem"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    port_ = FreeTcpPort();
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"openssl", "s_server", "-accept", std::to_string(port_), "-cert", d + "/cert.pem",
                                 "-key", d + "/key.pem", "-www", "-quiet"},
        RunOptions{});
    // Ready when it accepts: probe with openssl s_client's exit status.
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
      RunOptions quiet;
      quiet.timeout = std::chrono::seconds(5);
      ready = RunProcess({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port_)}, quiet).exit_code == 0;
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(ready) << "openssl s_server did not start";
  }

  kube::ApiResponse Get(const kube::ClusterConfig& config) {
    kube::Client client(kube::MakeHttpTransport(config, std::chrono::seconds(10)));
    return client.Get("/version");
  }

  kube::ClusterConfig Config(const std::string& extra_cluster_fields) {
    const std::string yaml = "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n"
                             "    server: https://127.0.0.1:" +
                             std::to_string(port_) + "\n" + extra_cluster_fields +
                             "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n"
                             "  user:\n    token: sg-planted-token-tls\n";
    auto config = kube::ParseKubeconfig(yaml, "", dir_->path(), "kubeconfig");
    EXPECT_TRUE(config.ok()) << config.status().message();
    return *config;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Child> server_;
  int port_ = 0;
};

TEST_F(TlsTest, UnknownCertificateIsRefusedByDefault) {
  kube::ApiResponse r = Get(Config(""));
  EXPECT_EQ(r.status, 0) << "a self-signed server certificate must not be trusted: " << r.Describe();
  // Refused at the handshake (not unreachable), and the message says where
  // the trusted CA comes from.
  EXPECT_NE(r.error.find("SSL handshake"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("certificate-authority-data of kubeconfig"), std::string::npos) << r.error;
}

TEST_F(TlsTest, TheNamedCertificateAuthorityIsTrusted) {
  const std::string ca = Base64Encode(ReadAll(dir_->path() + "/cert.pem"));
  kube::ApiResponse r = Get(Config("    certificate-authority-data: " + ca + "\n"));
  // s_server -www answers with an HTML status page: the TLS handshake and the
  // HTTP exchange worked, whatever the body is.
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(TlsTest, SkippingVerificationHappensOnlyWhenTheKubeconfigSaysSo) {
  kube::ApiResponse r = Get(Config("    insecure-skip-tls-verify: true\n"));
  EXPECT_EQ(r.status, 200) << r.Describe();
}

}  // namespace
}  // namespace schemagate::testing
