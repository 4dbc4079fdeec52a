// Plays the node for the test API server: for each runner Job (and each
// Deployment template, as a new ReplicaSet would) it creates the Pod, runs the pod's init containers and containers as real processes of
// the real schemagate binary (env from the referenced Secrets, the
// termination-log path mapped to a file), and writes Pod and Job status with
// the termination messages, as a kubelet and the Job controller would.
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
