// Authentication by bearer token and RBAC authorization as kube-apiserver
// does them, for the test API server: who a request is, and whether the
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings stored in the
// server allow it; a refusal is the real server's 403 Status.
#ifndef SCHEMAGATE_TESTS_OPERATOR_RBAC_AUTHORIZER_H_
#define SCHEMAGATE_TESTS_OPERATOR_RBAC_AUTHORIZER_H_

#include <string>
#include <vector>

#include <cpprest/json.h>

namespace schemagate::testing {

using Json = web::json::value;

struct UserInfo {
  std::string name;                 // "system:serviceaccount:ns:sa", "kubernetes-admin"
  std::vector<std::string> groups;  // "system:masters", "system:serviceaccounts:ns", ...
};

// The user and groups kube-apiserver gives a ServiceAccount token's bearer.
UserInfo ServiceAccountUser(const std::string& ns, const std::string& name);
// An administrator: in system:masters, which RBAC never refuses.
UserInfo AdminUser();

// What a request asks for, as the authorizer sees it. `verb` is the RBAC
// verb (get, list, watch, create, update, patch, delete, deletecollection);
// for a request that is not about a resource, `path` is set and `resource`
// is empty.
struct RequestAttributes {
  std::string verb, api_group, resource, subresource, ns, name, path;
};

// The RBAC objects an authorization decision reads (as stored: JSON).
struct RbacObjects {
  std::vector<Json> roles, cluster_roles, role_bindings, cluster_role_bindings;
};

// Whether RBAC allows `user` to do `attrs`: system:masters always; any
// authenticated user the discovery paths (/api, /apis, /openapi, /version,
// as the default system:discovery role); otherwise a rule of a role bound
// to the user (by User, Group or ServiceAccount subject) whose apiGroups,
// resources ("*", "res", "res/sub", "*/sub"), verbs and resourceNames match.
// A RoleBinding grants only in its own namespace; a ClusterRoleBinding
// everywhere.
bool Authorize(const UserInfo& user, const RequestAttributes& attrs, const RbacObjects& rbac);

// The real 403: `configmaps is forbidden: User "system:serviceaccount:a:b"
// cannot list resource "configmaps" in API group "" in the namespace "x"`
// (`... at the cluster scope` without a namespace; `migrations.schemagate.io
// "m" is forbidden: ...` with a group and a name), reason Forbidden,
// details {name, group, kind}.
Json ForbiddenStatus(const UserInfo& user, const RequestAttributes& attrs);

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_RBAC_AUTHORIZER_H_
