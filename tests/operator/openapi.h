// The OpenAPI v3 discovery documents of kube-apiserver, for the test API
// server: /openapi/v3 (the index of group-versions) and
// /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version> (paths and schemas).
// kubectl reads them to decide that the server validates fields itself
// (`kubectl apply` then sends ?fieldValidation=Strict instead of needing
// --validate=false) and for `kubectl explain`.
#ifndef SCHEMAGATE_TESTS_OPERATOR_OPENAPI_H_
#define SCHEMAGATE_TESTS_OPERATOR_OPENAPI_H_

#include <string>
#include <vector>

#include <cpprest/json.h>

namespace schemagate::testing {

using Json = web::json::value;

// One resource of a group-version, as the documents describe it.
struct OpenApiResource {
  std::string resource, kind;
  bool namespaced = true;
  bool has_status = false;
  // A CRD's openAPIV3Schema (null for built-in kinds, which get an open
  // object schema: their fields are not described here).
  Json schema;
};

// {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}
// for group-versions given as "v1" or "group/version".
Json OpenApiIndex(const std::vector<std::string>& group_versions);

// The document of one group-version: for each resource its collection and
// item paths (get, list, create, update, patch, delete; each PUT, POST and
// PATCH takes the fieldValidation query parameter and the PATCH lists the
// merge and JSON patch content types), and its schema under
// components.schemas, tagged with x-kubernetes-group-version-kind. A CRD's
// schema is published as the real server publishes it: metadata as a
// reference to ObjectMeta, apiVersion and kind described.
Json OpenApiGroupVersion(const std::string& group, const std::string& version,
                         const std::vector<OpenApiResource>& resources);

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_OPENAPI_H_
