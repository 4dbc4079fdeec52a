// sg-kubelet-sim: the kubelet simulator as a program.
//   sg-kubelet-sim --server URL --binary build/schemagate --map /migrations=./migrations
//   [--image schemagate:0.1.0]   (container mode: pods run from that image with podman)
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "operator/kubelet_sim.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  schemagate::testing::KubeletSimulator::Options o;
  o.work_dir = std::filesystem::temp_directory_path().string();
  o.verbose = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--server" && i + 1 < argc) o.api_url = argv[++i];
    else if (a == "--binary" && i + 1 < argc) o.binary = argv[++i];
    else if (a == "--work-dir" && i + 1 < argc) o.work_dir = argv[++i];
    else if (a == "--image" && i + 1 < argc) o.container_image = argv[++i];
    else if (a == "--map" && i + 1 < argc) {
      std::string m = argv[++i];
      size_t eq = m.find('=');
      if (eq == std::string::npos) return 2;
      o.paths[m.substr(0, eq)] = std::filesystem::absolute(m.substr(eq + 1)).string();
    } else {
      std::fprintf(stderr, "usage: %s --server URL --binary PATH [--map CONTAINER_PATH=HOST_PATH] [--work-dir DIR] [--image IMAGE]\n",
                   argv[0]);
      return 2;
    }
  }
  if (o.api_url.empty() || o.binary.empty()) {
    std::fprintf(stderr, "kubelet: --server and --binary are required\n");
    return 2;
  }
  o.binary = std::filesystem::absolute(o.binary).string();
  std::fprintf(stderr, "kubelet: running Jobs from %s with %s\n", o.api_url.c_str(),
               o.container_image.empty() ? o.binary.c_str() : ("the image " + o.container_image).c_str());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  schemagate::testing::KubeletSimulator sim(o);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}
