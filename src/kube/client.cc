#include "kube/client.h"

#include <random>
#include <thread>

#include "core/encoding.h"
#include "kube/watch_decoder.h"

namespace schemagate::kube {
namespace {

Json ParseBody(const std::string& body) {
  if (body.empty()) return Json::null();
  try {
    return Json::parse(body);
  } catch (const std::exception&) {
    return Json::null();
  }
}

}  // namespace

std::string ApiResponse::Describe() const {
  if (status == 0) return "API server unreachable: " + error;
  std::string out = std::to_string(status);
  std::string reason = GetString(body, {"reason"});
  std::string message = GetString(body, {"message"});
  if (!reason.empty()) out += " " + reason;
  if (!message.empty()) out += ": " + message;
  return out;
}

std::string UrlEncode(const std::string& s) { return PercentEncode(s); }

std::string ResourcePath(const std::string& group, const std::string& version, const std::string& resource,
                         const std::string& ns, const std::string& name) {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) out += "/namespaces/" + ns;
  out += "/" + resource;
  if (!name.empty()) out += "/" + name;
  return out;
}

const Json* GetField(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    const auto& o = cur->as_object();
    auto it = o.find(key);
    if (it == o.end()) return nullptr;
    cur = &it->second;
  }
  return cur;
}

void EraseField(Json& obj, const std::string& key) {
  if (obj.is_object() && obj.has_field(key)) obj.as_object().erase(key);
}

std::string GetString(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = GetField(obj, path);
  if (v == nullptr) return "";
  if (v->is_string()) return v->as_string();
  if (v->is_number() || v->is_boolean()) return v->serialize();
  return "";
}

int64_t GetInt(const Json& obj, std::initializer_list<const char*> path, int64_t fallback) {
  const Json* v = GetField(obj, path);
  if (v == nullptr || !v->is_number()) return fallback;
  return v->as_number().to_int64();
}

bool ParseWatchEvent(std::string_view line, WatchEvent* event, std::string* error) {
  try {
    Json v = Json::parse(std::string(line));
    event->type = GetString(v, {"type"});
    const Json* obj = GetField(v, {"object"});
    event->object = obj ? *obj : Json::null();
    if (event->type.empty()) {
      *error = "watch event without a type";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    *error = std::string("malformed watch event: ") + e.what();
    return false;
  }
}

Client::Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

ApiResponse Client::Do(const HttpRequest& request, int attempts) {
  std::mt19937 rng(std::random_device{}());
  auto delay = std::chrono::milliseconds(100);
  ApiResponse out;
  for (int i = 0; i < attempts; ++i) {
    ++requests_;
    HttpResponse r = transport_->Send(request);
    out.status = r.status;
    out.error = r.error;
    out.body = ParseBody(r.body);
    const bool retry = r.status == 0 || r.status == 429 || r.status >= 500;
    if (!retry || i + 1 == attempts) break;
    std::uniform_int_distribution<int> jitter(0, static_cast<int>(delay.count()));
    std::this_thread::sleep_for(delay + std::chrono::milliseconds(jitter(rng)));
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
  if (!out.ok() && out.error.empty()) out.error = GetString(out.body, {"message"});
  return out;
}

ApiResponse Client::Get(const std::string& path) { return Do({"GET", path, "", ""}); }

ApiResponse Client::Create(const std::string& collection_path, const Json& object) {
  return Do({"POST", collection_path, object.serialize(), "application/json"});
}

ApiResponse Client::Replace(const std::string& path, const Json& object) {
  return Do({"PUT", path, object.serialize(), "application/json"});
}

ApiResponse Client::MergePatch(const std::string& path, const Json& patch) {
  return Do({"PATCH", path, patch.serialize(), "application/merge-patch+json"});
}

ApiResponse Client::Delete(const std::string& path) {
  return Do({"DELETE", path, R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})",
             "application/json"});
}

ApiResponse Client::Watch(const std::string& collection_path, const std::string& label_selector,
                          const std::string& resource_version, int timeout_seconds,
                          const std::function<bool(const WatchEvent&)>& on_event, const std::atomic<bool>& stop) {
  std::string q = collection_path + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
                  std::to_string(timeout_seconds);
  if (!resource_version.empty()) q += "&resourceVersion=" + UrlEncode(resource_version);
  if (!label_selector.empty()) q += "&labelSelector=" + UrlEncode(label_selector);
  ++requests_;
  LineDecoder lines;
  bool keep_going = true;
  std::string decode_error;
  HttpResponse r = transport_->Stream(
      {"GET", q, "", ""},
      [&](std::string_view chunk) {
        lines.Feed(chunk, [&](std::string_view line) {
          if (!keep_going) return;
          WatchEvent event;
          if (!ParseWatchEvent(line, &event, &decode_error)) return;
          keep_going = on_event(event);
        });
        return keep_going;
      },
      stop);
  ApiResponse out;
  out.status = r.status;
  out.error = r.error.empty() ? decode_error : r.error;
  out.body = ParseBody(r.body);
  return out;
}

}  // namespace schemagate::kube
