// The Migration reconciler: level-based and idempotent. Each pass reads the
// Migration and its Job from the caches, takes one step (start a run, wait,
// record the outcome), and writes status at most once.
#ifndef SCHEMAGATE_OPERATOR_RECONCILER_H_
#define SCHEMAGATE_OPERATOR_RECONCILER_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "kube/client.h"
#include "operator/informer.h"
#include "operator/migration.h"
#include "operator/waiting_line.h"

namespace schemagate::op {

struct ReconcilerOptions {
  std::string default_image = "schemagate:latest";
  int max_concurrent_runs = 4;
  // A run still going after this long gets its RunStarted Event (and its
  // activeRun, when the status did not need a write as it started). Runs
  // that finish sooner are told in full by their closing Event and status:
  // four API writes per run (Job, start status, end status, one Event).
  std::chrono::milliseconds run_started_event_after{10000};
  // One line per event (run started, applied, failed), for the operator log.
  std::function<void(const std::string& level, const std::string& msg)> log;
};

struct ReconcileResult {
  bool requeue = false;
  std::chrono::milliseconds requeue_after{0};
  std::string outcome;  // "success", "error", "conflict": for metrics
  bool waiting_for_slot = false;  // in the WaitingLine after this pass
};

// Counters the controller exports.
struct RunObserver {
  std::function<void(const std::string& result, double seconds)> run_finished;
  std::function<void(const std::string& ns, const std::string& name, int pending)> pending;
};

class Reconciler {
 public:
  // `waiting` is where Migrations wait for a run slot; the controller wakes
  // its front when a run ends. `config_maps` caches ConfigMaps slimmed by
  // SlimConfigMap (source.h).
  Reconciler(kube::Client& client, Informer& migrations, Informer& jobs, Informer& config_maps,
             WaitingLine& waiting, ReconcilerOptions options, RunObserver observer);
  ReconcileResult Reconcile(const std::string& key);

 private:
  ReconcileResult Step(const Json& migration, Json& status, bool* changed);
  // `job_name` names a run's Event after the run, so it is created once.
  void Event(const Json& migration, const std::string& type, const std::string& reason, const std::string& message,
             const std::string& job_name = "");
  int ActiveRuns();
  // Whether a Job of this Migration other than `job_name` is still running
  // (a run for an older generation or ConfigMap content): at most one run
  // per Migration, so the new one waits for it.
  bool OtherRunGoing(const std::string& ns, const std::string& name, const std::string& job_name);
  // A referenced ConfigMap's content hash: from the cache, else asked of the
  // API server (a ConfigMap applied together with its Migration may not have
  // reached the cache yet). nullopt when it does not exist; `*error` set when
  // the server could not say.
  std::optional<std::string> ConfigMapHash(const std::string& ns, const std::string& name, std::string* error);
  // How long the run in `job` has been going (from this process's own start
  // record, else the Job's creationTimestamp).
  double RunSeconds(const std::string& key, const std::string& job_name, const Json& job);

  kube::Client& client_;
  Informer& migrations_;
  Informer& jobs_;
  Informer& config_maps_;
  WaitingLine& waiting_;
  ReconcilerOptions options_;
  RunObserver observer_;
  std::mutex create_mu_;  // the run-slot check and the Job create are one step
  // The last status we wrote per key, and the resourceVersion it replaced:
  // while the cache still shows that version, our write is the newer truth
  // (the watch has not delivered it yet), so we neither redo it nor 409.
  struct Written {
    std::string replaced_rv;
    Json object;
  };
  std::mutex written_mu_;
  std::map<std::string, Written> written_;
  // Runs this process started, by Migration key: when, and whether their
  // RunStarted Event is out (so later passes do not post it again). Lost on
  // restart; the Job's creationTimestamp stands in for `at`, and the Event's
  // name, fixed per Job, keeps a second RunStarted out (409).
  struct Started {
    std::string job_name;
    std::chrono::steady_clock::time_point at;
    bool announced = false;
  };
  std::mutex started_mu_;
  std::map<std::string, Started> started_;
  // How long a Job this process created may be missing from the Job cache
  // before it counts as deleted (the watch's delivery delay, generously).
  static constexpr std::chrono::seconds kJobCacheLag{30};
  // Whether `run`'s Job, missing from the cache, is on its way (created
  // within kJobCacheLag and not seen deleted since) rather than gone.
  bool NotYetDelivered(const std::string& ns, const Started& run) const;
  // How often a Migration waiting for a run slot looks again by itself; the
  // controller wakes the front of the WaitingLine as soon as a run ends.
  static constexpr std::chrono::seconds kSlotPoll{5};
};

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_RECONCILER_H_
