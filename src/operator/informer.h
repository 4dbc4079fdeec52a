// List+watch cache of one resource: lists once, then follows a watch from
// the list's resourceVersion, resumes from the last seen version when the
// stream ends, and relists on 410 Gone. Handlers see every change.
#ifndef SCHEMAGATE_OPERATOR_INFORMER_H_
#define SCHEMAGATE_OPERATOR_INFORMER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.h"

namespace schemagate::op {

using kube::Json;

class Informer {
 public:
  // `on_change(object, deleted)` runs on the informer's thread for every
  // add, update and delete (for deletes, the last known object), after the
  // cache has taken the change.
  Informer(kube::Client& client, std::string collection_path, std::string label_selector,
           std::function<void(const Json&, bool deleted)> on_change);

  // Objects are passed through `transform` before they are cached, to keep
  // only what the controller reads (a Job's pod template is most of its size).
  void set_transform(std::function<Json(const Json&)> transform) { transform_ = std::move(transform); }
  // Called when a list or watch is refused or fails (not for 410 Gone, which
  // is a relist), with "list|watch PATH: <status>"; once per distinct
  // failure until a request succeeds again, so a missing RBAC grant (403)
  // is told once, not at every retry. Called from Run's thread.
  void set_on_error(std::function<void(const std::string&)> on_error) { on_error_ = std::move(on_error); }

  // Runs until `stop`; call on a thread of its own.
  void Run(const std::atomic<bool>& stop);
  bool synced() const { return synced_.load(); }

  std::optional<Json> Get(const std::string& ns, const std::string& name) const;
  // When the watch (or a relist) showed this object deleted, if that was in
  // the last few minutes and nothing of that name came back since: tells
  // "gone" from "created but not delivered yet".
  std::optional<std::chrono::steady_clock::time_point> DeletedAt(const std::string& ns,
                                                                 const std::string& name) const;
  // How many cached objects `match` (under the cache lock: no copies, so
  // `match` must be quick and must not call back into this informer).
  int Count(const std::function<bool(const Json&)>& match) const;
  // The "namespace/name" keys of the cached objects that `match` (same rules).
  std::vector<std::string> Keys(const std::function<bool(const Json&)>& match) const;
  // Watch restarts and relists so far (for tests and metrics).
  int relists() const { return relists_.load(); }

 private:
  bool ListAll();
  kube::Client& client_;
  std::string path_;
  std::string selector_;
  std::function<void(const Json&, bool deleted)> on_change_;
  std::function<Json(const Json&)> transform_;
  std::function<void(const std::string&)> on_error_;
  std::string last_error_;  // what on_error_ was last told; empty after a success (Run's thread only)
  void Failed(const std::string& what, const kube::ApiResponse& r);
  mutable std::mutex mu_;
  std::map<std::string, Json> cache_;  // ns/name
  void NoteDeleted(const std::string& key);  // under mu_
  std::map<std::string, std::chrono::steady_clock::time_point> deleted_;  // ns/name -> when
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<int> relists_{0};
};

std::string KeyOf(const Json& object);  // "namespace/name"

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_INFORMER_H_
