#include "operator/rbac_authorizer.h"

#include <algorithm>

#include "operator/crd_schema.h"

namespace schemagate::testing {
namespace {

std::string Str(const Json& o, const char* key) {
  return o.is_object() && o.has_field(key) && o.at(key).is_string() ? o.at(key).as_string() : "";
}

std::vector<std::string> Strings(const Json& o, const char* key) {
  std::vector<std::string> out;
  if (!o.is_object() || !o.has_field(key) || !o.at(key).is_array()) return out;
  for (const Json& v : o.at(key).as_array()) {
    if (v.is_string()) out.push_back(v.as_string());
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool RuleAllows(const Json& rule, const RequestAttributes& a) {
  const std::vector<std::string> verbs = Strings(rule, "verbs");
  if (!Contains(verbs, "*") && !Contains(verbs, a.verb)) return false;
  if (a.resource.empty()) {
    for (const std::string& url : Strings(rule, "nonResourceURLs")) {
      if (url == "*" || url == a.path) return true;
      if (!url.empty() && url.back() == '*' && a.path.rfind(url.substr(0, url.size() - 1), 0) == 0) return true;
    }
    return false;
  }
  const std::vector<std::string> groups = Strings(rule, "apiGroups");
  if (!Contains(groups, "*") && !Contains(groups, a.api_group)) return false;
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resource = false;
  for (const std::string& r : Strings(rule, "resources")) {
    if (r == "*" || r == combined) resource = true;
    if (!a.subresource.empty() && r == "*/" + a.subresource) resource = true;
  }
  if (!resource) return false;
  const std::vector<std::string> names = Strings(rule, "resourceNames");
  return names.empty() || (!a.name.empty() && Contains(names, a.name));
}

bool SubjectMatches(const Json& subject, const UserInfo& user, const std::string& binding_ns) {
  const std::string kind = Str(subject, "kind"), name = Str(subject, "name");
  if (kind == "User") return name == user.name;
  if (kind == "Group") return Contains(user.groups, name);
  if (kind == "ServiceAccount") {
    std::string ns = Str(subject, "namespace");
    if (ns.empty()) ns = binding_ns;
    return user.name == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

const Json* FindRole(const std::vector<Json>& roles, const std::string& name, const std::string& ns) {
  for (const Json& r : roles) {
    if (!r.has_field("metadata")) continue;
    if (Str(r.at("metadata"), "name") == name && (ns.empty() || Str(r.at("metadata"), "namespace") == ns)) return &r;
  }
  return nullptr;
}

bool BindingAllows(const Json& binding, const UserInfo& user, const RequestAttributes& a, const RbacObjects& rbac,
                   bool cluster_binding) {
  const std::string binding_ns = binding.has_field("metadata") ? Str(binding.at("metadata"), "namespace") : "";
  if (!cluster_binding && binding_ns != a.ns) return false;
  if (!binding.has_field("subjects") || !binding.at("subjects").is_array()) return false;
  bool bound = false;
  for (const Json& s : binding.at("subjects").as_array()) bound = bound || SubjectMatches(s, user, binding_ns);
  if (!bound || !binding.has_field("roleRef")) return false;
  const Json& ref = binding.at("roleRef");
  const Json* role = Str(ref, "kind") == "ClusterRole" ? FindRole(rbac.cluster_roles, Str(ref, "name"), "")
                                                       : FindRole(rbac.roles, Str(ref, "name"), binding_ns);
  if (role == nullptr || !role->has_field("rules") || !role->at("rules").is_array()) return false;
  for (const Json& rule : role->at("rules").as_array()) {
    if (RuleAllows(rule, a)) return true;
  }
  return false;
}

}  // namespace

UserInfo ServiceAccountUser(const std::string& ns, const std::string& name) {
  return {"system:serviceaccount:" + ns + ":" + name,
          {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}};
}

UserInfo AdminUser() { return {"kubernetes-admin", {"system:masters", "system:authenticated"}}; }

bool Authorize(const UserInfo& user, const RequestAttributes& a, const RbacObjects& rbac) {
  if (Contains(user.groups, "system:masters")) return true;
  if (a.resource.empty() && a.verb == "get" && Contains(user.groups, "system:authenticated")) {
    for (const char* p : {"/api", "/apis", "/openapi", "/version", "/healthz", "/livez", "/readyz"}) {
      if (a.path == p || a.path.rfind(std::string(p) + "/", 0) == 0) return true;
    }
  }
  for (const Json& b : rbac.cluster_role_bindings) {
    if (BindingAllows(b, user, a, rbac, true)) return true;
  }
  if (!a.ns.empty()) {
    for (const Json& b : rbac.role_bindings) {
      if (BindingAllows(b, user, a, rbac, false)) return true;
    }
  }
  return false;
}

Json ForbiddenStatus(const UserInfo& user, const RequestAttributes& a) {
  std::string reason;
  if (a.resource.empty()) {
    reason = "User \"" + user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    const std::string res = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    reason = "User \"" + user.name + "\" cannot " + a.verb + " resource \"" + res + "\" in API group \"" + a.api_group +
             "\"" + (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
  }
  const std::string group_resource = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string message;
  if (a.resource.empty()) {
    message = "forbidden: " + reason;
  } else {
    message = group_resource + (a.name.empty() ? "" : " \"" + a.name + "\"") + " is forbidden: " + reason;
  }
  Json s = FailureStatus(403, "Forbidden", message);
  Json details = Json::object();
  if (!a.name.empty()) details["name"] = Json::string(a.name);
  if (!a.api_group.empty()) details["group"] = Json::string(a.api_group);
  if (!a.resource.empty()) details["kind"] = Json::string(a.resource);
  s["details"] = details;
  return s;
}

}  // namespace schemagate::testing
