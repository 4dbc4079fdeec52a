#include "operator/fake_apiserver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>

#include "core/encoding.h"
#include "kube/replies_in_flight_cpprest.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {
namespace {

namespace http = web::http;
using Json = web::json::value;

struct ResourceType {
  std::string group, version, kind;
  bool namespaced = true;
  bool has_status = false;
  std::string short_name;
};

const std::map<std::string, ResourceType>& Types() {
  static const std::map<std::string, ResourceType> kTypes = {
      {"migrations", {"schemagate.io", "v1alpha1", "Migration", true, true, "mig"}},
      {"jobs", {"batch", "v1", "Job", true, true}},
      {"pods", {"", "v1", "Pod", true, true}},
      {"secrets", {"", "v1", "Secret", true, false}},
      {"configmaps", {"", "v1", "ConfigMap", true, false}},
      {"events", {"", "v1", "Event", true, false}},
      {"namespaces", {"", "v1", "Namespace", false, true}},
      {"leases", {"coordination.k8s.io", "v1", "Lease", true, false}},
      // What `kubectl apply -k manifests/` creates.
      {"serviceaccounts", {"", "v1", "ServiceAccount", true, false}},
      {"services", {"", "v1", "Service", true, true}},
      {"deployments", {"apps", "v1", "Deployment", true, true}},
      {"roles", {"rbac.authorization.k8s.io", "v1", "Role", true, false}},
      {"rolebindings", {"rbac.authorization.k8s.io", "v1", "RoleBinding", true, false}},
      {"clusterroles", {"rbac.authorization.k8s.io", "v1", "ClusterRole", false, false}},
      {"clusterrolebindings", {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false, false}},
      {"customresourcedefinitions", {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", false, true}},
  };
  return kTypes;
}

std::string Str(const Json& o, const char* a, const char* b = nullptr) {
  if (!o.is_object() || !o.has_field(a)) return "";
  const Json& v = o.at(a);
  if (b == nullptr) return v.is_string() ? v.as_string() : "";
  if (!v.is_object() || !v.has_field(b) || !v.at(b).is_string()) return "";
  return v.at(b).as_string();
}

Json StatusBody(int code, const std::string& reason, const std::string& message) {
  Json s = Json::object();
  s["kind"] = Json::string("Status");
  s["apiVersion"] = Json::string("v1");
  s["metadata"] = Json::object();
  s["status"] = Json::string("Failure");
  s["message"] = Json::string(message);
  s["reason"] = Json::string(reason);
  s["code"] = Json::number(code);
  return s;
}

// RFC 7386 JSON merge patch.
Json MergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (const auto& kv : patch.as_object()) {
    if (kv.second.is_null()) {
      if (out.has_field(kv.first)) out.as_object().erase(kv.first);
    } else {
      Json current = out.has_field(kv.first) ? out.at(kv.first) : Json::null();
      out[kv.first] = MergePatch(current, kv.second);
    }
  }
  return out;
}

// Strategic merge patch, as `kubectl apply` sends for built-in kinds: like
// a merge patch, except that lists of objects with a merge key (containers,
// env, volumes, ... by name; ports by containerPort) are merged element by
// element, `$setElementOrder/<list>` orders them, and an element with
// `$patch: delete` is removed. Without this, changing one container's image
// would replace the whole list and lose the other fields.
const char* MergeKey(const std::string& field) {
  static const std::map<std::string, const char*> keys = {
      {"containers", "name"},  {"initContainers", "name"}, {"volumes", "name"},
      {"env", "name"},         {"volumeMounts", "mountPath"}, {"imagePullSecrets", "name"},
      {"ports", "containerPort"}, {"tolerations", "key"},   {"envFrom", ""},
  };
  auto it = keys.find(field);
  return it == keys.end() || *it->second == '\0' ? nullptr : it->second;
}

Json StrategicMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (const auto& kv : patch.as_object()) {
    const std::string& field = kv.first;
    if (field.rfind("$", 0) == 0) continue;  // directives, applied below
    if (kv.second.is_null()) {
      if (out.has_field(field)) out.as_object().erase(field);
      continue;
    }
    const char* key = MergeKey(field);
    if (key == nullptr || !kv.second.is_array() || !out.has_field(field) || !out.at(field).is_array()) {
      Json current = out.has_field(field) ? out.at(field) : Json::null();
      out[field] = kv.second.is_array() ? kv.second : StrategicMergePatch(current, kv.second);
      continue;
    }
    std::vector<Json> merged(out.at(field).as_array().begin(), out.at(field).as_array().end());
    auto key_of = [key](const Json& e) { return e.has_field(key) ? e.at(key).serialize() : std::string(); };
    for (const Json& p : kv.second.as_array()) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const Json& e) { return key_of(e) == key_of(p); });
      const bool remove = p.has_field("$patch") && p.at("$patch").is_string() && p.at("$patch").as_string() == "delete";
      if (remove) {
        if (it != merged.end()) merged.erase(it);
      } else if (it != merged.end()) {
        *it = StrategicMergePatch(*it, p);
      } else {
        merged.push_back(StrategicMergePatch(Json::object(), p));
      }
    }
    // $setElementOrder/<field>: the full list of keys in their new order.
    const std::string order_field = "$setElementOrder/" + field;
    if (patch.has_field(order_field) && patch.at(order_field).is_array()) {
      std::vector<Json> ordered;
      for (const Json& want : patch.at(order_field).as_array()) {
        auto it = std::find_if(merged.begin(), merged.end(), [&](const Json& e) { return key_of(e) == key_of(want); });
        if (it != merged.end()) ordered.push_back(*it);
      }
      for (const Json& e : merged) {
        if (std::find_if(ordered.begin(), ordered.end(), [&](const Json& o) { return key_of(o) == key_of(e); }) ==
            ordered.end()) {
          ordered.push_back(e);
        }
      }
      merged = ordered;
    }
    out[field] = Json::array(merged);
  }
  return out;
}

