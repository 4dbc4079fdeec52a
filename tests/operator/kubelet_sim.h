// Plays the node for the test API server: for each runner Job (and each
// Deployment template, as a new ReplicaSet would) it creates the Pod, runs the
// pod's schemagate init containers and containers, and writes Pod and Job
// status with the termination messages, as a kubelet and the Job controller
// would. Containers of other images (the app itself) are only marked running.
//
// Two modes. Process mode (the default, fast): each container is a process of
// the real schemagate binary, its env resolved (Secrets too), container paths
// in its args mapped to host paths, the termination-log path to a file.
// Container mode (Options::container_image set): each container runs from that
// locally built image with podman, as the kubelet would run it: the pod's
// command and args, env (secretKeyRef resolved here, passed by name), the
// securityContext (runAsUser/runAsGroup, runAsNonRoot, readOnlyRootFilesystem,
// allowPrivilegeEscalation, dropped capabilities), projected ConfigMap volumes
// mounted read-only, and a host file mounted at terminationMessagePath. The
// mapped host paths are mounted read-only at their container paths; the
// network is the host's, so a database on 127.0.0.1 is reachable.
#ifndef SCHEMAGATE_TESTS_OPERATOR_KUBELET_SIM_H_
#define SCHEMAGATE_TESTS_OPERATOR_KUBELET_SIM_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

namespace schemagate::testing {

class KubeletSimulator {
 public:
  struct Options {
    std::string api_url;                         // the API server
    std::string binary;                          // what every image runs
    std::map<std::string, std::string> paths;    // container path -> host path (e.g. /migrations)
    // Per image (as the pod spec names it), container path -> host path,
    // before `paths`: two tags of the runner image with different bundled
    // migrations, as releases N and N+1.
    std::map<std::string, std::map<std::string, std::string>> image_paths;
    std::string work_dir;                        // termination-log files live here
    // Container mode: the local image (e.g. "schemagate:0.1.0") every
    // schemagate image the pods name runs as; "" for process mode.
    std::string container_image;
    bool verbose = false;                        // log each pod to stderr
  };
  explicit KubeletSimulator(Options options);
  ~KubeletSimulator();  // stops watching and waits for running pods
  KubeletSimulator(const KubeletSimulator&) = delete;
  KubeletSimulator& operator=(const KubeletSimulator&) = delete;

  int pods_started() const;
  int max_concurrent_pods() const;  // the most pods running at once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_KUBELET_SIM_H_
