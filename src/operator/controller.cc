#include "operator/controller.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "kube/client.h"
#include "kube/http_server.h"
#include "operator/informer.h"
#include "operator/migration.h"
#include "operator/reconciler.h"
#include "operator/source.h"
#include "operator/waiting_line.h"
#include "operator/work_queue.h"

namespace schemagate::op {
namespace {

using kube::GetInt;
using kube::GetString;

// Prometheus text exposition of the few series we export.
class Metrics {
 public:
  void Reconcile(const std::string& result) {
    std::lock_guard<std::mutex> l(mu_);
    ++reconcile_[result];
  }
  void RunFinished(const std::string& result, double seconds) {
    std::lock_guard<std::mutex> l(mu_);
    ++runs_[result];
    duration_sum_ += seconds;
    ++duration_count_;
    for (double b : kBuckets) {
      if (seconds <= b) ++buckets_[b];
    }
  }
  void Pending(const std::string& key, int n) {
    std::lock_guard<std::mutex> l(mu_);
    pending_[key] = n;
  }
  std::string Render(int64_t requests) const {
    std::lock_guard<std::mutex> l(mu_);
    std::ostringstream o;
    o << "# HELP schemagate_reconcile_total Reconcile passes by result.\n# TYPE schemagate_reconcile_total counter\n";
    for (const auto& [k, v] : reconcile_) o << "schemagate_reconcile_total{result=\"" << k << "\"} " << v << "\n";
    o << "# HELP schemagate_runs_total Finished runner Jobs by result.\n# TYPE schemagate_runs_total counter\n";
    for (const auto& [k, v] : runs_) o << "schemagate_runs_total{result=\"" << k << "\"} " << v << "\n";
    o << "# HELP schemagate_run_duration_seconds Runner Job duration.\n# TYPE schemagate_run_duration_seconds histogram\n";
    for (double b : kBuckets) {
      auto it = buckets_.find(b);
      o << "schemagate_run_duration_seconds_bucket{le=\"" << b << "\"} " << (it == buckets_.end() ? 0 : it->second)
        << "\n";
    }
    o << "schemagate_run_duration_seconds_bucket{le=\"+Inf\"} " << duration_count_ << "\n";
    o << "schemagate_run_duration_seconds_sum " << duration_sum_ << "\n";
    o << "schemagate_run_duration_seconds_count " << duration_count_ << "\n";
    o << "# HELP schemagate_pending_revisions Revisions not yet applied, per Migration.\n"
         "# TYPE schemagate_pending_revisions gauge\n";
    for (const auto& [k, v] : pending_) {
      size_t slash = k.find('/');
      o << "schemagate_pending_revisions{namespace=\"" << k.substr(0, slash) << "\",name=\"" << k.substr(slash + 1)
        << "\"} " << v << "\n";
    }
    o << "# HELP schemagate_api_requests_total Requests sent to the API server.\n"
         "# TYPE schemagate_api_requests_total counter\nschemagate_api_requests_total "
      << requests << "\n";
    return o.str();
  }

