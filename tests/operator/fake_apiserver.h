// A test Kubernetes API server that speaks the real wire protocol (JSON over
// HTTP): list with resourceVersion, chunked watch streams with bookmarks and
// 410 Gone, 409 Conflict on a stale resourceVersion, a status subresource
// that ignores spec (and the reverse), generation bumps on spec changes,
// label selectors, ownerReferences garbage collection and merge patch.
// It can inject faults: dropped watches, 500s, slow replies, compaction.
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

  // Listens on 127.0.0.1:`port` (0: a free port).
  explicit FakeApiServer(int port = 0);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const;
  int port() const;
  // A kubeconfig pointing at this server (plain HTTP, no credentials).
  void WriteKubeconfig(const std::string& path, const std::string& ns = "default") const;

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
  // What the authenticated client (the operator) needed, as RBAC sees it:
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
