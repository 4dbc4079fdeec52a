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
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <regex>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>

#include "core/encoding.h"
#include "kube/client.h"
#include "kube/replies_in_flight_cpprest.h"
#include "operator/crd_schema.h"
#include "operator/k8s_protobuf.h"
#include "operator/openapi.h"
#include "operator/rbac_authorizer.h"
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
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  // For kinds a CRD defines: its openAPIV3Schema and additionalPrinterColumns.
  Json schema;
  std::vector<Json> printer_columns;
};
using TypeMap = std::map<std::string, ResourceType>;

// The built-in kinds, with kube-apiserver's short names and categories.
// Custom resources are added when their CRD is created (Impl::RegisterCrd).
const TypeMap& BuiltinTypes() {
  static const TypeMap kTypes = {
      {"jobs", {"batch", "v1", "Job", true, true, {}, {"all"}}},
      {"pods", {"", "v1", "Pod", true, true, {"po"}, {"all"}}},
      {"secrets", {"", "v1", "Secret", true, false}},
      {"configmaps", {"", "v1", "ConfigMap", true, false, {"cm"}}},
      {"events", {"", "v1", "Event", true, false, {"ev"}}},
      {"namespaces", {"", "v1", "Namespace", false, true, {"ns"}}},
      {"leases", {"coordination.k8s.io", "v1", "Lease", true, false}},
      // What `kubectl apply -k manifests/` creates.
      {"serviceaccounts", {"", "v1", "ServiceAccount", true, false, {"sa"}}},
      {"services", {"", "v1", "Service", true, true, {"svc"}, {"all"}}},
      {"deployments", {"apps", "v1", "Deployment", true, true, {"deploy"}, {"all"}}},
      {"roles", {"rbac.authorization.k8s.io", "v1", "Role", true, false}},
      {"rolebindings", {"rbac.authorization.k8s.io", "v1", "RoleBinding", true, false}},
      {"clusterroles", {"rbac.authorization.k8s.io", "v1", "ClusterRole", false, false}},
      {"clusterrolebindings", {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false, false}},
      {"customresourcedefinitions",
       {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", false, true, {"crd", "crds"}, {"api-extensions"}}},
  };
  return kTypes;
}

std::string ApiVersionOf(const ResourceType& t) { return t.group.empty() ? t.version : t.group + "/" + t.version; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Str(const Json& o, const char* a, const char* b = nullptr) {
  if (!o.is_object() || !o.has_field(a)) return "";
  const Json& v = o.at(a);
  if (b == nullptr) return v.is_string() ? v.as_string() : "";
  if (!v.is_object() || !v.has_field(b) || !v.at(b).is_string()) return "";
  return v.at(b).as_string();
}

Json StatusBody(int code, const std::string& reason, const std::string& message) {
  return FailureStatus(code, reason, message);
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

constexpr const char* kAdminToken = "sg-planted-token-3b8a";

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
  TypeMap types = BuiltinTypes();          // built-in kinds and those of CRDs
  std::map<std::string, UserInfo> tokens;  // bearer token -> who it is
  std::atomic<bool> enforce_rbac{false};

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
    const ResourceType& t = types.at(resource);
    Json& md = obj["metadata"];
    if (t.namespaced) md["namespace"] = Json::string(ns);
    md["uid"] = Json::string(std::to_string(rng()) + "-" + std::to_string(++rv));
    md["resourceVersion"] = Json::string(std::to_string(rv));
    md["creationTimestamp"] = Json::string(NowUtc());
    md["generation"] = Json::number(1);
    obj["kind"] = Json::string(t.kind);
    obj["apiVersion"] = Json::string(ApiVersionOf(t));
  }

  // Makes the kind a CRD defines servable (its first served version), or
  // refreshes it on an update. Caller holds mu.
  void RegisterCrd(const Json& crd) {
    const Json& spec = crd.at("spec");
    const Json& names = spec.at("names");
    const std::string plural = Str(names, "plural");
    if (BuiltinTypes().count(plural)) return;
    ResourceType t;
    t.group = Str(spec, "group");
    t.kind = Str(names, "kind");
    t.namespaced = Str(spec, "scope") != "Cluster";
    for (const char* list : {"shortNames", "categories"}) {
      if (!names.has_field(list)) continue;
      for (const Json& n : names.at(list).as_array()) {
        (std::string(list) == "shortNames" ? t.short_names : t.categories).push_back(n.as_string());
      }
    }
    for (const Json& v : spec.at("versions").as_array()) {
      if (v.has_field("served") && v.at("served").is_boolean() && !v.at("served").as_bool()) continue;
      t.version = Str(v, "name");
      t.has_status = v.has_field("subresources") && v.at("subresources").has_field("status");
      t.schema = v.at("schema").at("openAPIV3Schema");
      if (v.has_field("additionalPrinterColumns")) {
        for (const Json& c : v.at("additionalPrinterColumns").as_array()) t.printer_columns.push_back(c);
      }
      break;
    }
    types[plural] = t;
  }

  // The status a real server gives an accepted CRD.
  static void MarkEstablished(Json& crd) {
    Json accepted = crd.at("spec").at("names");
    if (!accepted.has_field("singular")) accepted["singular"] = Json::string(Lower(Str(accepted, "kind")));
    std::vector<Json> conditions;
    for (const char* type : {"NamesAccepted", "Established"}) {
      Json c = Json::object();
      c["type"] = Json::string(type);
      c["status"] = Json::string("True");
      c["reason"] = Json::string(std::string(type) == "Established" ? "InitialNamesAccepted" : "NoConflicts");
      c["lastTransitionTime"] = Json::string(NowUtc());
      conditions.push_back(c);
    }
    std::vector<Json> stored;
    for (const Json& v : crd.at("spec").at("versions").as_array()) {
      if (v.has_field("storage") && v.at("storage").is_boolean() && v.at("storage").as_bool()) stored.push_back(v.at("name"));
    }
    crd["status"]["acceptedNames"] = accepted;
    crd["status"]["conditions"] = Json::array(conditions);
    crd["status"]["storedVersions"] = Json::array(stored);
  }

  bool NamespaceExists(const std::string& ns) const { return store.count(Key("namespaces", "", ns)) > 0; }

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
    // A namespace takes its objects with it; a CRD its custom resources.
    std::vector<std::string> contained;
    std::string plural;
    if (resource == "customresourcedefinitions" && obj.has_field("spec")) plural = Str(obj.at("spec").at("names"), "plural");
    for (const auto& [k, o] : store) {
      const std::string r = k.substr(0, k.find('/'));
      if (resource == "namespaces" && types.count(r) && types.at(r).namespaced &&
          k.rfind(r + "/" + Str(obj, "metadata", "name") + "/", 0) == 0) {
        contained.push_back(k);
      }
      if (!plural.empty() && r == plural) contained.push_back(k);
    }
    for (const std::string& c : contained) DeleteCascade(c);
    if (!plural.empty() && !BuiltinTypes().count(plural)) types.erase(plural);
  }

  // What admitting a custom resource came to: code 0, or the refusal.
  struct Admission {
    int code = 0;
    Json error;
    std::vector<std::string> warnings;  // unknown fields dropped (fieldValidation=Warn)
  };
  // Prunes, defaults and validates a custom resource as the real server
  // does, by fieldValidation `mode` (Strict, Warn, Ignore). Caller holds mu.
  Admission AdmitCustomResource(const ResourceType& t, const std::string& mode, Json& obj);
  RbacObjects Rbac() const;                                // caller holds mu
  Json OpenApi(const std::vector<std::string>& parts) const;  // caller holds mu; null: no such document

  void Handle(http::http_request req);
  void ServeWatch(http::http_request req, const std::string& resource, const std::string& ns,
                  const std::map<std::string, std::string>& query);
};

namespace {

struct Route {
  std::string resource, ns, name, sub;
  bool ok = false;
};

Route ParsePath(const std::vector<std::string>& parts, const TypeMap& types) {
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
  r.ok = types.count(r.resource) > 0;
  return r;
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

Json GroupList(const TypeMap& types) {
  std::map<std::string, std::string> groups;
  for (const auto& [name, t] : types) {
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

Json ResourceList(const TypeMap& types, const std::string& group, const std::string& version) {
  std::vector<Json> out;
  for (const auto& [name, t] : types) {
    if (t.group != group || t.version != version) continue;
    std::vector<Json> verbs;
    for (const char* v : {"create", "delete", "get", "list", "patch", "update", "watch"}) verbs.push_back(Json::string(v));
    Json r = Json::object();
    r["name"] = Json::string(name);
    r["singularName"] = Json::string(Lower(t.kind));
    r["namespaced"] = Json::boolean(t.namespaced);
    r["kind"] = Json::string(t.kind);
    r["verbs"] = Json::array(verbs);
    std::vector<Json> short_names, categories;
    for (const std::string& n : t.short_names) short_names.push_back(Json::string(n));
    for (const std::string& c : t.categories) categories.push_back(Json::string(c));
    if (!short_names.empty()) r["shortNames"] = Json::array(short_names);
    if (!categories.empty()) r["categories"] = Json::array(categories);
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

// The simple JSONPath of additionalPrinterColumns: .a.b, [N] and
// [?(@.field=="value")] on lists. Null when nothing matches.
Json JsonPathValue(const Json& root, const std::string& path) {
  Json cur = root;
  size_t i = 0;
  while (i < path.size()) {
    if (cur.is_null()) return cur;
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      if (end == std::string::npos) end = path.size();
      const std::string field = path.substr(i + 1, end - i - 1);
      cur = cur.is_object() && cur.has_field(field) ? cur.at(field) : Json::null();
      i = end;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      if (end == std::string::npos) return Json::null();
      const std::string inner = path.substr(i + 1, end - i - 1);
      i = end + 1;
      if (!cur.is_array()) return Json::null();
      if (inner.rfind("?(@.", 0) == 0) {
        size_t eq = inner.find("==");
        const std::string field = inner.substr(4, eq - 4);
        std::string want = inner.substr(eq + 2, inner.size() - eq - 3);
        if (want.size() >= 2 && (want[0] == '"' || want[0] == '\'')) want = want.substr(1, want.size() - 2);
        Json found = Json::null();
        for (const Json& e : cur.as_array()) {
          if (Str(e, field.c_str()) == want) {
            found = e;
            break;
          }
        }
        cur = found;
      } else {
        size_t n = std::stoul(inner);
        cur = n < cur.size() ? cur.as_array().at(n) : Json::null();
      }
    } else {
      return Json::null();
    }
  }
  return cur;
}

// apimachinery's HumanDuration: "12s", "3m20s", "5h", "2d3h", "1y20d".
std::string HumanDuration(int64_t seconds) {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  const int64_t minutes = seconds / 60, hours = seconds / 3600, days = hours / 24;
  if (minutes < 10) return std::to_string(minutes) + "m" + (seconds % 60 ? std::to_string(seconds % 60) + "s" : "");
  if (minutes < 180) return std::to_string(minutes) + "m";
  if (hours < 8) return std::to_string(hours) + "h" + (minutes % 60 ? std::to_string(minutes % 60) + "m" : "");
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 192) return std::to_string(days) + "d" + (hours % 24 ? std::to_string(hours % 24) + "h" : "");
  if (hours < 24 * 365 * 2) return std::to_string(days) + "d";
  if (hours < 24 * 365 * 8) return std::to_string(days / 365) + "y" + (days % 365 ? std::to_string(days % 365) + "d" : "");
  return std::to_string(days / 365) + "y";
}

// A timestamp ("2024-05-01T10:00:00Z") as the age column prints it.
Json Age(const Json& timestamp) {
  if (!timestamp.is_string()) return Json::null();
  std::tm tm{};
  if (strptime(timestamp.as_string().c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return Json::string("<invalid>");
  return Json::string(HumanDuration(static_cast<int64_t>(std::time(nullptr) - timegm(&tm))));
}

// The server-side table kubectl prints: for a CRD's kind its
// additionalPrinterColumns (date columns as durations, missing values
// null), for built-in kinds the columns kube-apiserver prints for them.
Json Table(const std::string& resource, const ResourceType& type, const std::vector<Json>& items, int64_t rv) {
  auto column = [](const std::string& name, const std::string& type, const std::string& format,
                   const std::string& description = "") {
    Json c = Json::object();
    c["name"] = Json::string(name);
    c["type"] = Json::string(type);
    c["format"] = Json::string(format);
    c["description"] = Json::string(description);
    c["priority"] = Json::number(0);
    return c;
  };
  using Cell = std::function<Json(const Json&)>;
  std::vector<Json> columns{column("Name", "string", "name", "Name must be unique within a namespace.")};
  std::vector<Cell> cells{[](const Json& o) { return Json::string(Str(o, "metadata", "name")); }};
  auto add = [&](const std::string& name, const std::string& t, Cell cell) {
    columns.push_back(column(name, t, ""));
    cells.push_back(std::move(cell));
  };
  auto at = [](const char* path) { return [p = std::string(path)](const Json& o) { return JsonPathValue(o, p); }; };
  auto count = [](const Json& o, std::initializer_list<const char*> fields) {
    size_t n = 0;
    for (const char* f : fields) n += o.has_field(f) && o.at(f).is_object() ? o.at(f).size() : 0;
    return Json::number(static_cast<int64_t>(n));
  };
  bool has_age = false;
  if (type.schema.is_object()) {
    for (const Json& c : type.printer_columns) {
      const std::string t = Str(c, "type"), path = Str(c, "jsonPath");
      has_age |= path == ".metadata.creationTimestamp";
      add(Str(c, "name"), t, [t, path](const Json& o) {
        Json v = JsonPathValue(o, path);
        if (v.is_null()) return v;
        if (t == "date") return Age(v);
        if (t == "integer") return v.is_number() ? v : Json::null();
        if (t == "string") return v.is_string() ? v : Json::string(v.serialize());
        return v;
      });
    }
  } else if (resource == "namespaces") {
    add("Status", "string", at(".status.phase"));
  } else if (resource == "configmaps") {
    add("Data", "integer", [count](const Json& o) { return count(o, {"data", "binaryData"}); });
  } else if (resource == "secrets") {
    add("Type", "string", at(".type"));
    add("Data", "integer", [count](const Json& o) { return count(o, {"data"}); });
  } else if (resource == "pods") {
    add("Ready", "string", [](const Json& o) {
      size_t ready = 0, all = 0;
      if (const Json* s = kube::GetField(o, {"status", "containerStatuses"}); s != nullptr && s->is_array()) {
        for (const Json& c : s->as_array()) ready += c.has_field("ready") && c.at("ready").is_boolean() && c.at("ready").as_bool();
      }
      if (const Json* c = kube::GetField(o, {"spec", "containers"}); c != nullptr && c->is_array()) all = c->size();
      return Json::string(std::to_string(ready) + "/" + std::to_string(all));
    });
    add("Status", "string", at(".status.phase"));
    add("Restarts", "string", [](const Json&) { return Json::string("0"); });
  } else if (resource == "deployments") {
    add("Ready", "string", [](const Json& o) {
      return Json::string(std::to_string(kube::GetInt(o, {"status", "readyReplicas"})) + "/" +
                          std::to_string(kube::GetInt(o, {"spec", "replicas"}, 1)));
    });
    add("Up-to-date", "integer", [](const Json& o) { return Json::number(kube::GetInt(o, {"status", "updatedReplicas"})); });
    add("Available", "integer", [](const Json& o) { return Json::number(kube::GetInt(o, {"status", "availableReplicas"})); });
  } else if (resource == "jobs") {
    add("Completions", "string", [](const Json& o) {
      return Json::string(std::to_string(kube::GetInt(o, {"status", "succeeded"})) + "/" +
                          std::to_string(kube::GetInt(o, {"spec", "completions"}, 1)));
    });
  }
  if (!has_age) add("Age", "string", [](const Json& o) { return Age(JsonPathValue(o, ".metadata.creationTimestamp")); });
  std::vector<Json> rows;
  for (const Json& o : items) {
    std::vector<Json> row_cells;
    for (const Cell& c : cells) row_cells.push_back(c(o));
    Json meta = Json::object();
    meta["kind"] = Json::string("PartialObjectMetadata");
    meta["apiVersion"] = Json::string("meta.k8s.io/v1");
    meta["metadata"] = o.at("metadata");
    Json row = Json::object();
    row["cells"] = Json::array(row_cells);
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

// kube-apiserver's 404 for a named object: details name the kind.
Json NotFoundStatus(const std::string& resource, const std::string& name) {
  Json s = StatusBody(404, "NotFound", resource + " \"" + name + "\" not found");
  s["details"]["name"] = Json::string(name);
  s["details"]["kind"] = Json::string(resource);
  return s;
}

// The RBAC verb of a request, as the real server's authorizer sees it.
std::string RbacVerb(const std::string& method, bool watch, bool named) {
  if (watch) return "watch";
  if (method == "GET" || method == "HEAD") return named ? "get" : "list";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return named ? "delete" : "deletecollection";
  return Lower(method);
}

// metadata.name of most kinds: an RFC 1123 subdomain.
bool IsDnsSubdomain(const std::string& name) {
  static const std::regex re(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return name.size() <= 253 && std::regex_match(name, re);
}

// The request body as the real server reads it: JSON, YAML, or the
// Kubernetes protobuf kubectl sends for built-in kinds.
Json ReadBody(http::http_request& req, int* code, std::string* error) {
  const std::vector<unsigned char> raw = req.extract_vector().get();
  const std::string text(raw.begin(), raw.end());
  const std::string type = req.headers().content_type();
  try {
    if (type.find("protobuf") != std::string::npos) {
      Json body = DecodeKubernetesProtobuf(text, error);
      if (!error->empty()) *code = 415;
      return body;
    }
    if (type.find("yaml") != std::string::npos) return YamlToJson(text);
    return Json::parse(text);
  } catch (const std::exception& e) {
    *code = 400;
    *error = std::string("the body of the request could not be decoded: ") + e.what();
    return Json::null();
  }
}

}  // namespace

FakeApiServer::Impl::Admission FakeApiServer::Impl::AdmitCustomResource(const ResourceType& t, const std::string& mode,
                                                                         Json& obj) {
  Admission a;
  std::vector<std::string> unknown = Prune(obj, t.schema);
  if (!unknown.empty() && mode == "Strict") {
    std::string list;
    for (const std::string& u : unknown) list += (list.empty() ? "" : ", ") + ("unknown field \"" + u + "\"");
    a.code = 400;
    a.error = StatusBody(400, "BadRequest",
                         t.kind + " in version \"" + t.version + "\" cannot be handled as a " + t.kind +
                             ": strict decoding error: " + list);
    return a;
  }
  if (mode != "Ignore") {
    for (const std::string& u : unknown) a.warnings.push_back("unknown field \"" + u + "\"");
  }
  ApplyDefaults(obj, t.schema);
  std::vector<FieldError> errors = Validate(obj, t.schema);
  if (!errors.empty()) {
    a.code = 422;
    a.error = InvalidStatus(t.kind, t.group, Str(obj, "metadata", "name"), errors);
  }
  return a;
}

RbacObjects FakeApiServer::Impl::Rbac() const {
  RbacObjects r;
  for (const auto& [k, o] : store) {
    const std::string res = k.substr(0, k.find('/'));
    if (res == "roles") r.roles.push_back(o);
    if (res == "clusterroles") r.cluster_roles.push_back(o);
    if (res == "rolebindings") r.role_bindings.push_back(o);
    if (res == "clusterrolebindings") r.cluster_role_bindings.push_back(o);
  }
  return r;
}

Json FakeApiServer::Impl::OpenApi(const std::vector<std::string>& parts) const {
  std::map<std::string, std::vector<OpenApiResource>> by_gv;
  for (const auto& [name, t] : types) {
    by_gv[ApiVersionOf(t)].push_back({name, t.kind, t.namespaced, t.has_status, t.schema});
  }
  if (parts.size() == 2) {
    std::vector<std::string> gvs;
    for (const auto& [gv, r] : by_gv) gvs.push_back(gv);
    return OpenApiIndex(gvs);
  }
  std::string group, version;
  if (parts.size() == 4 && parts[2] == "api") version = parts[3];
  else if (parts.size() == 5 && parts[2] == "apis") group = parts[3], version = parts[4];
  auto it = by_gv.find(group.empty() ? version : group + "/" + version);
  if (version.empty() || it == by_gv.end()) return Json::null();
  return OpenApiGroupVersion(group, version, it->second);
}

void FakeApiServer::Impl::Handle(http::http_request req) {
  auto parts = web::uri::split_path(web::uri::decode(req.relative_uri().path()));
  auto query = web::uri::split_query(req.relative_uri().query());
  for (auto& [k, v] : query) v = web::uri::decode(v);
  const std::string method = req.method();
  const std::string path = req.relative_uri().path();
  if (verbose.load()) std::fprintf(stderr, "apiserver: %s %s\n", method.c_str(), req.relative_uri().to_string().c_str());
  Route route;
  {
    std::lock_guard<std::mutex> l(mu);
    route = ParsePath(parts, types);
  }
  auto reply = [&req](int code, const Json& body, const std::vector<std::string>& warnings = {}) {
    http::http_response resp(code);
    resp.set_body(body);
    for (const std::string& w : warnings) {
      std::string quoted = "\"";
      for (char c : w) quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
      resp.headers().add("Warning", "299 - " + quoted + "\"");
    }
    req.reply(resp);
  };
  const bool watch = query.count("watch") && (query["watch"] == "1" || query["watch"] == "true");

  // Authentication: a bearer token this server issued, or none (the
  // simulated cluster's own components: the kubelet simulator, test code).
  UserInfo user{"system:schemagate-test-cluster", {"system:masters"}};
  const auto auth = req.headers().find("Authorization");
  const bool has_token = auth != req.headers().end();
  if (has_token) {
    std::string token = auth->second.rfind("Bearer ", 0) == 0 ? auth->second.substr(7) : auth->second;
    std::lock_guard<std::mutex> l(mu);
    auto it = tokens.find(token);
    if (it == tokens.end()) {
      reply(401, StatusBody(401, "Unauthorized", "Unauthorized"));
      return;
    }
    user = it->second;
  }
  RequestAttributes attrs;
  attrs.verb = RbacVerb(method, watch, !route.name.empty());
  attrs.path = path;
  if (route.ok) {
    std::lock_guard<std::mutex> l(mu);
    attrs.api_group = types.at(route.resource).group;
    attrs.resource = route.resource;
    attrs.subresource = route.sub;
    attrs.ns = route.ns;
    attrs.name = route.name;
  }
  const bool admin = std::find(user.groups.begin(), user.groups.end(), "system:masters") != user.groups.end();
  if (route.ok) {
    // Counted per verb, and per client ("token": bearer token, e.g. the
    // operator; "anonymous": the kubelet simulator and test code).
    const std::string client = has_token ? "token" : "anonymous";
    std::lock_guard<std::mutex> l(mu);
    ++counts[watch ? "WATCH" : method];
    ++counts[client + " " + (watch ? "WATCH" : method)];
    // What a non-administrator (the operator's ServiceAccount) needed.
    if (has_token && !admin) rbac_used.insert(route.resource + (route.sub.empty() ? "" : "/" + route.sub) + " " + attrs.verb);
  }
  if (enforce_rbac.load() && !admin) {
    bool allowed;
    {
      std::lock_guard<std::mutex> l(mu);
      allowed = Authorize(user, attrs, Rbac());
    }
    if (!allowed) {
      if (verbose.load()) std::fprintf(stderr, "apiserver: 403 %s %s for %s\n", attrs.verb.c_str(), path.c_str(), user.name.c_str());
      reply(403, ForbiddenStatus(user, attrs));
      return;
    }
  }
  if (!route.ok) {
    // Discovery, as kubectl probes it.
    if (parts.size() == 1 && parts[0] == "api") return reply(200, ApiVersions());
    std::lock_guard<std::mutex> l(mu);
    if (parts.size() == 1 && parts[0] == "apis") return reply(200, GroupList(types));
    if (parts.size() == 2 && parts[0] == "api") return reply(200, ResourceList(types, "", parts[1]));
    if (parts.size() == 3 && parts[0] == "apis") return reply(200, ResourceList(types, parts[1], parts[2]));
    if (parts.size() >= 2 && parts[0] == "openapi" && parts[1] == "v3") {
      Json doc = OpenApi(parts);
      if (!doc.is_null()) return reply(200, doc);
    }
    if (path == "/_stats") {  // request counts, for benchmarks
      Json stats = Json::object();
      for (const auto& [k, v] : counts) stats[k] = Json::number(v);
      return reply(200, stats);
    }
    if (path == "/version") {
      Json v = Json::object();
      v["major"] = Json::string("1");
      v["minor"] = Json::string("35");
      v["gitVersion"] = Json::string("v1.35.0-schemagate-test");
      return reply(200, v);
    }
    reply(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    return;
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
  Json body = Json::null();
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    int code = 0;
    std::string error;
    body = ReadBody(req, &code, &error);
    if (!error.empty()) {
      reply(code, StatusBody(code, code == 415 ? "UnsupportedMediaType" : "BadRequest", error));
      return;
    }
  }
  const std::string mode = query.count("fieldValidation") ? query["fieldValidation"] : "Warn";

  std::lock_guard<std::mutex> l(mu);
  if (!types.count(route.resource)) {  // its CRD was deleted meanwhile
    reply(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  const ResourceType type = types.at(route.resource);
  const bool custom = type.schema.is_object();
  const bool crd = route.resource == "customresourcedefinitions";
  const std::string key = Key(route.resource, route.ns, route.name);
  if (method == "GET" && route.name.empty()) {
    Json list = Json::object();
    list["kind"] = Json::string(type.kind + "List");
    list["apiVersion"] = Json::string(ApiVersionOf(type));
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
    if (WantsTable(req)) return reply(200, Table(route.resource, type, items, rv));
    list["items"] = Json::array(items);
    reply(200, list);
    return;
  }
  auto found = store.find(key);
  const std::string group_resource = type.group.empty() ? route.resource : route.resource + "." + type.group;
  if (method == "GET") {
    if (found == store.end()) {
      reply(404, NotFoundStatus(group_resource, route.name));
    } else if (WantsTable(req)) {
      reply(200, Table(route.resource, type, {found->second}, rv));
    } else {
      reply(200, found->second);
    }
    return;
  }
  if (route.resource == "secrets" && body.is_object()) NormalizeSecret(body);
  if (method == "POST") {
    if (!body.is_object()) {
      reply(400, StatusBody(400, "BadRequest", "the body of the request is not an object"));
      return;
    }
    if (type.namespaced && !NamespaceExists(route.ns)) {
      reply(404, NotFoundStatus("namespaces", route.ns));
      return;
    }
    const std::string body_ns = Str(body, "metadata", "namespace");
    if (type.namespaced && !body_ns.empty() && body_ns != route.ns) {
      reply(400, StatusBody(400, "BadRequest",
                            "the namespace of the provided object does not match the namespace sent on the request"));
      return;
    }
    std::string name = Str(body, "metadata", "name");
    if (name.empty()) {
      std::string gen = Str(body, "metadata", "generateName");
      if (gen.empty()) {
        reply(422, InvalidStatus(type.kind, type.group, "",
                                 {{"FieldValueRequired", "metadata.name", "Required value: name or generateName is required"}}));
        return;
      }
      name = gen + std::to_string(rng() % 100000);
      body["metadata"]["name"] = Json::string(name);
    }
    if (!IsDnsSubdomain(name)) {
      reply(422, InvalidStatus(type.kind, type.group, name,
                               {{"FieldValueInvalid", "metadata.name",
                                 "Invalid value: \"" + name +
                                     "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                     "characters, '-' or '.', and must start and end with an alphanumeric character "
                                     "(e.g. 'example.com', regex used for validation is "
                                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}}));
      return;
    }
    const std::string k = Key(route.resource, route.ns, name);
    if (store.count(k)) {
      reply(409, StatusBody(409, "AlreadyExists", group_resource + " \"" + name + "\" already exists"));
      return;
    }
    std::vector<std::string> warnings;
    if (custom) {
      if (type.has_status && body.has_field("status")) body.as_object().erase("status");  // ignored on create
      Admission a = AdmitCustomResource(type, mode, body);
      if (a.code != 0) return reply(a.code, a.error);
      warnings = a.warnings;
    }
    if (crd) {
      std::vector<FieldError> errors = CheckCrd(body);
      if (errors.empty() && name != Str(body.at("spec").at("names"), "plural") + "." + Str(body.at("spec"), "group")) {
        errors.push_back({"FieldValueInvalid", "metadata.name",
                          "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group"});
      }
      if (!errors.empty()) return reply(422, InvalidStatus(type.kind, type.group, name, errors));
      MarkEstablished(body);
    }
    StampNew(body, route.resource, route.ns);
    if (route.resource == "namespaces") {
      body["spec"]["finalizers"] = Json::array({Json::string("kubernetes")});
      body["status"]["phase"] = Json::string("Active");
    }
    if (crd) RegisterCrd(body);
    store[k] = body;
    Emit(route.resource, route.ns, "ADDED", body);
    reply(201, body, warnings);
    return;
  }
  if (found == store.end()) {
    reply(404, NotFoundStatus(group_resource, route.name));
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
                            "Operation cannot be fulfilled on " + group_resource + " \"" + route.name +
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
  }
  merged["kind"] = current.at("kind");
  merged["apiVersion"] = current.at("apiVersion");
  std::vector<std::string> warnings;
  if (custom) {
    Admission a = AdmitCustomResource(type, mode, merged);
    if (a.code != 0) return reply(a.code, a.error);
    warnings = a.warnings;
  }
  if (crd && !status_write) {
    std::vector<FieldError> errors = CheckCrd(merged);
    if (!errors.empty()) return reply(422, InvalidStatus(type.kind, type.group, route.name, errors));
    MarkEstablished(merged);
    RegisterCrd(merged);
  }
  merged["metadata"]["generation"] = current.at("metadata").at("generation");
  if (!status_write) {
    Json old_spec = current.has_field("spec") ? current.at("spec") : Json::null();
    Json new_spec = merged.has_field("spec") ? merged.at("spec") : Json::null();
    if (old_spec.serialize() != new_spec.serialize()) {
      merged["metadata"]["generation"] = Json::number(current.at("metadata").at("generation").as_number().to_int64() + 1);
    }
  }
  merged["metadata"]["resourceVersion"] = Json::string(std::to_string(++rv));
  current = merged;
  Emit(route.resource, route.ns, "MODIFIED", merged);
  reply(200, merged, warnings);
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
        std::string kind, api_version;
        {
          std::lock_guard<std::mutex> l2(mu);
          auto t = types.find(w->resource);
          if (t != types.end()) kind = t->second.kind, api_version = ApiVersionOf(t->second);
        }
        std::string bm = R"({"type":"BOOKMARK","object":{"kind":")" + kind + R"(","apiVersion":")" + api_version +
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

FakeApiServer::FakeApiServer(int port, bool with_migration_crd) : impl_(std::make_unique<Impl>()) {
  impl_->port = port == 0 ? FreeTcpPort() : port;
  impl_->tokens[kAdminToken] = AdminUser();
  {
    // What a new cluster has: its namespaces, and (unless asked otherwise)
    // the Migration CRD, as if applied from charts/schemagate/crds/.
    std::lock_guard<std::mutex> l(impl_->mu);
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      Json n = Json::object();
      n["metadata"]["name"] = Json::string(ns);
      impl_->StampNew(n, "namespaces", "");
      n["spec"]["finalizers"] = Json::array({Json::string("kubernetes")});
      n["status"]["phase"] = Json::string("Active");
      impl_->store[Impl::Key("namespaces", "", ns)] = n;
    }
    if (with_migration_crd) {
      Json crd = YamlToJson(kMigrationCrdYaml);
      impl_->StampNew(crd, "customresourcedefinitions", "");
      Impl::MarkEstablished(crd);
      impl_->RegisterCrd(crd);
      impl_->store[Impl::Key("customresourcedefinitions", "", Str(crd, "metadata", "name"))] = crd;
    }
  }
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

namespace {
std::string Kubeconfig(const std::string& url, const std::string& ns, const std::string& token) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster:\n    server: " + url +
         "\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: " + ns +
         "\nusers:\n- name: test\n  user:\n    token: " + token + "\n";
}
}  // namespace

void FakeApiServer::WriteKubeconfig(const std::string& path, const std::string& ns) const {
  WriteFile(path, Kubeconfig(url(), ns, kAdminToken));
}

void FakeApiServer::WriteServiceAccountKubeconfig(const std::string& path, const std::string& sa_namespace,
                                                  const std::string& sa_name, const std::string& ns) const {
  const std::string token = "sg-planted-token-sa-" + sa_namespace + "-" + sa_name;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->tokens[token] = ServiceAccountUser(sa_namespace, sa_name);
  }
  WriteFile(path, Kubeconfig(url(), ns, token));
}

void FakeApiServer::EnforceRbac(bool on) { impl_->enforce_rbac = on; }

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
