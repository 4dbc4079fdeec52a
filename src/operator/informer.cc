#include "operator/informer.h"

#include <iterator>
#include <thread>
#include <utility>
#include <vector>

namespace schemagate::op {

std::string KeyOf(const Json& o) {
  return kube::GetString(o, {"metadata", "namespace"}) + "/" + kube::GetString(o, {"metadata", "name"});
}

Informer::Informer(kube::Client& client, std::string collection_path, std::string label_selector,
                   std::function<void(const Json&, bool deleted)> on_change)
    : client_(client), path_(std::move(collection_path)), selector_(std::move(label_selector)),
      on_change_(std::move(on_change)) {}

void Informer::Failed(const std::string& what, const kube::ApiResponse& r) {
  const std::string error = what + " " + path_ + ": " + r.Describe();
  if (error == last_error_) return;
  last_error_ = error;
  if (on_error_) on_error_(error);
}

bool Informer::ListAll() {
  std::string q = path_;
  if (!selector_.empty()) q += "?labelSelector=" + kube::UrlEncode(selector_);
  kube::ApiResponse r = client_.Get(q);
  if (!r.ok()) {
    Failed("list", r);
    return false;
  }
  last_error_.clear();
  std::map<std::string, Json> fresh;
  if (const Json* items = kube::GetField(r.body, {"items"}); items && items->is_array()) {
    for (const Json& item : items->as_array()) fresh[KeyOf(item)] = transform_ ? transform_(item) : item;
  }
  std::vector<std::pair<Json, bool>> changed;  // object, deleted
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, o] : cache_) {
      if (!fresh.count(k)) {
        changed.emplace_back(o, true);  // deleted while we were away
        NoteDeleted(k);
      }
    }
    for (const auto& [k, o] : fresh) {
      deleted_.erase(k);
      auto it = cache_.find(k);
      if (it == cache_.end() || kube::GetString(it->second, {"metadata", "resourceVersion"}) !=
                                    kube::GetString(o, {"metadata", "resourceVersion"})) {
        changed.emplace_back(o, false);
      }
    }
    cache_ = std::move(fresh);
    resource_version_ = kube::GetString(r.body, {"metadata", "resourceVersion"});
  }
  synced_ = true;
  for (const auto& [o, deleted] : changed) on_change_(o, deleted);
  return true;
}

void Informer::Run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(200);
  while (!stop.load()) {
    std::string rv;
    {
      std::lock_guard<std::mutex> l(mu_);
      rv = resource_version_;
    }
    if (rv.empty()) {
      ++relists_;
      if (!ListAll()) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
      backoff = std::chrono::milliseconds(200);
      continue;
    }
    bool gone = false;
    kube::ApiResponse r = client_.Watch(
        path_, selector_, rv, 60,
        [&](const kube::WatchEvent& e) {
          if (e.type == "ERROR") {
            if (kube::GetInt(e.object, {"code"}) == 410) gone = true;
            return false;
          }
          const std::string new_rv = kube::GetString(e.object, {"metadata", "resourceVersion"});
          if (e.type == "BOOKMARK") {
            std::lock_guard<std::mutex> l(mu_);
            if (!new_rv.empty()) resource_version_ = new_rv;
            return true;
          }
          {
            std::lock_guard<std::mutex> l(mu_);
            const std::string key = KeyOf(e.object);
            if (e.type == "DELETED") {
              cache_.erase(key);
              NoteDeleted(key);
            } else {
              cache_[key] = transform_ ? transform_(e.object) : e.object;
              deleted_.erase(key);
            }
            if (!new_rv.empty()) resource_version_ = new_rv;
          }
          on_change_(e.object, e.type == "DELETED");
          return !stop.load();
        },
        stop);
    if (gone || r.status == 410) {
      std::lock_guard<std::mutex> l(mu_);
      resource_version_.clear();  // relist
      continue;
    }
    if (r.status != 200) {
      if (!stop.load()) Failed("watch", r);  // not the watch cut short by stopping
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    } else {
      last_error_.clear();
      backoff = std::chrono::milliseconds(200);
    }
  }
}

std::optional<Json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cache_.find(ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::chrono::steady_clock::time_point> Informer::DeletedAt(const std::string& ns,
                                                                         const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = deleted_.find(ns + "/" + name);
  if (it == deleted_.end()) return std::nullopt;
  return it->second;
}

void Informer::NoteDeleted(const std::string& key) {
  // Kept for minutes, then forgotten, so the record stays small.
  const auto now = std::chrono::steady_clock::now();
  for (auto it = deleted_.begin(); it != deleted_.end();) {
    it = now - it->second > std::chrono::minutes(5) ? deleted_.erase(it) : std::next(it);
  }
  deleted_[key] = now;
}

int Informer::Count(const std::function<bool(const Json&)>& match) const {
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (const auto& [k, o] : cache_) n += match(o) ? 1 : 0;
  return n;
}

std::vector<std::string> Informer::Keys(const std::function<bool(const Json&)>& match) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> keys;
  for (const auto& [k, o] : cache_) {
    if (match(o)) keys.push_back(k);
  }
  return keys;
}

}  // namespace schemagate::op