// "a=b,c!=d,e" equality-based selectors (what the operator uses).
bool MatchesSelector(const Json& obj, const std::string& selector) {
  if (selector.empty()) return true;
  const Json* labels = nullptr;
  if (obj.has_field("metadata") && obj.at("metadata").has_field("labels")) labels = &obj.at("metadata").at("labels");
  size_t start = 0;
  while (start <= selector.size()) {
    size_t comma = selector.find(',', start);
    if (comma == std::string::npos) comma = selector.size();
    std::string term = selector.substr(start, comma - start);
    start = comma + 1;
    if (term.empty()) continue;
    bool negate = false;
    std::string key, value;
    size_t op = term.find("!=");
    if (op != std::string::npos) {
      negate = true;
      key = term.substr(0, op);
      value = term.substr(op + 2);
    } else if ((op = term.find("==")) != std::string::npos) {
      key = term.substr(0, op);
      value = term.substr(op + 2);
    } else if ((op = term.find('=')) != std::string::npos) {
      key = term.substr(0, op);
      value = term.substr(op + 1);
    } else {
      key = term;  // existence
      if (labels == nullptr || !labels->has_field(key)) return false;
      continue;
    }
    std::string actual = labels != nullptr && labels->has_field(key) && labels->at(key).is_string()
                             ? labels->at(key).as_string()
                             : "";
    bool has = labels != nullptr && labels->has_field(key);
    if (negate ? (has && actual == value) : (!has || actual != value)) return false;
  }
  return true;
}

struct Watcher {
  std::string resource, ns, selector;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  bool closed = false;
};

}  // namespace

struct FakeApiServer::Impl {
  int port = 0;
  std::unique_ptr<http::experimental::listener::http_listener> listener;
  Faults faults;
  mutable std::mutex mu;
  int64_t rv = 100;
  int64_t oldest_rv = 100;  // events after this are kept for watch resumption
  struct Event {
    int64_t rv;
    std::string resource, ns, type;
    Json object;
  };
  std::deque<Event> history;
  std::map<std::string, Json> store;  // resource/ns/name -> object
  std::vector<std::shared_ptr<Watcher>> watchers;
  std::map<std::string, int64_t> counts;
  std::set<std::string> rbac_used;        // "resource[/sub] verb" asked for by the operator
  std::set<std::string> conflicted_once;  // for faults.conflict_first_status_write
  std::vector<std::thread> watch_threads;
  kube::RepliesInFlight watch_replies;  // drained before the listener closes
  std::atomic<bool> stopping{false};
  std::atomic<bool> verbose{false};
  std::mt19937_64 rng{42};

  static std::string Key(const std::string& r, const std::string& ns, const std::string& n) {
    return r + "/" + ns + "/" + n;
  }

