#include "kube/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/encoding.h"

namespace schemagate::kube {
namespace {

namespace fs = std::filesystem;

// Kubeconfigs, certificates, keys and tokens are small. A bound keeps a
// path such as /dev/zero (or a huge file named by mistake) from eating all
// memory; more than that reads as unreadable.
constexpr std::streamsize kMaxConfigFileBytes = 4 << 20;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (static_cast<std::streamsize>(out.size()) > kMaxConfigFileBytes) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  return out;
}

Result<std::string> Base64Decode(const std::string& in, const std::string& what) {
  auto out = schemagate::Base64Decode(in);
  if (!out) return Status::Usage(what + " is not valid base64");
  return *out;
}

// "" unless `n` is a mapping with a scalar at `key` (yaml-cpp throws for a
// key looked up in a scalar, and a kubeconfig may hold one anywhere).
std::string Str(const YAML::Node& n, const char* key) {
  return n && n.IsMap() && n[key] && n[key].IsScalar() ? n[key].as<std::string>() : "";
}

// Named entry `name` of a kubeconfig list (clusters, users, contexts).
YAML::Node Named(const YAML::Node& root, const char* list, const std::string& name, const char* field) {
  if (!root[list] || !root[list].IsSequence()) return YAML::Node();
  for (const auto& item : root[list]) {
    // A scalar entry has no name, but "" (a context without cluster) matches.
    if (item.IsMap() && Str(item, "name") == name) return item[field];
  }
  return YAML::Node();
}

// `<key>-data` (base64) or `<key>` (a file path, relative to the kubeconfig).
Result<std::string> DataOrFile(const YAML::Node& n, const std::string& key, const std::string& base_dir,
                               const std::string& where) {
  std::string data = Str(n, (key + "-data").c_str());
  if (!data.empty()) return Base64Decode(data, where + " " + key + "-data");
  std::string file = Str(n, key.c_str());
  if (file.empty()) return std::string();
  fs::path p(file);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  auto text = ReadText(p.string());
  if (!text) {
    return Status::Usage(where + " " + key + ": cannot read " + p.string() + " (missing, unreadable, or over " +
                         std::to_string(kMaxConfigFileBytes >> 20) + " MiB)");
  }
  return *text;
}

}  // namespace

std::string ClusterConfig::BearerToken() const {
  if (!token_file.empty()) {
    if (auto t = ReadText(token_file)) {
      std::string s = *t;
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      return s;
    }
  }
  return token;
}

Result<ClusterConfig> ParseKubeconfig(const std::string& text, const std::string& context_flag,
                                      const std::string& base_dir, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::Usage(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) return Status::Usage(path + ": not a kubeconfig (expected a mapping)");
  std::string context = context_flag.empty() ? Str(root, "current-context") : context_flag;
  if (context.empty()) return Status::Usage(path + ": no current-context; pass --context");
  YAML::Node ctx = Named(root, "contexts", context, "context");
  if (!ctx || ctx.IsNull()) return Status::Usage(path + ": context '" + context + "' not found");
  const std::string cluster_name = Str(ctx, "cluster"), user_name = Str(ctx, "user");
  YAML::Node cluster = Named(root, "clusters", cluster_name, "cluster");
  if (!cluster || cluster.IsNull()) return Status::Usage(path + ": cluster '" + cluster_name + "' (context " + context + ") not found");
  YAML::Node user = Named(root, "users", user_name, "user");

  ClusterConfig c;
  c.source = "kubeconfig " + path + " (context " + context + ")";
  c.server = Str(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty()) return Status::Usage(path + ": cluster '" + cluster_name + "' has no server");
  c.insecure_skip_tls_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  auto ca = DataOrFile(cluster, "certificate-authority", base_dir, path + ": cluster " + cluster_name);
  if (!ca.ok()) return ca.status();
  c.ca_pem = *ca;
  if (user && !user.IsNull()) {
    auto cert = DataOrFile(user, "client-certificate", base_dir, path + ": user " + user_name);
    if (!cert.ok()) return cert.status();
    auto key = DataOrFile(user, "client-key", base_dir, path + ": user " + user_name);
    if (!key.ok()) return key.status();
    c.client_cert_pem = *cert;
    c.client_key_pem = *key;
    c.token = Str(user, "token");
    std::string token_file = Str(user, "tokenFile");
    if (!token_file.empty()) {
      fs::path p(token_file);
      if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
      c.token_file = p.string();
    }
  }
  c.namespace_ = Str(ctx, "namespace");
  return c;
}

Result<ClusterConfig> InClusterConfig(const GetEnvFn& getenv, const std::string& sa_dir) {
  auto host = getenv("KUBERNETES_SERVICE_HOST");
  auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty()) {
    return Status::Usage("not running in a cluster (KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig");
  }
  ClusterConfig c;
  c.source = "in-cluster service account";
  std::string h = *host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + (port && !port->empty() ? *port : "443");
  c.token_file = sa_dir + "/token";
  if (!ReadText(c.token_file)) return Status::Usage("cannot read the service-account token " + c.token_file);
  auto ca = ReadText(sa_dir + "/ca.crt");
  if (!ca) return Status::Usage("cannot read the service-account CA " + sa_dir + "/ca.crt");
  c.ca_pem = *ca;
  if (auto ns = ReadText(sa_dir + "/namespace")) c.namespace_ = *ns;
  return c;
}

Result<ClusterConfig> ResolveClusterConfig(const std::string& flag, const std::string& context,
                                           const GetEnvFn& getenv) {
  std::string path = flag;
  if (path.empty()) {
    if (auto env = getenv("KUBECONFIG"); env && !env->empty()) {
      path = env->substr(0, env->find(':'));
    } else if (auto host = getenv("KUBERNETES_SERVICE_HOST"); host && !host->empty()) {
      return InClusterConfig(getenv);
    } else if (auto home = getenv("HOME"); home && !home->empty()) {
      path = *home + "/.kube/config";
    }
  }
  if (path.empty()) return Status::Usage("no kubeconfig: pass --kubeconfig or set KUBECONFIG");
  auto text = ReadText(path);
  if (!text) return Status::Usage("cannot read kubeconfig " + path);
  return ParseKubeconfig(*text, context, fs::path(path).parent_path().string(), path);
}

}  // namespace schemagate::kube
