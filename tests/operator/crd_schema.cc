#include "operator/crd_schema.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

namespace schemagate::testing {
namespace {

bool Has(const Json& o, const char* key) { return o.is_object() && o.has_field(key); }
bool Flag(const Json& schema, const char* key) {
  return Has(schema, key) && schema.at(key).is_boolean() && schema.at(key).as_bool();
}
std::string StrField(const Json& o, const char* key) {
  return Has(o, key) && o.at(key).is_string() ? o.at(key).as_string() : "";
}

// Go's %q for a string: UTF-8 kept, quotes, backslashes and controls escaped.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string NumberText(const Json& v) {
  if (v.is_integer()) return std::to_string(v.as_number().to_int64());
  double d = v.as_double();
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

// How field.Error prints a bad value: strings quoted, numbers and booleans
// bare, anything else as JSON.
std::string ValueText(const Json& v) {
  if (v.is_string()) return Quote(v.as_string());
  if (v.is_number()) return NumberText(v);
  if (v.is_boolean()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "null";
  return v.serialize();
}

bool IsIntegral(const Json& v) {
  if (!v.is_number()) return false;
  if (v.is_integer()) return true;
  double d = v.as_double();
  return std::floor(d) == d;
}

std::string TypeName(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_null()) return "null";
  return IsIntegral(v) ? "integer" : "number";
}

bool TypeMatches(const Json& schema, const Json& v) {
  if (Flag(schema, "x-kubernetes-int-or-string")) return v.is_string() || IsIntegral(v);
  const std::string type = StrField(schema, "type");
  if (type.empty()) return true;
  if (type == "integer") return IsIntegral(v);
  if (type == "number") return v.is_number();
  return TypeName(v) == type;
}

size_t Utf8Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// strfmt's date-time: RFC 3339 and the few relaxed forms it also parses.
bool IsDateTime(const std::string& s) {
  static const std::regex re(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  int month = std::stoi(m[2]), day = std::stoi(m[3]), hour = std::stoi(m[4]), minute = std::stoi(m[5]);
  int second = m[7].matched ? std::stoi(m[7]) : 0;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 61;
}

std::string Child(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

FieldError Err(const char* reason, const std::string& field, const std::string& body) { return {reason, field, body}; }

void ValidateNode(const Json& v, const Json& schema, const std::string& path, std::vector<FieldError>& out) {
  // The name kube-openapi uses in its messages: the path, or the root.
  const std::string name = path.empty() ? "body" : path;
  const std::string where = path.empty() ? "body" : path + " in body";
  if (v.is_null()) {
    if (Flag(schema, "nullable") || StrField(schema, "type").empty()) return;
    out.push_back(Err("FieldValueTypeInvalid", name,
                      "Invalid value: \"null\": " + where + " must be of type " + StrField(schema, "type") +
                          ": \"null\""));
    return;
  }
  if (!TypeMatches(schema, v)) {
    const std::string want = Flag(schema, "x-kubernetes-int-or-string") ? "integer,string" : StrField(schema, "type");
    out.push_back(Err("FieldValueTypeInvalid", name,
                      "Invalid value: " + Quote(TypeName(v)) + ": " + where + " must be of type " + want + ": " +
                          Quote(TypeName(v))));
    return;
  }
  if (Has(schema, "enum") && schema.at("enum").is_array()) {
    bool found = false;
    std::vector<std::string> allowed;
    for (const Json& e : schema.at("enum").as_array()) {
      if (e == v) found = true;
      allowed.push_back(Quote(e.is_string() ? e.as_string() : e.serialize()));
    }
    if (!found) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      out.push_back(Err("FieldValueNotSupported", name,
                        "Unsupported value: " + ValueText(v) + (list.empty() ? "" : ": supported values: " + list)));
    }
  }
  if (v.is_string()) {
    const std::string& s = v.as_string();
    const size_t chars = Utf8Chars(s);
    if (Has(schema, "maxLength") && chars > static_cast<size_t>(schema.at("maxLength").as_number().to_int64())) {
      const int64_t max = schema.at("maxLength").as_number().to_int64();
      out.push_back(Err("FieldValueTooLong", name,
                        "Too long: may not be more than " + std::to_string(max) + (max == 1 ? " byte" : " bytes")));
    }
    if (Has(schema, "minLength") && chars < static_cast<size_t>(schema.at("minLength").as_number().to_int64())) {
      out.push_back(Err("FieldValueInvalid", name,
                        "Invalid value: " + Quote(s) + ": " + where + " should be at least " +
                            std::to_string(schema.at("minLength").as_number().to_int64()) + " chars long"));
    }
    if (Has(schema, "pattern")) {
      const std::string pattern = schema.at("pattern").as_string();
      bool match = true;
      try {
        match = std::regex_search(s, std::regex(pattern, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
      }
      if (!match) {
        out.push_back(Err("FieldValueInvalid", name,
                          "Invalid value: " + Quote(s) + ": " + where + " should match '" + pattern + "'"));
      }
    }
    if (StrField(schema, "format") == "date-time" && !IsDateTime(s)) {
      out.push_back(Err("FieldValueTypeInvalid", name,
                        "Invalid value: " + Quote(s) + ": " + where + " must be of type date-time: " + Quote(s)));
    }
  }
  if (v.is_number()) {
    const double d = v.as_double();
    if (Has(schema, "minimum")) {
      const double min = schema.at("minimum").as_double();
      const bool excl = Flag(schema, "exclusiveMinimum");
      if (excl ? d <= min : d < min) {
        out.push_back(Err("FieldValueInvalid", name,
                          "Invalid value: " + NumberText(v) + ": " + where + " should be greater than " +
                              (excl ? "" : "or equal to ") + NumberText(schema.at("minimum"))));
      }
    }
    if (Has(schema, "maximum")) {
      const double max = schema.at("maximum").as_double();
      const bool excl = Flag(schema, "exclusiveMaximum");
      if (excl ? d >= max : d > max) {
        out.push_back(Err("FieldValueInvalid", name,
                          "Invalid value: " + NumberText(v) + ": " + where + " should be less than " +
                              (excl ? "" : "or equal to ") + NumberText(schema.at("maximum"))));
      }
    }
  }
  if (v.is_array()) {
    const auto& items = v.as_array();
    if (Has(schema, "minItems") && items.size() < static_cast<size_t>(schema.at("minItems").as_number().to_int64())) {
      out.push_back(Err("FieldValueInvalid", name,
                        "Invalid value: " + std::to_string(items.size()) + ": " + where + " should have at least " +
                            std::to_string(schema.at("minItems").as_number().to_int64()) + " items"));
    }
    if (Has(schema, "maxItems") && items.size() > static_cast<size_t>(schema.at("maxItems").as_number().to_int64())) {
      out.push_back(Err("FieldValueTooMany", name,
                        "Too many: " + std::to_string(items.size()) + ": must have at most " +
                            std::to_string(schema.at("maxItems").as_number().to_int64()) + " items"));
    }
    if (Has(schema, "items")) {
      size_t i = 0;
      for (const Json& item : items) {
        ValidateNode(item, schema.at("items"), path + "[" + std::to_string(i++) + "]", out);
      }
    }
  }
  if (v.is_object()) {
    if (Has(schema, "required") && schema.at("required").is_array()) {
      for (const Json& r : schema.at("required").as_array()) {
        if (r.is_string() && !v.has_field(r.as_string())) {
          out.push_back(Err("FieldValueRequired", Child(path, r.as_string()), "Required value"));
        }
      }
    }
    const bool root = path.empty();
    for (const auto& kv : v.as_object()) {
      if (root && kv.first == "metadata") continue;  // ObjectMeta has rules of its own
      if (Has(schema, "properties") && schema.at("properties").has_field(kv.first)) {
        ValidateNode(kv.second, schema.at("properties").at(kv.first), Child(path, kv.first), out);
      } else if (Has(schema, "additionalProperties") && schema.at("additionalProperties").is_object()) {
        ValidateNode(kv.second, schema.at("additionalProperties"), Child(path, kv.first), out);
      }
    }
  }
}

void PruneNode(Json& v, const Json& schema, const std::string& path, bool root, std::vector<std::string>& removed) {
  if (Flag(schema, "x-kubernetes-preserve-unknown-fields") && !Has(schema, "properties") &&
      !Has(schema, "additionalProperties") && !Has(schema, "items")) {
    return;
  }
  if (v.is_array() && Has(schema, "items")) {
    size_t i = 0;
    for (Json& item : v.as_array()) PruneNode(item, schema.at("items"), path + "[" + std::to_string(i++) + "]", false, removed);
    return;
  }
  if (!v.is_object()) return;
  const bool preserve = Flag(schema, "x-kubernetes-preserve-unknown-fields");
  std::vector<std::string> drop;
  for (auto& kv : v.as_object()) {
    if (root && (kv.first == "apiVersion" || kv.first == "kind" || kv.first == "metadata")) continue;
    const std::string child = Child(path, kv.first);
    if (Has(schema, "properties") && schema.at("properties").has_field(kv.first)) {
      PruneNode(kv.second, schema.at("properties").at(kv.first), child, false, removed);
    } else if (Has(schema, "additionalProperties") && schema.at("additionalProperties").is_object()) {
      PruneNode(kv.second, schema.at("additionalProperties"), child, false, removed);
    } else if (!preserve && !(Has(schema, "additionalProperties") && Flag(schema, "additionalProperties"))) {
      drop.push_back(kv.first);
      removed.push_back(child);
    }
  }
  for (const std::string& k : drop) v.as_object().erase(k);
}

void DefaultNode(Json& v, const Json& schema) {
  if (v.is_array() && Has(schema, "items")) {
    for (Json& item : v.as_array()) DefaultNode(item, schema.at("items"));
    return;
  }
  if (!v.is_object()) return;
  if (Has(schema, "properties")) {
    for (const auto& kv : schema.at("properties").as_object()) {
      const Json& sub = kv.second;
      const bool present = v.has_field(kv.first);
      if (present && v.at(kv.first).is_null() && !Flag(sub, "nullable")) v.as_object().erase(kv.first);
      if (!v.has_field(kv.first) && Has(sub, "default")) v[kv.first] = sub.at("default");
      if (v.has_field(kv.first)) DefaultNode(v[kv.first], sub);
    }
  }
  if (Has(schema, "additionalProperties") && schema.at("additionalProperties").is_object()) {
    for (auto& kv : v.as_object()) DefaultNode(kv.second, schema.at("additionalProperties"));
  }
}

// --- the structural check -------------------------------------------------

enum class Level { kRoot, kItem, kField };

std::string Key(const std::string& path, const char* what, const std::string& key) {
  return path + "." + what + "[" + key + "]";
}

void CheckJunctor(const Json& s, const std::string& path, std::vector<FieldError>& out);

void CheckValueValidation(const Json& s, const std::string& path, std::vector<FieldError>& out) {
  for (const char* j : {"allOf", "anyOf", "oneOf"}) {
    if (!Has(s, j) || !s.at(j).is_array()) continue;
    size_t i = 0;
    for (const Json& sub : s.at(j).as_array()) CheckJunctor(sub, path + "." + j + "[" + std::to_string(i++) + "]", out);
  }
  if (Has(s, "not")) CheckJunctor(s.at("not"), path + ".not", out);
}

// Inside allOf/anyOf/oneOf/not: value validation only.
void CheckJunctor(const Json& s, const std::string& path, std::vector<FieldError>& out) {
  if (!s.is_object()) return;
  CheckValueValidation(s, path, out);
  if (Has(s, "items")) CheckJunctor(s.at("items"), path + ".items", out);
  if (Has(s, "properties")) {
    for (const auto& kv : s.at("properties").as_object()) CheckJunctor(kv.second, Key(path, "properties", kv.first), out);
    if (s.at("properties").has_field("metadata")) {
      out.push_back(Err("FieldValueForbidden", Key(path, "properties", "metadata"),
                        "Forbidden: must not be specified in a nested context"));
    }
  }
  struct Rule {
    const char* key;
    const char* detail;
  };
  for (const Rule& r : {Rule{"type", "must be empty to be structural"},
                        Rule{"additionalProperties", "must be undefined to be structural"},
                        Rule{"default", "must be undefined to be structural"},
                        Rule{"title", "must be empty to be structural"},
                        Rule{"description", "must be empty to be structural"}}) {
    if (Has(s, r.key)) out.push_back(Err("FieldValueForbidden", path + "." + r.key, std::string("Forbidden: ") + r.detail));
  }
  for (const char* x : {"nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
                        "x-kubernetes-int-or-string"}) {
    if (Flag(s, x)) out.push_back(Err("FieldValueForbidden", path + "." + x, "Forbidden: must be false to be structural"));
  }
}

void CheckNode(const Json& s, Level lvl, const std::string& path, std::vector<FieldError>& out) {
  if (!s.is_object()) return;
  const std::string type = StrField(s, "type");
  if (Has(s, "$ref")) out.push_back(Err("FieldValueForbidden", path + ".$ref", "Forbidden: $ref is not supported"));
  if (type == "array" && !Has(s, "items")) {
    out.push_back(Err("FieldValueRequired", path + ".items", "Required value: must be specified"));
  }
  if (Has(s, "items")) CheckNode(s.at("items"), Level::kItem, path + ".items", out);
  if (Has(s, "properties")) {
    for (const auto& kv : s.at("properties").as_object()) CheckNode(kv.second, Level::kField, Key(path, "properties", kv.first), out);
  }
  if (Has(s, "additionalProperties")) {
    if (lvl == Level::kRoot) {
      out.push_back(Err("FieldValueForbidden", path + ".additionalProperties", "Forbidden: must not be used at the root"));
    }
    if (Has(s, "properties")) {
      out.push_back(Err("FieldValueForbidden", path + ".additionalProperties",
                        "Forbidden: additionalProperties and properties are mutual exclusive"));
    }
    if (s.at("additionalProperties").is_object()) {
      CheckNode(s.at("additionalProperties"), Level::kField, path + ".additionalProperties", out);
    }
  }
  if (Flag(s, "x-kubernetes-int-or-string") && Flag(s, "x-kubernetes-preserve-unknown-fields")) {
    out.push_back(Err("FieldValueInvalid", path + ".x-kubernetes-preserve-unknown-fields",
                      "Invalid value: true: must be false if x-kubernetes-int-or-string is true"));
  }
  if (Flag(s, "uniqueItems")) {
    out.push_back(Err("FieldValueForbidden", path + ".uniqueItems",
                      "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  }
  if (!Flag(s, "x-kubernetes-int-or-string")) CheckValueValidation(s, path, out);
  if (type.empty() && !Flag(s, "x-kubernetes-int-or-string") && !Flag(s, "x-kubernetes-preserve-unknown-fields")) {
    const char* detail = lvl == Level::kRoot   ? "Required value: must not be empty at the root"
                         : lvl == Level::kItem ? "Required value: must not be empty for specified array items"
                                               : "Required value: must not be empty for specified object fields";
    out.push_back(Err("FieldValueRequired", path + ".type", detail));
  }
  if (lvl == Level::kRoot && !type.empty() && type != "object") {
    out.push_back(Err("FieldValueInvalid", path + ".type", "Invalid value: " + Quote(type) + ": must be object at the root"));
  }
  if (lvl == Level::kRoot && Has(s, "properties")) {
    const Json& props = s.at("properties");
    for (const char* f : {"kind", "apiVersion"}) {
      if (props.has_field(f) && StrField(props.at(f), "type") != "string") {
        out.push_back(Err("FieldValueInvalid", Key(path, "properties", f) + ".type",
                          "Invalid value: " + Quote(StrField(props.at(f), "type")) + ": must be string"));
      }
    }
    if (props.has_field("metadata")) {
      const Json& md = props.at("metadata");
      if (StrField(md, "type") != "object") {
        out.push_back(Err("FieldValueInvalid", Key(path, "properties", "metadata") + ".type",
                          "Invalid value: " + Quote(StrField(md, "type")) + ": must be object"));
      }
      bool only_names = true;
      for (const auto& kv : md.as_object()) {
        if (kv.first == "type" || kv.first == "description") continue;
        if (kv.first == "properties") {
          for (const auto& p : kv.second.as_object()) only_names &= p.first == "name" || p.first == "generateName";
          continue;
        }
        only_names = false;
      }
      if (!only_names) {
        out.push_back(Err("FieldValueForbidden", Key(path, "properties", "metadata"),
                          "Forbidden: must not specify anything other than name and generateName, but metadata is "
                          "implicitly specified"));
      }
    }
  }
  // A default must itself be valid (and is pruned as a value would be).
  if (Has(s, "default")) {
    std::vector<FieldError> errs;
    ValidateNode(s.at("default"), s, "", errs);
    for (const FieldError& e : errs) {
      std::string field = path + ".default" + (e.field == "body" ? "" : "." + e.field);
      std::string body = e.body;
      for (size_t at; (at = body.find("body in body")) != std::string::npos;) body.replace(at, 12, "body");
      out.push_back({e.reason, field, body});
    }
  }
}

}  // namespace

std::vector<FieldError> CheckStructural(const Json& schema, const std::string& path) {
  std::vector<FieldError> out;
  CheckNode(schema, Level::kRoot, path, out);
  std::sort(out.begin(), out.end(), [](const FieldError& a, const FieldError& b) { return a.Error() < b.Error(); });
  return out;
}

std::vector<FieldError> CheckCrd(const Json& crd) {
  std::vector<FieldError> out;
  const Json* spec = Has(crd, "spec") ? &crd.at("spec") : nullptr;
  if (spec == nullptr || !Has(*spec, "names") || StrField(spec->at("names"), "plural").empty()) {
    out.push_back(Err("FieldValueRequired", "spec.names.plural", "Required value"));
  }
  if (spec == nullptr || !Has(*spec, "names") || StrField(spec->at("names"), "kind").empty()) {
    out.push_back(Err("FieldValueRequired", "spec.names.kind", "Required value"));
  }
  if (spec == nullptr || StrField(*spec, "group").empty()) out.push_back(Err("FieldValueRequired", "spec.group", "Required value"));
  if (spec == nullptr || !Has(*spec, "versions") || !spec->at("versions").is_array() ||
      spec->at("versions").as_array().size() == 0) {
    out.push_back(Err("FieldValueInvalid", "spec.versions", "Invalid value: null: must have exactly one version marked as storage version"));
    return out;
  }
  size_t i = 0;
  for (const Json& v : spec->at("versions").as_array()) {
    const std::string at = "spec.versions[" + std::to_string(i++) + "]";
    if (!Has(v, "schema") || !Has(v.at("schema"), "openAPIV3Schema")) {
      out.push_back(Err("FieldValueRequired", at + ".schema.openAPIV3Schema", "Required value: schemas are required"));
      continue;
    }
    for (FieldError& e : CheckStructural(v.at("schema").at("openAPIV3Schema"), at + ".schema.openAPIV3Schema")) {
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<std::string> Prune(Json& object, const Json& schema) {
  std::vector<std::string> removed;
  PruneNode(object, schema, "", true, removed);
  return removed;
}

void ApplyDefaults(Json& object, const Json& schema) { DefaultNode(object, schema); }

std::vector<FieldError> Validate(const Json& object, const Json& schema) {
  std::vector<FieldError> out;
  ValidateNode(object, schema, "", out);
  return out;
}

Json FailureStatus(int code, const std::string& reason, const std::string& message) {
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

Json InvalidStatus(const std::string& kind, const std::string& group, const std::string& name,
                   const std::vector<FieldError>& errors) {
  std::string joined;
  std::vector<Json> causes;
  for (const FieldError& e : errors) {
    joined += (joined.empty() ? "" : ", ") + e.Error();
    Json c = Json::object();
    c["reason"] = Json::string(e.reason);
    c["message"] = Json::string(e.body);
    c["field"] = Json::string(e.field);
    causes.push_back(c);
  }
  if (errors.size() > 1) joined = "[" + joined + "]";
  Json s = FailureStatus(422, "Invalid", kind + (group.empty() ? "" : "." + group) + " " + Quote(name) + " is invalid: " + joined);
  Json details = Json::object();
  details["name"] = Json::string(name);
  if (!group.empty()) details["group"] = Json::string(group);
  details["kind"] = Json::string(kind);
  details["causes"] = Json::array(causes);
  s["details"] = details;
  return s;
}

namespace {

Json NodeToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      std::vector<Json> items;
      for (const auto& e : n) items.push_back(NodeToJson(e));
      return Json::array(items);
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return Json::string(s);
      if (s == "null" || s == "~" || s.empty()) return Json::null();
      if (s == "true" || s == "True" || s == "TRUE") return Json::boolean(true);
      if (s == "false" || s == "False" || s == "FALSE") return Json::boolean(false);
      static const std::regex integer(R"(^[-+]?[0-9]+$)"), real(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
      if (std::regex_match(s, integer)) return Json::number(static_cast<int64_t>(std::stoll(s)));
      if (std::regex_match(s, real)) return Json::number(std::stod(s));
      return Json::string(s);
    }
    default:
      return Json::null();
  }
}

}  // namespace

Json YamlToJson(const std::string& yaml) { return NodeToJson(YAML::Load(yaml)); }

}  // namespace schemagate::testing
