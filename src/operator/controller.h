// The controller process: informers for Migrations and their Jobs, a work
// queue, reconcile workers, leader election on a Lease, /healthz, /readyz
// and Prometheus /metrics, and a clean stop on SIGTERM.
#ifndef SCHEMAGATE_OPERATOR_CONTROLLER_H_
#define SCHEMAGATE_OPERATOR_CONTROLLER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "core/status.h"
#include "kube/config.h"

namespace schemagate::op {

struct ControllerOptions {
  kube::ClusterConfig cluster;
  std::string watch_namespace;          // "" = all namespaces
  bool leader_elect = true;
  std::string lease_namespace = "default";
  std::string lease_name = "schemagate-operator";
  std::string identity;                 // this replica's name
  int lease_seconds = 15;
  // HOST:PORT or :PORT; port 0 picks a free one (logged); "off" disables.
  std::string metrics_addr = ":8080";
  std::string health_addr = ":8081";
  int max_concurrent_runs = 4;
  std::chrono::milliseconds run_started_event_after{10000};  // see ReconcilerOptions
  int workers = 2;
  std::string runner_image = "schemagate:latest";
  std::function<void(const std::string& level, const std::string& msg)> log;
};

// Runs until `stop` is set. Errors only for what prevents starting at all.
Status RunController(const ControllerOptions& options, const std::atomic<bool>& stop);

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_CONTROLLER_H_