  // Records a change and hands it to the matching watchers. Caller holds mu.
  void Emit(const std::string& resource, const std::string& ns, const std::string& type, const Json& obj) {
    history.push_back({rv, resource, ns, type, obj});
    while (history.size() > 20000) {
      oldest_rv = history.front().rv;
      history.pop_front();
    }
    Json ev = Json::object();
    ev["type"] = Json::string(type);
    ev["object"] = obj;
    std::string line = ev.serialize() + "\n";
    for (auto& w : watchers) {
      if (w->resource != resource || (!w->ns.empty() && w->ns != ns) || !MatchesSelector(obj, w->selector)) continue;
      std::lock_guard<std::mutex> l(w->mu);
      w->lines.push_back(line);
      w->cv.notify_one();
    }
  }

  void StampNew(Json& obj, const std::string& resource, const std::string& ns) {
    const ResourceType& t = Types().at(resource);
    Json& md = obj["metadata"];
    if (t.namespaced) md["namespace"] = Json::string(ns);
    md["uid"] = Json::string(std::to_string(rng()) + "-" + std::to_string(++rv));
    md["resourceVersion"] = Json::string(std::to_string(rv));
    md["creationTimestamp"] = Json::string(NowUtc());
    md["generation"] = Json::number(1);
    obj["kind"] = Json::string(t.kind);
    obj["apiVersion"] = Json::string(t.group.empty() ? t.version : t.group + "/" + t.version);
  }

  // Deletes `key`'s object and, through ownerReferences, its dependents.
  void DeleteCascade(const std::string& key) {
    auto it = store.find(key);
    if (it == store.end()) return;
    Json obj = it->second;
    store.erase(it);
    size_t a = key.find('/'), b = key.find('/', a + 1);
    std::string resource = key.substr(0, a), ns = key.substr(a + 1, b - a - 1);
    obj["metadata"]["resourceVersion"] = Json::string(std::to_string(++rv));
    Emit(resource, ns, "DELETED", obj);
    const std::string uid = Str(obj, "metadata", "uid");
    std::vector<std::string> dependents;
    for (const auto& [k, o] : store) {
      if (!o.at("metadata").has_field("ownerReferences")) continue;
      for (const auto& ref : o.at("metadata").at("ownerReferences").as_array()) {
        if (Str(ref, "uid") == uid) dependents.push_back(k);
      }
    }
    for (const std::string& d : dependents) DeleteCascade(d);
  }

  void Handle(http::http_request req);
  void ServeWatch(http::http_request req, const std::string& resource, const std::string& ns,
                  const std::map<std::string, std::string>& query);
};

