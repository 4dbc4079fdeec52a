// Where the Kubernetes API server is and how to authenticate to it:
// kubeconfig files (KUBECONFIG, contexts, CA/cert/key as data or files,
// bearer tokens) and in-cluster service-account configuration.
#ifndef SCHEMAGATE_KUBE_CONFIG_H_
#define SCHEMAGATE_KUBE_CONFIG_H_

#include <functional>
#include <optional>
#include <string>

#include "core/status.h"

namespace schemagate::kube {

struct ClusterConfig {
  std::string server;          // https://host:port (no trailing slash)
  std::string ca_pem;          // CA bundle (PEM); empty: system roots
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;           // static bearer token
  std::string token_file;      // re-read as it rotates (in-cluster)
  bool insecure_skip_tls_verify = false;
  std::string namespace_;      // the context's or the pod's namespace
  std::string source;          // "kubeconfig /path (context x)" / "in-cluster", for messages

  // The bearer token to send now ("" for none): token_file wins and is
  // re-read so rotated projected tokens keep working.
  std::string BearerToken() const;
};

using GetEnvFn = std::function<std::optional<std::string>(const std::string&)>;

// Parses a kubeconfig document. `context` "" = current-context. Relative
// file paths are resolved against `base_dir`. kUsage with what is wrong.
Result<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& context,
                                      const std::string& base_dir, const std::string& path_for_messages);

// The in-cluster configuration from KUBERNETES_SERVICE_HOST/PORT and the
// service-account files under `sa_dir` (default
// /var/run/secrets/kubernetes.io/serviceaccount).
Result<ClusterConfig> InClusterConfig(const GetEnvFn& getenv,
                                      const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// --kubeconfig, else $KUBECONFIG (first file of a colon list), else
// in-cluster when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
Result<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig_flag, const std::string& context,
                                           const GetEnvFn& getenv);

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_CONFIG_H_
