// A small Kubernetes API client: get, create, replace, merge patch, delete,
// status subresource, and watch streams decoded incrementally.
//
// Objects are web::json values (cpprestsdk's JSON, used as a DOM only; the
// HTTP work stays behind Transport). Thread-safe: every call is independent.
#ifndef SCHEMAGATE_KUBE_CLIENT_H_
#define SCHEMAGATE_KUBE_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <cpprest/json.h>

#include "kube/transport.h"

namespace schemagate::kube {

using Json = web::json::value;

struct ApiResponse {
  int status = 0;     // HTTP status; 0 when the server could not be reached
  Json body;          // parsed body (null when empty or not JSON)
  std::string error;  // transport error or the Status message of the server
  bool ok() const { return status >= 200 && status < 300; }
  // "409 Conflict: the object has been modified" etc., for messages.
  std::string Describe() const;
};

// "/api/v1/namespaces/ns/pods/name" or "/apis/g/v/namespaces/ns/res/name";
// an empty namespace gives the all-namespaces path.
std::string ResourcePath(const std::string& group, const std::string& version, const std::string& resource,
                         const std::string& ns, const std::string& name = "");
std::string UrlEncode(const std::string& s);

// Safe accessors for JSON objects (missing keys read as empty).
std::string GetString(const Json& obj, std::initializer_list<const char*> path);
int64_t GetInt(const Json& obj, std::initializer_list<const char*> path, int64_t fallback = 0);
const Json* GetField(const Json& obj, std::initializer_list<const char*> path);
// Removes `key` from an object if present (web::json's erase throws otherwise).
void EraseField(Json& obj, const std::string& key);

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

class Client {
 public:
  explicit Client(std::unique_ptr<Transport> transport);

  // Retries connection failures, 429 and 5xx up to `attempts` times with
  // backoff; other statuses return at once.
  ApiResponse Get(const std::string& path);
  ApiResponse Create(const std::string& collection_path, const Json& object);
  ApiResponse Replace(const std::string& path, const Json& object);
  ApiResponse MergePatch(const std::string& path, const Json& patch);
  ApiResponse Delete(const std::string& path);

  // Watches `collection_path` from `resource_version` until the server ends
  // the stream (timeoutSeconds), `stop` is set, or `on_event` returns false.
  // 410 Gone arrives as an ERROR event with code 410 or as the status.
  ApiResponse Watch(const std::string& collection_path, const std::string& label_selector,
                    const std::string& resource_version, int timeout_seconds,
                    const std::function<bool(const WatchEvent&)>& on_event, const std::atomic<bool>& stop);

  // Requests sent (for metrics and the request-rate benchmark).
  int64_t requests() const { return requests_.load(); }

 private:
  ApiResponse Do(const HttpRequest& request, int attempts = 4);
  std::unique_ptr<Transport> transport_;
  std::atomic<int64_t> requests_{0};
};

// Parses one watch line ({"type":..., "object":...}).
bool ParseWatchEvent(std::string_view line, WatchEvent* event, std::string* error);

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_CLIENT_H_