namespace {

struct Route {
  std::string resource, ns, name, sub;
  bool ok = false;
};

Route ParsePath(const std::vector<std::string>& parts) {
  // /api/v1/... or /apis/g/v/...
  Route r;
  size_t i;
  if (parts.size() >= 2 && parts[0] == "api") i = 2;
  else if (parts.size() >= 3 && parts[0] == "apis") i = 3;
  else return r;
  if (i < parts.size() && parts[i] == "namespaces" && i + 2 < parts.size()) {
    r.ns = parts[i + 1];
    i += 2;
  }
  if (i >= parts.size()) return r;
  r.resource = parts[i++];
  if (i < parts.size()) r.name = parts[i++];
  if (i < parts.size()) r.sub = parts[i++];
  r.ok = Types().count(r.resource) > 0;
  return r;
}


std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Discovery documents, enough for kubectl to find every resource here.
Json ApiVersions() {
  Json v = Json::object();
  v["kind"] = Json::string("APIVersions");
  v["versions"] = Json::array({Json::string("v1")});
  Json addr = Json::object();
  addr["clientCIDR"] = Json::string("0.0.0.0/0");
  addr["serverAddress"] = Json::string("127.0.0.1");
  v["serverAddressByClientCIDRs"] = Json::array({addr});
  return v;
}

Json GroupList() {
  std::map<std::string, std::string> groups;
  for (const auto& [name, t] : Types()) {
    if (!t.group.empty()) groups[t.group] = t.version;
  }
  std::vector<Json> out;
  for (const auto& [g, v] : groups) {
    Json gv = Json::object();
    gv["groupVersion"] = Json::string(g + "/" + v);
    gv["version"] = Json::string(v);
    Json group = Json::object();
    group["name"] = Json::string(g);
    group["versions"] = Json::array({gv});
    group["preferredVersion"] = gv;
    out.push_back(group);
  }
  Json list = Json::object();
  list["kind"] = Json::string("APIGroupList");
  list["apiVersion"] = Json::string("v1");
  list["groups"] = Json::array(out);
  return list;
}

Json ResourceList(const std::string& group, const std::string& version) {
  std::vector<Json> out;
  for (const auto& [name, t] : Types()) {
    if (t.group != group || t.version != version) continue;
    std::vector<Json> verbs;
    for (const char* v : {"create", "delete", "get", "list", "patch", "update", "watch"}) verbs.push_back(Json::string(v));
    Json r = Json::object();
    r["name"] = Json::string(name);
    r["singularName"] = Json::string(Lower(t.kind));
    r["namespaced"] = Json::boolean(t.namespaced);
    r["kind"] = Json::string(t.kind);
    r["verbs"] = Json::array(verbs);
    if (!t.short_name.empty()) r["shortNames"] = Json::array({Json::string(t.short_name)});
    if (name == "migrations") r["categories"] = Json::array({Json::string("all")});
    out.push_back(r);
    if (t.has_status) {
      Json st = Json::object();
      st["name"] = Json::string(name + "/status");
      st["singularName"] = Json::string("");
      st["namespaced"] = Json::boolean(t.namespaced);
      st["kind"] = Json::string(t.kind);
      st["verbs"] = Json::array({Json::string("get"), Json::string("patch"), Json::string("update")});
      out.push_back(st);
    }
  }
  Json list = Json::object();
  list["kind"] = Json::string("APIResourceList");
  list["apiVersion"] = Json::string("v1");
  list["groupVersion"] = Json::string(group.empty() ? version : group + "/" + version);
  list["resources"] = Json::array(out);
  return list;
}

std::string ReadyCondition(const Json& o, const char* field) {
  if (!o.has_field("status") || !o.at("status").has_field("conditions")) return "";
  for (const Json& c : o.at("status").at("conditions").as_array()) {
    if (Str(c, "type") == "Ready") return Str(c, field);
  }
  return "";
}

// The server-side table kubectl prints; for Migrations, the CRD's printer
// columns (Ready, Current, Target, Pending, Reason, Age).
Json Table(const std::string& resource, const std::vector<Json>& items, int64_t rv) {
  auto column = [](const char* name, const char* type, const char* format) {
    Json c = Json::object();
    c["name"] = Json::string(name);
    c["type"] = Json::string(type);
    c["format"] = Json::string(format);
    c["description"] = Json::string("");
    c["priority"] = Json::number(0);
    return c;
  };
  const bool mig = resource == "migrations";
  std::vector<Json> columns{column("Name", "string", "name")};
  if (mig) {
    for (const char* n : {"Ready", "Current", "Target"}) columns.push_back(column(n, "string", ""));
    columns.push_back(column("Pending", "integer", ""));
    columns.push_back(column("Reason", "string", ""));
  }
  columns.push_back(column("Age", "date", ""));
  std::vector<Json> rows;
  for (const Json& o : items) {
    std::vector<Json> cells{Json::string(Str(o, "metadata", "name"))};
    if (mig) {
      cells.push_back(Json::string(ReadyCondition(o, "status")));
      cells.push_back(Json::string(Str(o, "status", "currentRevision")));
      cells.push_back(Json::string(Str(o, "status", "targetRevision")));
      const bool has_pending = o.has_field("status") && o.at("status").has_field("pendingRevisions");
      cells.push_back(has_pending ? o.at("status").at("pendingRevisions") : Json::null());
      cells.push_back(Json::string(ReadyCondition(o, "reason")));
    }
    cells.push_back(Json::string(Str(o, "metadata", "creationTimestamp")));
    Json meta = Json::object();
    meta["kind"] = Json::string("PartialObjectMetadata");
    meta["apiVersion"] = Json::string("meta.k8s.io/v1");
    meta["metadata"] = o.at("metadata");
    Json row = Json::object();
    row["cells"] = Json::array(cells);
    row["object"] = meta;
    rows.push_back(row);
  }
  Json t = Json::object();
  t["kind"] = Json::string("Table");
  t["apiVersion"] = Json::string("meta.k8s.io/v1");
  t["metadata"]["resourceVersion"] = Json::string(std::to_string(rv));
  t["columnDefinitions"] = Json::array(columns);
  t["rows"] = Json::array(rows);
  return t;
}

bool WantsTable(const http::http_request& req) {
  auto it = req.headers().find("Accept");
  return it != req.headers().end() && it->second.find("as=Table") != std::string::npos;
}

// A real API server turns Secret stringData into base64 data.
void NormalizeSecret(Json& obj) {
  if (!obj.has_field("stringData")) return;
  for (const auto& kv : obj.at("stringData").as_object()) {
    const std::string out = Base64Encode(kv.second.is_string() ? kv.second.as_string() : "");
    obj["data"][kv.first] = Json::string(out);
  }
  obj.as_object().erase("stringData");
}

}  // namespace