 private:
  static constexpr double kBuckets[] = {1, 5, 15, 30, 60, 300, 900};
  mutable std::mutex mu_;
  std::map<std::string, int64_t> reconcile_, runs_;
  std::map<double, int64_t> buckets_;
  std::map<std::string, int> pending_;
  double duration_sum_ = 0;
  int64_t duration_count_ = 0;
};


// One attempt to hold the Lease. True while we are the leader.
bool TryLead(kube::Client& client, const ControllerOptions& o) {
  const std::string path = kube::ResourcePath("coordination.k8s.io", "v1", "leases", o.lease_namespace, o.lease_name);
  const std::string now_micro = NowRfc3339().substr(0, 19) + ".000000Z";
  kube::ApiResponse got = client.Get(path);
  if (got.status == 404) {
    Json lease = Json::object();
    lease["metadata"]["name"] = Json::string(o.lease_name);
    lease["metadata"]["namespace"] = Json::string(o.lease_namespace);
    lease["spec"]["holderIdentity"] = Json::string(o.identity);
    lease["spec"]["leaseDurationSeconds"] = Json::number(o.lease_seconds);
    lease["spec"]["acquireTime"] = Json::string(now_micro);
    lease["spec"]["renewTime"] = Json::string(now_micro);
    lease["spec"]["leaseTransitions"] = Json::number(0);
    return client.Create(kube::ResourcePath("coordination.k8s.io", "v1", "leases", o.lease_namespace), lease).ok();
  }
  if (!got.ok()) return false;
  Json lease = got.body;
  const std::string holder = GetString(lease, {"spec", "holderIdentity"});
  std::tm tm{};
  std::string renew = GetString(lease, {"spec", "renewTime"});
  bool expired = true;
  if (strptime(renew.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr) {
    expired = timegm(&tm) + GetInt(lease, {"spec", "leaseDurationSeconds"}, o.lease_seconds) < std::time(nullptr);
  }
  if (holder != o.identity && !holder.empty() && !expired) return false;
  if (holder != o.identity) {
    lease["spec"]["holderIdentity"] = Json::string(o.identity);
    lease["spec"]["acquireTime"] = Json::string(now_micro);
    lease["spec"]["leaseTransitions"] = Json::number(GetInt(lease, {"spec", "leaseTransitions"}) + 1);
  }
  lease["spec"]["leaseDurationSeconds"] = Json::number(o.lease_seconds);
  lease["spec"]["renewTime"] = Json::string(now_micro);
  // The resourceVersion in the body makes this a compare-and-swap: two
  // replicas racing for an expired lease cannot both win.
  return client.Replace(path, lease).ok();
}

// "off" (or "0", or nothing) turns a listener off; ":0" / "HOST:0" is a
// free port.
bool ListenerOff(const std::string& address) { return address.empty() || address == "off" || address == "0"; }

}  // namespace

Status RunController(const ControllerOptions& o, const std::atomic<bool>& stop) {
  auto log = [&o](const std::string& level, const std::string& msg) {
    if (o.log) o.log(level, msg);
  };
  // The idle timeout exceeds the watch timeoutSeconds (60) so the server,
  // not the client, ends quiet watches.
  kube::Client client(kube::MakeHttpTransport(o.cluster, std::chrono::seconds(90)));
  Metrics metrics;
  std::atomic<bool> leading{false};
  std::atomic<bool> synced{false};

  std::string error;
  std::unique_ptr<kube::HttpServer> health, metrics_server;
  if (!ListenerOff(o.health_addr)) {
    health = kube::ServeHttp(
        o.health_addr,
        [&](const std::string& path) -> kube::HttpReply {
          if (path == "/healthz") return {200, "ok\n"};
          if (path == "/readyz") return synced.load() ? kube::HttpReply{200, "ok\n"} : kube::HttpReply{503, "caches not synced\n"};
          return {404, "not found\n"};
        },
        &error);
    if (!health) return Status::Usage("--health-addr: " + error);
    log("info", "serving /healthz and /readyz on " + health->address());
  }
  if (!ListenerOff(o.metrics_addr)) {
    metrics_server = kube::ServeHttp(
        o.metrics_addr,
        [&](const std::string& path) -> kube::HttpReply {
          if (path == "/metrics") return {200, metrics.Render(client.requests()), "text/plain; version=0.0.4"};
          return {404, "not found\n"};
        },
        &error);
    if (!metrics_server) return Status::Usage("--metrics-addr: " + error);
    log("info", "serving /metrics on " + metrics_server->address());
  }

  // Leader election first: a follower holds no caches and does nothing.
  if (o.leader_elect) {
    log("info", "waiting to acquire lease " + o.lease_namespace + "/" + o.lease_name + " as " + o.identity);
    while (!stop.load() && !TryLead(client, o)) std::this_thread::sleep_for(std::chrono::seconds(2));
    if (stop.load()) return Status::Ok();
    log("info", "acquired lease " + o.lease_namespace + "/" + o.lease_name);
  }
  leading = true;

  WorkQueue queue;
  WaitingLine waiting;
  const std::string mig_path = kube::ResourcePath("schemagate.io", "v1alpha1", "migrations", o.watch_namespace);
  const std::string job_path = kube::ResourcePath("batch", "v1", "jobs", o.watch_namespace);
  Informer migrations(client, mig_path, "", [&queue](const Json& m, bool) { queue.Add(KeyOf(m)); });
  const size_t slots = static_cast<size_t>(std::max(1, o.max_concurrent_runs));
  Informer jobs(client, job_path, "app.kubernetes.io/managed-by=schemagate",
                [&queue, &waiting, slots](const Json& j, bool deleted) {
                  std::string owner = GetString(j, {"metadata", "labels", "schemagate.io/migration"});
                  if (!owner.empty()) queue.Add(GetString(j, {"metadata", "namespace"}) + "/" + owner);
                  // A run ended (or its Job went): a slot may be free. The
                  // longest waiters look at once; those that find none stay
                  // in line, in their place.
                  if (deleted || !JobOutcome(j).empty()) {
                    for (const std::string& key : waiting.Front(slots)) queue.Add(key);
                  }
                });
  // A refused list or watch (a missing RBAC grant: 403) is logged once.
  for (Informer* i : {&migrations, &jobs}) i->set_on_error([&log](const std::string& e) { log("warning", e); });
  // The reconciler reads a Job's metadata and status only.
  jobs.set_transform([](const Json& job) {
    Json slim = Json::object();
    for (const char* field : {"apiVersion", "kind", "metadata", "status"}) {
      if (job.has_field(field)) slim[field] = job.at(field);
    }
    if (slim.has_field("metadata")) kube::EraseField(slim["metadata"], "managedFields");
    return slim;
  });
  // ConfigMaps, for Migrations whose files come from them: only their
  // content hash is kept, and a change wakes the Migrations that name them.
  const std::string cm_path = kube::ResourcePath("", "v1", "configmaps", o.watch_namespace);
  Informer config_maps(client, cm_path, "", [&queue, &migrations](const Json& cm, bool) {
    const std::string ns = GetString(cm, {"metadata", "namespace"});
    const std::string name = GetString(cm, {"metadata", "name"});
    for (const std::string& key : migrations.Keys([&](const Json& m) {
           if (GetString(m, {"metadata", "namespace"}) != ns) return false;
           const Json* refs = kube::GetField(m, {"spec", "source", "configMapRefs"});
           if (refs == nullptr || !refs->is_array()) return false;
           for (const Json& r : refs->as_array()) {
             if (GetString(r, {"name"}) == name) return true;
           }
           return false;
         })) {
      queue.Add(key);
    }
  });
  config_maps.set_transform(SlimConfigMap);
  config_maps.set_on_error([&log](const std::string& e) { log("warning", e); });
  std::atomic<bool> stop_all{false};
  std::thread mt([&] { migrations.Run(stop_all); });
  std::thread jt([&] { jobs.Run(stop_all); });
  std::thread ct([&] { config_maps.Run(stop_all); });
  while (!stop.load() && !(migrations.synced() && jobs.synced() && config_maps.synced())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  synced = true;
  log("info", "caches synced; reconciling");

  ReconcilerOptions ro;
  ro.default_image = o.runner_image;
  ro.max_concurrent_runs = o.max_concurrent_runs;
  ro.run_started_event_after = o.run_started_event_after;
  ro.log = log;
  RunObserver observer;
  observer.run_finished = [&metrics](const std::string& r, double s) { metrics.RunFinished(r, s); };
  observer.pending = [&metrics](const std::string& ns, const std::string& n, int p) { metrics.Pending(ns + "/" + n, p); };
  Reconciler reconciler(client, migrations, jobs, config_maps, waiting, ro, observer);
  std::map<std::string, int> errors;
  std::mutex errors_mu;
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, o.workers); ++i) {
    workers.emplace_back([&] {
      std::string key;
      while (queue.Get(&key)) {
        ReconcileResult r;
        try {
          r = reconciler.Reconcile(key);
        } catch (const std::exception& e) {
          // A malformed object must not take the others down with it.
          log("error", "reconcile " + key + ": " + e.what());
          r = {true, std::chrono::seconds(5), "error"};
        }
        metrics.Reconcile(r.outcome);
        {
          std::lock_guard<std::mutex> l(errors_mu);
          if (r.outcome == "error") {
            int n = ++errors[key];
            r.requeue_after = std::max(r.requeue_after, ExponentialBackoff(n, std::chrono::milliseconds(500),
                                                                           std::chrono::seconds(60)));
          } else {
            errors.erase(key);
          }
        }
        if (r.outcome == "error") log("warning", "reconcile " + key + " failed; retrying");
        if (r.requeue) queue.AddAfter(key, r.requeue_after);
        queue.Done(key);
      }
    });
  }

  // Renew the lease while leading; losing it stops this replica's work.
  auto next_renew = std::chrono::steady_clock::now();
  Status result;
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (o.leader_elect && std::chrono::steady_clock::now() >= next_renew) {
      if (!TryLead(client, o)) {
        log("error", "lost lease " + o.lease_namespace + "/" + o.lease_name + "; stopping");
        result = Status::Runtime("lost leadership");
        break;
      }
      next_renew = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, o.lease_seconds / 3));
    }
  }
  log("info", "stopping: draining workers");
  queue.ShutDown();
  for (auto& w : workers) w.join();
  stop_all = true;
  mt.join();
  jt.join();
  ct.join();
  return result;
}

}  // namespace schemagate::op
