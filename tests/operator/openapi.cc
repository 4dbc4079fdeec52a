#include "operator/openapi.h"

#include <functional>

namespace schemagate::testing {
namespace {

constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

std::string GroupVersion(const std::string& group, const std::string& version) {
  return group.empty() ? version : group + "/" + version;
}

// "schemagate.io" -> "io.schemagate"; core kinds are io.k8s.api.core.
std::string SchemaName(const std::string& group, const std::string& version, const std::string& kind) {
  if (group.empty()) return "io.k8s.api.core." + version + "." + kind;
  if (group.find('.') == std::string::npos || group.size() > 8 && group.substr(group.size() - 8) == ".k8s.io") {
    std::string short_group = group.substr(0, group.find('.'));
    if (group == "apiextensions.k8s.io") return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions." + version + "." + kind;
    return "io.k8s.api." + short_group + "." + version + "." + kind;
  }
  std::string reversed, rest = group;
  while (!rest.empty()) {
    size_t dot = rest.rfind('.');
    std::string part = dot == std::string::npos ? rest : rest.substr(dot + 1);
    reversed += (reversed.empty() ? "" : ".") + part;
    rest = dot == std::string::npos ? "" : rest.substr(0, dot);
  }
  return reversed + "." + version + "." + kind;
}

Json Gvk(const std::string& group, const std::string& version, const std::string& kind) {
  Json g = Json::object();
  g["group"] = Json::string(group);
  g["version"] = Json::string(version);
  g["kind"] = Json::string(kind);
  return Json::array({g});
}

Json Param(const std::string& name, const std::string& in, const std::string& description) {
  Json p = Json::object();
  p["name"] = Json::string(name);
  p["in"] = Json::string(in);
  p["description"] = Json::string(description);
  if (in == "path") p["required"] = Json::boolean(true);
  p["schema"]["type"] = Json::string("string");
  p["schema"]["uniqueItems"] = Json::boolean(true);
  return p;
}

Json Operation(const std::string& id, const std::string& action, const Json& gvk, const std::string& schema_ref,
               bool writes, const std::vector<std::string>& body_types) {
  Json op = Json::object();
  op["operationId"] = Json::string(id);
  op["x-kubernetes-action"] = Json::string(action);
  op["x-kubernetes-group-version-kind"] = gvk.as_array().at(0);
  std::vector<Json> params;
  if (writes) {
    params.push_back(Param("dryRun", "query", "When present, indicates that modifications should not be persisted."));
    params.push_back(Param("fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes."));
    params.push_back(Param("fieldValidation", "query",
                           "fieldValidation instructs the server on how to handle objects in the request containing "
                           "unknown or duplicate fields. Valid values are: Ignore, Warn (the default), Strict."));
  }
  op["parameters"] = Json::array(params);
  if (!body_types.empty()) {
    Json content = Json::object();
    for (const std::string& t : body_types) content[t]["schema"]["$ref"] = Json::string(schema_ref);
    op["requestBody"]["content"] = content;
    op["requestBody"]["required"] = Json::boolean(true);
  }
  Json ok = Json::object();
  ok["description"] = Json::string("OK");
  ok["content"]["application/json"]["schema"]["$ref"] = Json::string(schema_ref);
  op["responses"]["200"] = ok;
  return op;
}

// The CRD schema as published: descriptions for apiVersion and kind,
// metadata as ObjectMeta.
Json PublishedSchema(Json schema) {
  if (!schema.is_object()) schema = Json::object();
  schema["properties"]["apiVersion"]["type"] = Json::string("string");
  schema["properties"]["apiVersion"]["description"] = Json::string(
      "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized "
      "schemas to the latest internal value, and may reject unrecognized values. More info: "
      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources");
  schema["properties"]["kind"]["type"] = Json::string("string");
  schema["properties"]["kind"]["description"] = Json::string(
      "Kind is a string value representing the REST resource this object represents. Servers may infer this from the "
      "endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds");
  Json md = Json::object();
  md["allOf"] = Json::array({Json::object()});
  md["allOf"][0]["$ref"] = Json::string(std::string("#/components/schemas/") + kObjectMeta);
  md["description"] = Json::string(
      "Standard object's metadata. More info: "
      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata");
  schema["properties"]["metadata"] = md;
  return schema;
}

Json ObjectMetaSchema() {
  Json s = Json::object();
  s["type"] = Json::string("object");
  s["description"] = Json::string(
      "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.");
  auto prop = [&s](const char* name, const char* type, const char* description) {
    s["properties"][name]["type"] = Json::string(type);
    s["properties"][name]["description"] = Json::string(description);
  };
  prop("name", "string", "Name must be unique within a namespace.");
  prop("namespace", "string", "Namespace defines the space within which each name must be unique.");
  prop("labels", "object", "Map of string keys and values that can be used to organize and categorize objects.");
  prop("annotations", "object", "Annotations is an unstructured key value map stored with a resource.");
  prop("uid", "string", "UID is the unique in time and space value for this object.");
  prop("resourceVersion", "string", "An opaque value that represents the internal version of this object.");
  prop("generation", "integer", "A sequence number representing a specific generation of the desired state.");
  prop("creationTimestamp", "string", "CreationTimestamp is a timestamp representing the server time when this object was created.");
  s["properties"]["labels"]["additionalProperties"]["type"] = Json::string("string");
  s["properties"]["annotations"]["additionalProperties"]["type"] = Json::string("string");
  return s;
}

}  // namespace

Json OpenApiIndex(const std::vector<std::string>& group_versions) {
  Json paths = Json::object();
  for (const std::string& gv : group_versions) {
    const std::string key = gv.find('/') == std::string::npos ? "api/" + gv : "apis/" + gv;
    paths[key]["serverRelativeURL"] =
        Json::string("/openapi/v3/" + key + "?hash=" + std::to_string(std::hash<std::string>{}(key) % 1000000007));
  }
  Json index = Json::object();
  index["paths"] = paths;
  return index;
}

Json OpenApiGroupVersion(const std::string& group, const std::string& version,
                         const std::vector<OpenApiResource>& resources) {
  Json doc = Json::object();
  doc["openapi"] = Json::string("3.0.0");
  doc["info"]["title"] = Json::string("Kubernetes");
  doc["info"]["version"] = Json::string("v1.32.0");
  Json paths = Json::object();
  Json schemas = Json::object();
  schemas[kObjectMeta] = ObjectMetaSchema();
  const std::string prefix = "/" + std::string(group.empty() ? "api/" : "apis/") + GroupVersion(group, version);
  const std::vector<std::string> patch_types = {"application/json-patch+json", "application/merge-patch+json",
                                                "application/apply-patch+yaml"};
  const std::vector<std::string> json_body = {"application/json"};
  for (const OpenApiResource& r : resources) {
    const std::string name = SchemaName(group, version, r.kind);
    const std::string ref = "#/components/schemas/" + name;
    const Json gvk = Gvk(group, version, r.kind);
    Json schema;
    if (r.schema.is_object()) {
      schema = PublishedSchema(r.schema);
    } else {
      schema = Json::object();
      schema["type"] = Json::string("object");
      schema["x-kubernetes-preserve-unknown-fields"] = Json::boolean(true);
    }
    schema["x-kubernetes-group-version-kind"] = gvk;
    schemas[name] = schema;
    const std::string base = prefix + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    const std::string id = r.kind;
    Json collection = Json::object();
    collection["get"] = Operation("list" + id, "list", gvk, ref, false, {});
    collection["post"] = Operation("create" + id, "post", gvk, ref, true, json_body);
    collection["parameters"] = Json::array();
    if (r.namespaced) collection["parameters"] = Json::array({Param("namespace", "path", "object name and auth scope")});
    paths[base] = collection;
    Json item = Json::object();
    item["get"] = Operation("read" + id, "get", gvk, ref, false, {});
    item["put"] = Operation("replace" + id, "put", gvk, ref, true, json_body);
    item["patch"] = Operation("patch" + id, "patch", gvk, ref, true, patch_types);
    item["delete"] = Operation("delete" + id, "delete", gvk, ref, false, {});
    std::vector<Json> params{Param("name", "path", "name of the " + r.kind)};
    if (r.namespaced) params.push_back(Param("namespace", "path", "object name and auth scope"));
    item["parameters"] = Json::array(params);
    paths[base + "/{name}"] = item;
    if (r.has_status) {
      Json status = Json::object();
      status["get"] = Operation("read" + id + "Status", "get", gvk, ref, false, {});
      status["put"] = Operation("replace" + id + "Status", "put", gvk, ref, true, json_body);
      status["patch"] = Operation("patch" + id + "Status", "patch", gvk, ref, true, patch_types);
      status["parameters"] = item["parameters"];
      paths[base + "/{name}/status"] = status;
    }
  }
  doc["paths"] = paths;
  doc["components"]["schemas"] = schemas;
  return doc;
}

}  // namespace schemagate::testing
