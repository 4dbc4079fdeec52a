// The Kubernetes side of the CLI: `schemagate operator` (the controller; it
// holds no database credentials and runs no SQL, it starts runner Jobs and
// reads their reports) and `wait --migration`. Linked only into
// schemagate-operator, with cpprestsdk.
#include "cli/kube_commands.h"

#include <csignal>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/duration.h"
#include "kube/client.h"
#include "operator/controller.h"
#include "operator/migration.h"

namespace schemagate::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

Status RunOperator(Context& ctx, const po::variables_map& vm) {
  // The flags first: a typo is reported as such, not as a cluster problem.
  if (vm["max-concurrent-runs"].as<int>() < 1) return Status::Usage("--max-concurrent-runs must be at least 1");
  auto announce_after = ParseDuration(vm["run-started-event-after"].as<std::string>());
  if (!announce_after.ok()) return announce_after.status().Prefixed("--run-started-event-after");
  auto cluster = kube::ResolveClusterConfig(vm.count("kubeconfig") ? vm["kubeconfig"].as<std::string>() : "",
                                            vm.count("context") ? vm["context"].as<std::string>() : "",
                                            ProcessEnvironment());
  if (!cluster.ok()) return cluster.status();
  op::ControllerOptions o;
  o.cluster = *cluster;
  o.watch_namespace = vm.count("namespace") ? vm["namespace"].as<std::string>() : "";
  o.leader_elect = vm["leader-elect"].as<bool>();
  const char* pod_ns = std::getenv("POD_NAMESPACE");
  o.lease_namespace = vm.count("leader-elect-namespace") ? vm["leader-elect-namespace"].as<std::string>()
                      : pod_ns != nullptr                ? pod_ns
                      : !cluster->namespace_.empty()     ? cluster->namespace_
                                                         : "default";
  o.identity = Context::ClientName() + "_" + std::to_string(getpid());
  o.metrics_addr = vm["metrics-addr"].as<std::string>();
  o.health_addr = vm["health-addr"].as<std::string>();
  o.max_concurrent_runs = vm["max-concurrent-runs"].as<int>();
  o.runner_image = vm["runner-image"].as<std::string>();
  o.run_started_event_after = *announce_after;
  Output& out = ctx.out();
  o.log = [&out](const std::string& level, const std::string& msg) {
    if (level == "error" || level == "warning") out.Warn(msg, {{"component", "operator"}});
    else out.Info(msg, {{"component", "operator"}});
  };
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  out.Info("schemagate operator " SCHEMAGATE_VERSION " using " + cluster->source + " (" + cluster->server + ")" +
               (o.watch_namespace.empty() ? ", all namespaces" : ", namespace " + o.watch_namespace),
           {{"event", "start"}});
  return op::RunController(o, g_stop);
}

Status WaitForMigration(Context& ctx, const po::variables_map& vm, std::chrono::milliseconds timeout,
                        std::chrono::milliseconds interval) {
  auto cluster = kube::ResolveClusterConfig(vm.count("kubeconfig") ? vm["kubeconfig"].as<std::string>() : "", "",
                                            ProcessEnvironment());
  if (!cluster.ok()) return cluster.status();
  const std::string name = vm["migration"].as<std::string>();
  std::string ns = vm.count("namespace") ? vm["namespace"].as<std::string>() : cluster->namespace_;
  if (ns.empty()) ns = "default";
  kube::Client client(kube::MakeHttpTransport(*cluster, std::chrono::seconds(30)));
  const std::string path = kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", ns, name);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  auto next_report = Clock::now();
  std::string last = "not read yet";
  while (true) {
    kube::ApiResponse r = client.Get(path);
    if (r.ok()) {
      const int64_t gen = kube::GetInt(r.body, {"metadata", "generation"}, 0);
      const int64_t observed = kube::GetInt(r.body, {"status", "observedGeneration"}, -1);
      const kube::Json status = r.body.has_field("status") ? r.body.at("status") : kube::Json::object();
      const std::string ready = op::ConditionStatus(status, "Ready");
      const std::string current = kube::GetString(r.body, {"status", "currentRevision"});
      // Ready for an older spec is not ready: the generation must match.
      if (ready == "True" && observed == gen) {
        ctx.out().Info("Migration " + ns + "/" + name + " is Ready at " + current);
        return Status::Ok();
      }
      last = "Ready=" + (ready.empty() ? std::string("Unknown") : ready) + " observedGeneration=" +
             std::to_string(observed) + "/" + std::to_string(gen) + " current=" + (current.empty() ? "none" : current);
    } else if (r.status == 403 || r.status == 401) {
      return Status::Usage("reading Migration " + ns + "/" + name + ": " + r.Describe() +
                           " (the service account needs get on migrations.schemagate.io)");
    } else {
      last = r.Describe();
    }
    auto now = Clock::now();
    if (now >= deadline) {
      return Status::NotAtTarget("timed out waiting for Migration " + ns + "/" + name + " to be Ready: " + last);
    }
    if (now >= next_report) {
      ctx.out().Info("Waiting for Migration " + ns + "/" + name + ": " + last, {{"event", "waiting"}});
      next_report = now + std::chrono::seconds(10);
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(interval, deadline - now));
  }
}

}  // namespace

const KubeHooks& KubeCommandHooks() {
  static const KubeHooks hooks{RunOperator, WaitForMigration};
  return hooks;
}

}  // namespace schemagate::cli
