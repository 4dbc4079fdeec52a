// sg-test-apiserver: the test API server as a program, for driving the
// operator by hand (kubectl, make operator-demo).
//   sg-test-apiserver --port 8001 --kubeconfig-out /tmp/kubeconfig [--without-crd]
// The kubeconfig carries an administrator's token. The Migration CRD is
// served from the start unless --without-crd (then apply it as on a new
// cluster: kubectl apply -f manifests/crd/schemagate.io_migrations.yaml).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "operator/fake_apiserver.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string kubeconfig;
  bool with_crd = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) port = std::stoi(argv[++i]);
    else if (a == "--kubeconfig-out" && i + 1 < argc) kubeconfig = argv[++i];
    else if (a == "--without-crd") with_crd = false;
    else {
      std::fprintf(stderr, "usage: %s [--port N] [--kubeconfig-out FILE] [--without-crd]\n", argv[0]);
      return 2;
    }
  }
  schemagate::testing::FakeApiServer server(port, with_crd);
  server.set_verbose(true);
  if (!kubeconfig.empty()) server.WriteKubeconfig(kubeconfig);
  std::printf("%s\n", server.url().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "apiserver: listening on %s%s%s\n", server.url().c_str(),
               kubeconfig.empty() ? "" : ", kubeconfig written to ", kubeconfig.c_str());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}
