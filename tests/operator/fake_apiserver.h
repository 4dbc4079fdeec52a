// A test Kubernetes API server that speaks the real wire protocol (JSON over
// HTTP): list with resourceVersion, chunked watch streams with bookmarks and
// 410 Gone, 409 Conflict on a stale resourceVersion, a status subresource
// that ignores spec (and the reverse), generation bumps on spec changes,
// label selectors, ownerReferences garbage collection and merge patch.
// It can inject faults: dropped watches, 500s, slow replies, compaction.
//
// As strict as kube-apiserver where users meet the difference: a CRD must be
// structural; custom resources are pruned, defaulted and validated against
// its openAPIV3Schema (422 with causes; fieldValidation Strict/Warn/Ignore);
// objects in a missing namespace get 404 and a deleted namespace takes its
// objects along; tables use the CRD's printer columns; OpenAPI v3 documents
// for kubectl; JSON, YAML and (for Namespace, ConfigMap, Secret) protobuf
// bodies; bearer tokens and, when enforced, RBAC from the Roles and bindings
// stored here (403 as the real one). Requests without a token are the
// simulated cluster's own components and are always allowed.
#ifndef SCHEMAGATE_TESTS_OPERATOR_FAKE_APISERVER_H_
#define SCHEMAGATE_TESTS_OPERATOR_FAKE_APISERVER_H_

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include <cpprest/json.h>

namespace schemagate::testing {

class FakeApiServer {
 public:
  struct Faults {
    std::atomic<int> fail_next_requests_500{0};   // next N non-watch requests get 500
    std::atomic<int> conflict_next_status_writes{0};  // next N status writes get 409
    std::atomic<int> delay_ms{0};                 // every non-watch reply waits this long
    std::atomic<bool> conflict_first_status_write{false};  // the first write at each resourceVersion gets 409
    std::atomic<int> job_watch_delay_ms{0};       // every event on a Job watch arrives this late
  };

  // Listens on 127.0.0.1:`port` (0: a free port). Starts with the
  // namespaces of a new cluster (default, kube-system, kube-public,
  // kube-node-lease) and, if `with_migration_crd`, the Migration CRD.
  explicit FakeApiServer(int port = 0, bool with_migration_crd = true);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const;
  int port() const;
  // A kubeconfig pointing at this server (plain HTTP) with an
  // administrator's token (system:masters: RBAC never refuses it).
  void WriteKubeconfig(const std::string& path, const std::string& ns = "default") const;
  // A kubeconfig with the token of ServiceAccount `sa_namespace/sa_name`
  // (user system:serviceaccount:<sa_namespace>:<sa_name>).
  void WriteServiceAccountKubeconfig(const std::string& path, const std::string& sa_namespace,
                                     const std::string& sa_name, const std::string& ns = "default") const;
  // From now on every request by a token that is not an administrator's is
  // authorized by the RBAC objects stored here; refusals are 403.
  void EnforceRbac(bool on);

  Faults& faults();
  // Logs every request to stderr ("GET /apis/...").
  void set_verbose(bool verbose);
  // Ends every open watch stream now (clients must resume).
  void DropWatches();
  // Forgets event history so that resuming from any older resourceVersion
  // gets 410 Gone.
  void Compact();
  // Requests served so far, by verb ("GET", "WATCH", "POST", ...).
  int64_t RequestCount(const std::string& verb) const;
  // What the clients with a non-administrator token (the operator's
  // ServiceAccount) asked for, allowed or not, as RBAC sees it:
  // "jobs create", "migrations/status update", ...
  std::set<std::string> RbacVerbsUsed() const;
  // Direct access for assertions: the object or null.
  web::json::value Object(const std::string& resource, const std::string& ns, const std::string& name) const;
  // Objects of a resource in a namespace ("" = all).
  std::vector<web::json::value> Objects(const std::string& resource, const std::string& ns) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_FAKE_APISERVER_H_
