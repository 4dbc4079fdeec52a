#include "operator/kubelet_sim.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "kube/client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {
namespace {

using kube::GetField;
using kube::GetInt;
using kube::GetString;
using kube::Json;

}  // namespace

struct KubeletSimulator::Impl {
  Options options;
  std::unique_ptr<kube::Client> client;
  std::atomic<bool> stop{false};
  std::thread watcher, deployment_watcher;
  std::mutex mu;
  std::set<std::string> seen;  // job uids
  std::map<std::string, std::string> templates;  // deployment uid -> its pod template last rolled out
  std::vector<std::thread> pods;
  // Pod threads that have returned, joined at the next Consider: an unjoined
  // thread keeps its stack mapped, and every fork of a pod's process then
  // copies more mappings (1,000 runs grew each fork about fivefold).
  std::vector<std::thread::id> finished;
  std::atomic<int> started{0}, running{0}, max_running{0};
  std::mt19937 rng{7};
  std::optional<std::string> image_user;  // container mode: the image's USER

  // Watches `resource` (jobs or deployments) and runs a pod for each new one.
  void Watch(const std::string& group, const std::string& resource) {
    const std::string path = kube::ResourcePath(group, "v1", resource, "");
    std::string rv;
    while (!stop.load()) {
      if (rv.empty()) {
        kube::ApiResponse list = client->Get(path);
        if (!list.ok()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        rv = GetString(list.body, {"metadata", "resourceVersion"});
        if (const Json* items = GetField(list.body, {"items"}); items && items->is_array()) {
          for (const Json& j : items->as_array()) Consider(j);
        }
      }
      bool gone = false;
      client->Watch(path, "", rv, 30,
                    [&](const kube::WatchEvent& e) {
                      if (e.type == "ERROR") {
                        gone = true;
                        return false;
                      }
                      std::string new_rv = GetString(e.object, {"metadata", "resourceVersion"});
                      if (!new_rv.empty()) rv = new_rv;
                      if (e.type == "ADDED" || e.type == "MODIFIED") Consider(e.object);
                      return !stop.load();
                    },
                    stop);
      if (gone) rv.clear();
      if (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void Consider(const Json& job) {
    const bool is_job = GetString(job, {"kind"}) == "Job";
    if (is_job && GetField(job, {"status", "conditions"}) != nullptr) return;  // finished
    const std::string uid = GetString(job, {"metadata", "uid"});
    std::lock_guard<std::mutex> l(mu);
    if (is_job) {
      if (!seen.insert(uid).second) return;
    } else {
      // A Deployment whose pod template changed rolls out a new pod (a new
      // ReplicaSet, or an old one scaled up again on a rollback); one
      // re-applied unchanged does not.
      const Json* tmpl = GetField(job, {"spec", "template"});
      std::string& last = templates[uid];
      const std::string now = tmpl ? tmpl->serialize() : "";
      if (last == now) return;
      last = now;
    }
    for (const std::thread::id& id : finished) {
      auto it = std::find_if(pods.begin(), pods.end(), [&id](const std::thread& t) { return t.get_id() == id; });
      if (it == pods.end()) continue;
      it->join();
      pods.erase(it);
    }
    finished.clear();
    pods.emplace_back([this, job] {
      RunPod(job);
      std::lock_guard<std::mutex> l(mu);
      finished.push_back(std::this_thread::get_id());
    });
  }

  // Resolves a container's environment the way the kubelet does.
  bool ResolveEnv(const Json& container, const std::string& ns, const std::string& pod_name,
                  std::map<std::string, std::string>* env, std::string* error) {
    const Json* list = GetField(container, {"env"});
    if (list == nullptr || !list->is_array()) return true;
    for (const Json& e : list->as_array()) {
      const std::string name = GetString(e, {"name"});
      if (GetField(e, {"value"})) {
        (*env)[name] = GetString(e, {"value"});
      } else if (GetField(e, {"valueFrom", "secretKeyRef"})) {
        const std::string secret = GetString(e, {"valueFrom", "secretKeyRef", "name"});
        const std::string key = GetString(e, {"valueFrom", "secretKeyRef", "key"});
        // A real kubelet never fails a container over a server error: it
        // retries (the API faults the soak injects would otherwise fail runs).
        kube::ApiResponse s = client->Get(kube::ResourcePath("", "v1", "secrets", ns, secret));
        for (int tries = 0; (s.status == 0 || s.status >= 500) && tries < 300; ++tries) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          s = client->Get(kube::ResourcePath("", "v1", "secrets", ns, secret));
        }
        const Json* data = GetField(s.body, {"data", key.c_str()});
        if (!s.ok() || data == nullptr || !data->is_string()) {
          *error = "secret \"" + secret + "\" key \"" + key + "\" not found";
          return false;
        }
        (*env)[name] = Base64Decode(data->as_string()).value_or("");
      } else if (GetField(e, {"valueFrom", "fieldRef"})) {
        const std::string field = GetString(e, {"valueFrom", "fieldRef", "fieldPath"});
        (*env)[name] = field == "metadata.namespace" ? ns : pod_name;
      }
    }
    return true;
  }

  // The user the image runs as without runAsUser (its USER), asked once.
  std::string ImageUser() {
    std::lock_guard<std::mutex> l(mu);
    if (!image_user) {
      RunResult r = RunProcess({"podman", "image", "inspect", "--format", "{{.Config.User}}", options.container_image});
      image_user = r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "";
    }
    return *image_user;
  }

  // Runs container `c` of `pod` from the image as the kubelet would (see the
  // header); exit code 128+ for a container the kubelet would not start.
  RunResult RunContainer(const Json& pod, const Json& c, const std::map<std::string, std::string>& env,
                         const std::string& pod_root, const std::vector<std::string>& config_map_mounts,
                         const std::string& term_file, std::chrono::seconds timeout) {
    const std::string name = "sg-kubelet-" + std::to_string(getpid()) + "-" +
                             GetString(pod, {"metadata", "name"}) + "-" + GetString(c, {"name"});
    // runc, not crun, and explicit process limits: where cgroups are hybrid
    // and RLIMIT_NOFILE cannot be raised (as on the CI machines) the defaults
    // fail. The host network: the test database listens on 127.0.0.1.
    std::vector<std::string> argv{"podman", "--runtime", "runc", "run", "--rm", "--name", name, "--pull", "never",
                                  "--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit",
                                  "nproc=4096:4096"};
    // securityContext: the container's fields over the pod's (the user and
    // runAsNonRoot may be set on either; the rest only on the container).
    auto security = [&](const char* field) -> const Json* {
      if (const Json* v = GetField(c, {"securityContext", field})) return v;
      return GetField(pod, {"spec", "securityContext", field});
    };
    const std::string image_user = ImageUser();
    std::string uid = image_user.substr(0, image_user.find(':'));
    std::string user;  // --user: only what the pod sets
    if (const Json* v = security("runAsUser"); v && v->is_integer()) user = uid = std::to_string(v->as_integer());
    if (const Json* gid = security("runAsGroup"); gid && gid->is_integer()) {
      user = uid + ":" + std::to_string(gid->as_integer());
    }
    if (const Json* non_root = security("runAsNonRoot"); non_root && non_root->is_boolean() && non_root->as_bool()) {
      if (uid.empty() || uid == "0" || uid == "root") {
        RunResult refused;
        refused.exit_code = 128;
        refused.err = "container has runAsNonRoot and image will run as root";
        return refused;
      }
    }
    if (!user.empty()) argv.insert(argv.end(), {"--user", user});
    if (const Json* ro = GetField(c, {"securityContext", "readOnlyRootFilesystem"}); ro && ro->is_boolean() && ro->as_bool()) {
      argv.insert(argv.end(), {"--read-only", "--read-only-tmpfs=false"});  // no tmpfs a kubelet would not add
    }
    if (const Json* ape = GetField(c, {"securityContext", "allowPrivilegeEscalation"});
        ape && ape->is_boolean() && !ape->as_bool()) {
      argv.insert(argv.end(), {"--security-opt", "no-new-privileges"});
    }
    for (const char* verb : {"drop", "add"}) {
      if (const Json* caps = GetField(c, {"securityContext", "capabilities", verb}); caps && caps->is_array()) {
        for (const Json& cap : caps->as_array()) argv.insert(argv.end(), {std::string("--cap-") + verb, cap.as_string()});
      }
    }
    // Values go through podman's environment, not its command line.
    RunOptions ro;
    ro.env = env;
    ro.timeout = timeout;
    for (const auto& kv : env) argv.insert(argv.end(), {"--env", kv.first});
    // The termination message file, writable by any user the pod runs as.
    WriteFile(term_file, "");
    std::filesystem::permissions(term_file, std::filesystem::perms(0666));
    std::string term_path = GetString(c, {"terminationMessagePath"});
    argv.insert(argv.end(), {"--volume", term_file + ":" + (term_path.empty() ? "/dev/termination-log" : term_path)});
    // The ConfigMap volumes this container mounts.
    if (const Json* vm = GetField(c, {"volumeMounts"}); vm && vm->is_array()) {
      for (const Json& m : vm->as_array()) {
        const std::string path = GetString(m, {"mountPath"});
        if (std::find(config_map_mounts.begin(), config_map_mounts.end(), path) == config_map_mounts.end()) continue;
        std::filesystem::create_directories(pod_root + path);
        argv.insert(argv.end(), {"--volume", pod_root + path + ":" + path + ":ro"});
      }
    }
    // The test's directories for this image (its /migrations), read-only.
    std::map<std::string, std::string> paths = options.paths;
    if (auto by_image = options.image_paths.find(GetString(c, {"image"})); by_image != options.image_paths.end()) {
      for (const auto& kv : by_image->second) paths[kv.first] = kv.second;
    }
    for (const auto& [container_path, host_path] : paths) {
      if (std::filesystem::exists(host_path)) argv.insert(argv.end(), {"--volume", host_path + ":" + container_path + ":ro"});
    }
    if (const Json* dir = GetField(c, {"workingDir"}); dir && dir->is_string()) {
      argv.insert(argv.end(), {"--workdir", dir->as_string()});
    }
    if (const Json* command = GetField(c, {"command"}); command && command->is_array()) {
      argv.insert(argv.end(), {"--entrypoint", command->serialize()});
    }
    argv.push_back(options.container_image);
    const size_t first_arg = argv.size();
    if (const Json* args = GetField(c, {"args"}); args && args->is_array()) {
      for (const Json& a : args->as_array()) argv.push_back(a.as_string());
    }
    // The product's output, recorded under its command for the secrets grep.
    ro.product_command = (argv.size() > first_arg ? argv[first_arg] : std::string("")) + " (in the image)";
    RunResult r = RunProcess(argv, ro);
    if (r.timed_out) RunProcess({"podman", "rm", "--force", name});
    return r;
  }

  Json Terminated(int code, const std::string& message, const std::string& started) {
    Json t = Json::object();
    t["exitCode"] = Json::number(code);
    t["reason"] = Json::string(code == 0 ? "Completed" : "Error");
    t["message"] = Json::string(message);
    t["startedAt"] = Json::string(started);
    t["finishedAt"] = Json::string(NowUtc());
    Json state = Json::object();
    state["terminated"] = t;
    return state;
  }

  void RunPod(Json job) {
    const bool is_job = GetString(job, {"kind"}) == "Job";
    ++started;
    int now_running = ++running;
    int prev = max_running.load();
    while (now_running > prev && !max_running.compare_exchange_weak(prev, now_running)) {
    }
    const std::string ns = GetString(job, {"metadata", "namespace"});
    const std::string job_name = GetString(job, {"metadata", "name"});
    std::string pod_name;
    {
      std::lock_guard<std::mutex> l(mu);
      pod_name = job_name + "-" + std::to_string(10000 + rng() % 90000);
    }
    Json pod = Json::object();
    pod["metadata"]["name"] = Json::string(pod_name);
    pod["metadata"]["namespace"] = Json::string(ns);
    Json labels = GetField(job, {"spec", "template", "metadata", "labels"}) ? *GetField(job, {"spec", "template", "metadata", "labels"}) : Json::object();
    if (is_job) {
      labels["job-name"] = Json::string(job_name);
      labels["controller-uid"] = Json::string(GetString(job, {"metadata", "uid"}));
    }
    pod["metadata"]["labels"] = labels;
    Json owner = Json::object();
    owner["apiVersion"] = Json::string(is_job ? "batch/v1" : "apps/v1");
    owner["kind"] = Json::string(is_job ? "Job" : "Deployment");
    owner["name"] = Json::string(job_name);
    owner["uid"] = Json::string(GetString(job, {"metadata", "uid"}));
    pod["metadata"]["ownerReferences"] = Json::array({owner});
    pod["spec"] = *GetField(job, {"spec", "template", "spec"});
    kube::ApiResponse created = client->Create(kube::ResourcePath("", "v1", "pods", ns), pod);
    if (created.ok()) pod = created.body;
    pod["status"]["phase"] = Json::string("Running");
    pod["status"]["startTime"] = Json::string(NowUtc());

    // ConfigMap volumes (plain or projected) become directories under the pod's own
    // root; container paths at or above a mount point are mapped there.
    const std::string pod_root = options.work_dir + "/" + pod_name + "-root";
    std::vector<std::string> mounts;
    if (const Json* volumes = GetField(pod, {"spec", "volumes"}); volumes && volumes->is_array()) {
      for (const Json& v : volumes->as_array()) {
        std::string mount_path;
        for (const char* kind : {"initContainers", "containers"}) {
          const Json* list = GetField(pod, {"spec", kind});
          if (list == nullptr || !list->is_array()) continue;
          for (const Json& c : list->as_array()) {
            if (const Json* vm = GetField(c, {"volumeMounts"}); vm && vm->is_array()) {
              for (const Json& m : vm->as_array()) {
                if (GetString(m, {"name"}) == GetString(v, {"name"})) mount_path = GetString(m, {"mountPath"});
              }
            }
          }
        }
        std::vector<std::string> config_maps;  // a configMap volume, or a projected one's sources
        if (const Json* sources = GetField(v, {"projected", "sources"}); sources && sources->is_array()) {
          for (const Json& src : sources->as_array()) config_maps.push_back(GetString(src, {"configMap", "name"}));
        } else if (GetField(v, {"configMap", "name"}) != nullptr) {
          config_maps.push_back(GetString(v, {"configMap", "name"}));
        }
        if (mount_path.empty() || config_maps.empty()) continue;
        mounts.push_back(mount_path);
        for (const std::string& cm : config_maps) {
          kube::ApiResponse r = client->Get(kube::ResourcePath("", "v1", "configmaps", ns, cm));
          if (const Json* data = GetField(r.body, {"data"}); r.ok() && data && data->is_object()) {
            for (const auto& kv : data->as_object()) {
              WriteFile(pod_root + mount_path + "/" + kv.first, kv.second.as_string());
            }
          }
        }
      }
    }
    auto map_path = [&](const std::string& v, const std::string& image) {
      for (const std::string& m : mounts) {
        if (!v.empty() && v[0] == '/' && (m.rfind(v, 0) == 0 || v.rfind(m, 0) == 0)) return pod_root + v;
      }
      if (auto by_image = options.image_paths.find(image); by_image != options.image_paths.end()) {
        if (auto mapped = by_image->second.find(v); mapped != by_image->second.end()) return mapped->second;
      }
      auto mapped = options.paths.find(v);
      return mapped == options.paths.end() ? v : mapped->second;
    };

    bool failed = false;
    std::string failure;
    for (const char* kind : {"initContainers", "containers"}) {
      const Json* list = GetField(pod, {"spec", kind});
      if (list == nullptr || !list->is_array() || failed) continue;
      std::vector<Json> statuses;
      for (const Json& c : list->as_array()) {
        const std::string started_at = NowUtc();
        if (GetString(c, {"image"}).find("schemagate") == std::string::npos) {
          // Not our image (the app itself): it starts and keeps running.
          Json st = Json::object();
          st["name"] = Json::string(GetString(c, {"name"}));
          st["state"]["running"]["startedAt"] = Json::string(started_at);
          st["ready"] = Json::boolean(true);
          st["restartCount"] = Json::number(0);
          statuses.push_back(st);
          continue;
        }
        std::map<std::string, std::string> env;
        std::string error;
        int code;
        std::string message;
        const std::string term_file =
            options.work_dir + "/" + pod_name + "-" + GetString(c, {"name"}) + ".termination-log";
        const auto timeout = std::chrono::seconds(GetInt(job, {"spec", "activeDeadlineSeconds"}, 600));
        if (!ResolveEnv(c, ns, pod_name, &env, &error)) {
          code = 1;
          message = error;
        } else {
          RunResult r;
          if (options.container_image.empty()) {
            std::vector<std::string> argv{options.binary};
            if (const Json* args = GetField(c, {"args"}); args && args->is_array()) {
              for (const Json& a : args->as_array()) {
                std::string v = a.as_string();
                argv.push_back(v == "/dev/termination-log" ? term_file : map_path(v, GetString(c, {"image"})));
              }
            }
            RunOptions ro;
            ro.env = env;
            ro.env["KUBERNETES_SERVICE_HOST"] = kUnset;
            ro.timeout = timeout;
            r = RunProcess(argv, ro);
          } else {
            r = RunContainer(pod, c, env, pod_root, mounts, term_file, timeout);
          }
          code = r.exit_code;
          message = ReadFile(term_file);
          if (message.empty() && code != 0) {  // FallbackToLogsOnError
            message = r.err.size() > 2048 ? r.err.substr(r.err.size() - 2048) : r.err;
          }
          if (message.size() > 4096) message = message.substr(0, 4096);
        }
        Json st = Json::object();
        st["name"] = Json::string(GetString(c, {"name"}));
        st["state"] = Terminated(code, message, started_at);
        st["ready"] = Json::boolean(false);
        st["restartCount"] = Json::number(0);
        statuses.push_back(st);
        if (code != 0) {
          failed = true;
          failure = GetString(c, {"name"}) + " exited with " + std::to_string(code);
          break;
        }
      }
      pod["status"][std::string(kind) == "initContainers" ? "initContainerStatuses" : "containerStatuses"] =
          Json::array(statuses);
    }
    pod["status"]["phase"] = Json::string(failed ? "Failed" : is_job ? "Succeeded" : "Running");
    if (options.verbose) {
      std::fprintf(stderr, "kubelet: pod %s/%s %s%s\n", ns.c_str(), pod_name.c_str(), failed ? "failed: " : "succeeded",
                   failure.c_str());
    }
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (client->Replace(kube::ResourcePath("", "v1", "pods", ns, pod_name) + "/status", pod).ok()) break;
      kube::ApiResponse fresh = client->Get(kube::ResourcePath("", "v1", "pods", ns, pod_name));
      if (fresh.ok()) pod["metadata"]["resourceVersion"] = fresh.body["metadata"]["resourceVersion"];
    }

    --running;  // the pod is done before its Job says so, as on a real node
    // The Job controller's part: record the outcome on the Job.
    for (int attempt = 0; is_job && attempt < 10; ++attempt) {
      kube::ApiResponse j = client->Get(kube::ResourcePath("batch", "v1", "jobs", ns, job_name));
      if (!j.ok()) break;
      Json cur = j.body;
      Json cond = Json::object();
      cond["type"] = Json::string(failed ? "Failed" : "Complete");
      cond["status"] = Json::string("True");
      cond["reason"] = Json::string(failed ? "BackoffLimitExceeded" : "Completed");
      cond["message"] = Json::string(failed ? failure : "");
      cond["lastTransitionTime"] = Json::string(NowUtc());
      cur["status"]["conditions"] = Json::array({cond});
      cur["status"][failed ? "failed" : "succeeded"] = Json::number(1);
      cur["status"]["startTime"] = pod["status"]["startTime"];
      if (!failed) cur["status"]["completionTime"] = Json::string(NowUtc());
      if (client->Replace(kube::ResourcePath("batch", "v1", "jobs", ns, job_name) + "/status", cur).ok()) break;
    }
  }
};

KubeletSimulator::KubeletSimulator(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  kube::ClusterConfig c;
  c.server = impl_->options.api_url;
  impl_->client = std::make_unique<kube::Client>(kube::MakeHttpTransport(c, std::chrono::seconds(60)));
  impl_->watcher = std::thread([this] { impl_->Watch("batch", "jobs"); });
  impl_->deployment_watcher = std::thread([this] { impl_->Watch("apps", "deployments"); });
}

KubeletSimulator::~KubeletSimulator() {
  impl_->stop = true;
  impl_->watcher.join();
  impl_->deployment_watcher.join();
  std::vector<std::thread> pods;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    pods.swap(impl_->pods);
  }
  for (auto& t : pods) t.join();
}

int KubeletSimulator::pods_started() const { return impl_->started.load(); }
int KubeletSimulator::max_concurrent_pods() const { return impl_->max_running.load(); }

}  // namespace schemagate::testing