void FakeApiServer::Impl::Handle(http::http_request req) {
  auto parts = web::uri::split_path(web::uri::decode(req.relative_uri().path()));
  auto query = web::uri::split_query(req.relative_uri().query());
  for (auto& [k, v] : query) v = web::uri::decode(v);
  const std::string method = req.method();
  if (verbose.load()) std::fprintf(stderr, "apiserver: %s %s\n", method.c_str(), req.relative_uri().to_string().c_str());
  Route route = ParsePath(parts);
  auto reply = [&req](int code, const Json& body) { req.reply(code, body); };
  if (!route.ok) {
    // Enough discovery for clients that probe the server (kubectl).
    if (parts.size() == 1 && parts[0] == "api") return reply(200, ApiVersions());
    if (parts.size() == 1 && parts[0] == "apis") return reply(200, GroupList());
    if (parts.size() == 2 && parts[0] == "api") return reply(200, ResourceList("", parts[1]));
    if (parts.size() == 3 && parts[0] == "apis") return reply(200, ResourceList(parts[1], parts[2]));
    if (req.relative_uri().path() == "/_stats") {  // request counts, for benchmarks
      Json stats = Json::object();
      std::lock_guard<std::mutex> l(mu);
      for (const auto& [k, v] : counts) stats[k] = Json::number(v);
      reply(200, stats);
      return;
    }
    if (req.relative_uri().path() == "/version") {
      Json v = Json::object();
      v["major"] = Json::string("1");
      v["minor"] = Json::string("35");
      v["gitVersion"] = Json::string("v1.35.0-schemagate-test");
      reply(200, v);
      return;
    }
    reply(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  const bool watch = query.count("watch") && (query["watch"] == "1" || query["watch"] == "true");
  {
    // Counted per verb, and per client: requests with a bearer token come
    // from the operator (its kubeconfig has one; the simulator's has none).
    auto auth = req.headers().find("Authorization");
    const std::string client = auth != req.headers().end() ? "token" : "anonymous";
    std::lock_guard<std::mutex> l(mu);
    ++counts[watch ? "WATCH" : method];
    ++counts[client + " " + (watch ? "WATCH" : method)];
    if (client == "token") {
      // The RBAC verb the request needs, as the real server's authorizer sees it.
      std::string verb = watch                       ? "watch"
                         : method == "GET"           ? (route.name.empty() ? "list" : "get")
                         : method == "POST"          ? "create"
                         : method == "PUT"           ? "update"
                         : method == "PATCH"         ? "patch"
                         : method == "DELETE"        ? (route.name.empty() ? "deletecollection" : "delete")
                                                     : method;
      rbac_used.insert(route.resource + (route.sub.empty() ? "" : "/" + route.sub) + " " + verb);
    }
  }
  if (watch) {
    ServeWatch(req, route.resource, route.ns, query);
    return;
  }
  if (int d = faults.delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
  if (faults.fail_next_requests_500.load() > 0 && faults.fail_next_requests_500.fetch_sub(1) > 0) {
    reply(500, StatusBody(500, "InternalError", "injected fault"));
    return;
  }
  const ResourceType& type = Types().at(route.resource);
  Json body = Json::null();
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    try {
      body = req.extract_json(true).get();
    } catch (const std::exception& e) {
      reply(400, StatusBody(400, "BadRequest", std::string("invalid JSON body: ") + e.what()));
      return;
    }
  }

  std::lock_guard<std::mutex> l(mu);
  const std::string key = Key(route.resource, route.ns, route.name);
  if (method == "GET" && route.name.empty()) {
    Json list = Json::object();
    list["kind"] = Json::string(type.kind + "List");
    list["apiVersion"] = Json::string(type.group.empty() ? type.version : type.group + "/" + type.version);
    list["metadata"] = Json::object();
    list["metadata"]["resourceVersion"] = Json::string(std::to_string(rv));
    std::vector<Json> items;
    const std::string prefix = route.resource + "/" + route.ns + (route.ns.empty() ? "" : "/");
    for (const auto& [k, o] : store) {
      if (k.rfind(route.resource + "/", 0) != 0) continue;
      if (!route.ns.empty() && k.rfind(prefix, 0) != 0) continue;
      if (!MatchesSelector(o, query.count("labelSelector") ? query["labelSelector"] : "")) continue;
      items.push_back(o);
    }
    if (WantsTable(req)) return reply(200, Table(route.resource, items, rv));
    list["items"] = Json::array(items);
    reply(200, list);
    return;
  }
  auto found = store.find(key);
  if (method == "GET") {
    if (found == store.end()) {
      reply(404, StatusBody(404, "NotFound", route.resource + " \"" + route.name + "\" not found"));
    } else if (WantsTable(req)) {
      reply(200, Table(route.resource, {found->second}, rv));
    } else {
      reply(200, found->second);
    }
    return;
  }
  if (route.resource == "secrets" && body.is_object()) NormalizeSecret(body);
  if (method == "POST") {
    std::string name = Str(body, "metadata", "name");
    if (name.empty()) {
      std::string gen = Str(body, "metadata", "generateName");
      if (gen.empty()) {
        reply(422, StatusBody(422, "Invalid", "metadata.name: Required value"));
        return;
      }
      name = gen + std::to_string(rng() % 100000);
      body["metadata"]["name"] = Json::string(name);
    }
    const std::string k = Key(route.resource, route.ns, name);
    if (store.count(k)) {
      reply(409, StatusBody(409, "AlreadyExists", route.resource + " \"" + name + "\" already exists"));
      return;
    }
    StampNew(body, route.resource, route.ns);
    store[k] = body;
    Emit(route.resource, route.ns, "ADDED", body);
    reply(201, body);
    return;
  }
  if (found == store.end()) {
    reply(404, StatusBody(404, "NotFound", route.resource + " \"" + route.name + "\" not found"));
    return;
  }
  Json& current = found->second;
  if (method == "DELETE") {
    Json copy = current;
    DeleteCascade(key);
    reply(200, copy);
    return;
  }
  const bool status_write = route.sub == "status";
  if (status_write && faults.conflict_next_status_writes.load() > 0 &&
      faults.conflict_next_status_writes.fetch_sub(1) > 0) {
    reply(409, StatusBody(409, "Conflict", "Operation cannot be fulfilled: the object has been modified (injected)"));
    return;
  }
  if (status_write && faults.conflict_first_status_write.load()) {
    // Once per object and resourceVersion: the retry (same version) passes.
    const std::string seen = key + "@" + Str(current, "metadata", "resourceVersion");
    if (conflicted_once.insert(seen).second) {
      reply(409, StatusBody(409, "Conflict", "Operation cannot be fulfilled: the object has been modified (injected)"));
      return;
    }
  }
  Json next;
  if (method == "PUT") {
    std::string sent_rv = Str(body, "metadata", "resourceVersion");
    if (!sent_rv.empty() && sent_rv != Str(current, "metadata", "resourceVersion")) {
      reply(409, StatusBody(409, "Conflict",
                            "Operation cannot be fulfilled on " + route.resource + " \"" + route.name +
                                "\": the object has been modified; please apply your changes to the latest version "
                                "and try again"));
      return;
    }
    next = body;
  } else if (method == "PATCH") {
    const bool strategic = req.headers().content_type().find("strategic-merge-patch") != std::string::npos;
    next = strategic ? StrategicMergePatch(current, body) : MergePatch(current, body);
  } else {
    reply(405, StatusBody(405, "MethodNotAllowed", method + " is not supported"));
    return;
  }
  // The status subresource changes only status; the main resource never does.
  Json merged = current;
  if (type.has_status && status_write) {
    if (next.has_field("status")) merged["status"] = next.at("status");
    else if (merged.has_field("status")) merged.as_object().erase("status");
  } else {
    merged = next;
    if (type.has_status) {
      if (current.has_field("status")) merged["status"] = current.at("status");
      else if (merged.has_field("status")) merged.as_object().erase("status");
    }
    // metadata the server owns
    for (const char* f : {"uid", "creationTimestamp", "namespace", "name"}) {
      if (current.at("metadata").has_field(f)) merged["metadata"][f] = current.at("metadata").at(f);
    }
    merged["metadata"]["generation"] = current.at("metadata").at("generation");
    Json old_spec = current.has_field("spec") ? current.at("spec") : Json::null();
    Json new_spec = merged.has_field("spec") ? merged.at("spec") : Json::null();
    if (old_spec.serialize() != new_spec.serialize()) {
      merged["metadata"]["generation"] = Json::number(current.at("metadata").at("generation").as_number().to_int64() + 1);
    }
  }
  merged["kind"] = current.at("kind");
  merged["apiVersion"] = current.at("apiVersion");
  merged["metadata"]["resourceVersion"] = Json::string(std::to_string(++rv));
  current = merged;
  Emit(route.resource, route.ns, "MODIFIED", merged);
  reply(200, merged);
}

void FakeApiServer::Impl::ServeWatch(http::http_request req, const std::string& resource, const std::string& ns,
                                     const std::map<std::string, std::string>& query) {
  if (stopping.load()) {
    req.reply(503, StatusBody(503, "ServiceUnavailable", "the test API server is shutting down"));
    return;
  }
  auto w = std::make_shared<Watcher>();
  w->resource = resource;
  w->ns = ns;
  w->selector = query.count("labelSelector") ? query.at("labelSelector") : "";
  const bool bookmarks = query.count("allowWatchBookmarks") && query.at("allowWatchBookmarks") == "true";
  int timeout = query.count("timeoutSeconds") ? std::stoi(query.at("timeoutSeconds")) : 300;
  std::string from = query.count("resourceVersion") ? query.at("resourceVersion") : "";
  {
    std::lock_guard<std::mutex> l(mu);
    auto queue = [&](const std::string& type, const Json& obj) {
      Json ev = Json::object();
      ev["type"] = Json::string(type);
      ev["object"] = obj;
      w->lines.push_back(ev.serialize() + "\n");
    };
    if (from.empty() || from == "0") {
      for (const auto& [k, o] : store) {
        if (k.rfind(resource + "/", 0) != 0) continue;
        if (!ns.empty() && k.rfind(resource + "/" + ns + "/", 0) != 0) continue;
        if (MatchesSelector(o, w->selector)) queue("ADDED", o);
      }
    } else {
      int64_t since = std::stoll(from);
      if (since < oldest_rv) {
        queue("ERROR", StatusBody(410, "Expired", "too old resource version: " + from + " (" +
                                                      std::to_string(oldest_rv) + ")"));
        w->closed = true;
      } else {
        for (const Event& e : history) {
          if (e.rv <= since || e.resource != resource || (!ns.empty() && e.ns != ns)) continue;
          if (MatchesSelector(e.object, w->selector)) queue(e.type, e.object);
        }
      }
    }
    if (!w->closed) watchers.push_back(w);
  }
  concurrency::streams::producer_consumer_buffer<uint8_t> buf;
  http::http_response resp(200);
  resp.headers().set_content_type("application/json");
  resp.set_body(concurrency::streams::istream(buf));
  watch_replies.Add(req.reply(resp));
  // The stream is written by its own thread, never inside the handler.
  std::lock_guard<std::mutex> l(mu);
  if (stopping.load()) {  // shutting down: end the stream at once
    buf.close(std::ios_base::out).wait();
    return;
  }
  watch_threads.emplace_back([this, w, buf, bookmarks, timeout]() mutable {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
    auto next_bookmark = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (true) {
      std::string line;
      bool closed;
      {
        std::unique_lock<std::mutex> lk(w->mu);
        w->cv.wait_until(lk, std::min(deadline, next_bookmark), [&] { return !w->lines.empty() || w->closed; });
        closed = w->closed && w->lines.empty();
        if (!w->lines.empty()) {
          line = std::move(w->lines.front());
          w->lines.pop_front();
        }
      }
      if (!line.empty()) {
        if (int d = faults.job_watch_delay_ms.load(); d > 0 && w->resource == "jobs") {
          std::this_thread::sleep_for(std::chrono::milliseconds(d));
        }
        buf.putn_nocopy(reinterpret_cast<const uint8_t*>(line.data()), line.size()).wait();
        buf.sync().wait();
        continue;
      }
      auto now = std::chrono::steady_clock::now();
      if (closed || stopping.load() || now >= deadline) break;
      if (bookmarks && now >= next_bookmark) {
        std::string rv_now;
        {
          std::lock_guard<std::mutex> l2(mu);
          rv_now = std::to_string(rv);
        }
        const ResourceType& t = Types().at(w->resource);
        std::string bm = R"({"type":"BOOKMARK","object":{"kind":")" + t.kind + R"(","apiVersion":")" +
                         (t.group.empty() ? t.version : t.group + "/" + t.version) +
                         R"(","metadata":{"resourceVersion":")" + rv_now + "\"}}}\n";
        buf.putn_nocopy(reinterpret_cast<const uint8_t*>(bm.data()), bm.size()).wait();
        buf.sync().wait();
        next_bookmark = now + std::chrono::seconds(1);
      }
    }
    {
      std::lock_guard<std::mutex> l2(mu);
      watchers.erase(std::remove(watchers.begin(), watchers.end(), w), watchers.end());
    }
    buf.close(std::ios_base::out).wait();
  });
}

FakeApiServer::FakeApiServer(int port) : impl_(std::make_unique<Impl>()) {
  impl_->port = port == 0 ? FreeTcpPort() : port;
  impl_->listener = std::make_unique<http::experimental::listener::http_listener>(url());
  Impl* impl = impl_.get();
  impl_->listener->support([impl](http::http_request req) {
    try {
      impl->Handle(req);
    } catch (const std::exception& e) {
      req.reply(500, StatusBody(500, "InternalError", e.what()));
    }
  });
  impl_->listener->open().wait();
}

FakeApiServer::~FakeApiServer() {
  impl_->stopping = true;
  DropWatches();
  // Every watch stream is ended and fully sent before the listener closes
  // (see RepliesInFlight).
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    threads.swap(impl_->watch_threads);
  }
  for (auto& t : threads) t.join();
  impl_->watch_replies.Drain(std::chrono::seconds(10));
  impl_->listener->close().wait();
  // Everything the operator and the runner wrote (statuses, Events, Jobs,
  // Leases; not the Secrets tests put in) goes to the secrets grep.
  if (const char* dir = std::getenv("SCHEMAGATE_TEST_OUTPUT_DIR"); dir != nullptr && *dir != '\0') {
    static std::atomic<int> n{0};
    std::string text;
    std::lock_guard<std::mutex> l(impl_->mu);
    for (const auto& [key, object] : impl_->store) {
      if (key.rfind("secrets/", 0) == 0) continue;
      text += key + " " + object.serialize() + "\n";
    }
    WriteFile(std::string(dir) + "/apiserver-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".log", text);
  }
}

std::string FakeApiServer::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }
int FakeApiServer::port() const { return impl_->port; }
FakeApiServer::Faults& FakeApiServer::faults() { return impl_->faults; }
void FakeApiServer::set_verbose(bool verbose) { impl_->verbose = verbose; }

void FakeApiServer::WriteKubeconfig(const std::string& path, const std::string& ns) const {
  WriteFile(path, "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster:\n    server: " +
                      url() + "\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: " +
                      ns + "\nusers:\n- name: test\n  user:\n    token: sg-planted-token-3b8a\n");
}

void FakeApiServer::DropWatches() {
  std::lock_guard<std::mutex> l(impl_->mu);
  for (auto& w : impl_->watchers) {
    std::lock_guard<std::mutex> lw(w->mu);
    w->closed = true;
    w->cv.notify_one();
  }
}

void FakeApiServer::Compact() {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->history.clear();
  impl_->oldest_rv = impl_->rv;
}

std::set<std::string> FakeApiServer::RbacVerbsUsed() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->rbac_used;
}

int64_t FakeApiServer::RequestCount(const std::string& verb) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->counts.find(verb);
  return it == impl_->counts.end() ? 0 : it->second;
}

web::json::value FakeApiServer::Object(const std::string& resource, const std::string& ns,
                                       const std::string& name) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->store.find(Impl::Key(resource, ns, name));
  return it == impl_->store.end() ? Json::null() : it->second;
}

std::vector<web::json::value> FakeApiServer::Objects(const std::string& resource, const std::string& ns) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<Json> out;
  for (const auto& [k, o] : impl_->store) {
    if (k.rfind(resource + "/" + ns + (ns.empty() ? "" : "/"), 0) == 0) out.push_back(o);
  }
  return out;
}

}  // namespace schemagate::testing
