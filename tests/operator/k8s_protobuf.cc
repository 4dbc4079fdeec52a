#include "operator/k8s_protobuf.h"

#include <cstdint>
#include <map>
#include <vector>

#include "core/encoding.h"

namespace schemagate::testing {
namespace {

using Json = web::json::value;

// One field of a protobuf message: number, wire type, and its value (a
// varint or the bytes of a length-delimited field).
struct Field {
  int number = 0;
  int wire = 0;
  uint64_t varint = 0;
  std::string bytes;
};

bool ReadVarint(const std::string& in, size_t& at, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && at < in.size(); shift += 7) {
    const auto b = static_cast<unsigned char>(in[at++]);
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool Parse(const std::string& in, std::vector<Field>& fields) {
  size_t at = 0;
  while (at < in.size()) {
    uint64_t key;
    if (!ReadVarint(in, at, key)) return false;
    Field f;
    f.number = static_cast<int>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      if (!ReadVarint(in, at, f.varint)) return false;
    } else if (f.wire == 2) {
      uint64_t len;
      if (!ReadVarint(in, at, len) || at + len > in.size()) return false;
      f.bytes = in.substr(at, len);
      at += len;
    } else if (f.wire == 1 || f.wire == 5) {
      at += f.wire == 1 ? 8 : 4;
    } else {
      return false;
    }
    fields.push_back(std::move(f));
  }
  return at == in.size();
}

// A map<string, string|bytes> entry list into a JSON object.
void MapEntry(const std::string& entry, Json& into, bool base64) {
  std::vector<Field> kv;
  if (!Parse(entry, kv)) return;
  std::string key, value;
  for (const Field& f : kv) {
    if (f.number == 1) key = f.bytes;
    if (f.number == 2) value = f.bytes;
  }
  into[key] = Json::string(base64 ? Base64Encode(value) : value);
}

Json ObjectMeta(const std::string& bytes) {
  Json md = Json::object();
  std::vector<Field> fields;
  if (!Parse(bytes, fields)) return md;
  std::vector<Json> finalizers;
  for (const Field& f : fields) {
    switch (f.number) {
      case 1: md["name"] = Json::string(f.bytes); break;
      case 2: md["generateName"] = Json::string(f.bytes); break;
      case 3: md["namespace"] = Json::string(f.bytes); break;
      case 11: MapEntry(f.bytes, md["labels"], false); break;
      case 12: MapEntry(f.bytes, md["annotations"], false); break;
      case 14: finalizers.push_back(Json::string(f.bytes)); break;
      default: break;
    }
  }
  if (!finalizers.empty()) md["finalizers"] = Json::array(finalizers);
  for (const char* empty : {"name", "generateName", "namespace"}) {
    if (md.has_field(empty) && md.at(empty).as_string().empty()) md.as_object().erase(empty);
  }
  return md;
}

}  // namespace

Json DecodeKubernetesProtobuf(const std::string& body, std::string* error) {
  static const std::string kMagic("k8s\0", 4);
  if (body.compare(0, 4, kMagic) != 0) {
    *error = "provided protobuf body does not start with the Kubernetes magic prefix";
    return Json::null();
  }
  std::vector<Field> unknown;
  if (!Parse(body.substr(4), unknown)) {
    *error = "malformed protobuf envelope";
    return Json::null();
  }
  std::string api_version, kind, raw;
  for (const Field& f : unknown) {
    if (f.number == 1) {
      std::vector<Field> tm;
      Parse(f.bytes, tm);
      for (const Field& t : tm) {
        if (t.number == 1) api_version = t.bytes;
        if (t.number == 2) kind = t.bytes;
      }
    }
    if (f.number == 2) raw = f.bytes;
  }
  std::vector<Field> fields;
  if (!Parse(raw, fields)) {
    *error = "malformed protobuf " + kind;
    return Json::null();
  }
  Json obj = Json::object();
  obj["apiVersion"] = Json::string(api_version);
  obj["kind"] = Json::string(kind);
  obj["metadata"] = Json::object();
  if (kind != "Namespace" && kind != "ConfigMap" && kind != "Secret") {
    *error = "this test API server decodes protobuf only for Namespace, ConfigMap and Secret, not " + kind +
             "; send application/json";
    return Json::null();
  }
  for (const Field& f : fields) {
    if (f.number == 1) {
      obj["metadata"] = ObjectMeta(f.bytes);
      continue;
    }
    if (kind == "Namespace" && f.number == 2) {
      std::vector<Field> spec;
      Parse(f.bytes, spec);
      std::vector<Json> fin;
      for (const Field& s : spec) {
        if (s.number == 1) fin.push_back(Json::string(s.bytes));
      }
      if (!fin.empty()) obj["spec"]["finalizers"] = Json::array(fin);
    } else if (kind == "ConfigMap") {
      if (f.number == 2) MapEntry(f.bytes, obj["data"], false);
      if (f.number == 3) MapEntry(f.bytes, obj["binaryData"], true);
      if (f.number == 4) obj["immutable"] = Json::boolean(f.varint != 0);
    } else if (kind == "Secret") {
      if (f.number == 2) MapEntry(f.bytes, obj["data"], true);
      if (f.number == 3) obj["type"] = Json::string(f.bytes);
      if (f.number == 4) MapEntry(f.bytes, obj["stringData"], false);
      if (f.number == 5) obj["immutable"] = Json::boolean(f.varint != 0);
    }
  }
  return obj;
}

}  // namespace schemagate::testing
