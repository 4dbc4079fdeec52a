#include "operator/source.h"

#include <map>

#include "core/checksum.h"

namespace schemagate::op {

namespace {

void AppendField(std::string& out, const std::string& s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

}  // namespace

std::string ConfigMapContentHash(const Json& config_map) {
  std::string canonical;
  for (const char* field : {"data", "binaryData"}) {
    const Json* entries = kube::GetField(config_map, {field});
    // cpprestsdk keeps object keys in insertion order; sort them here.
    std::map<std::string, std::string> sorted;
    if (entries != nullptr && entries->is_object()) {
      for (const auto& [key, value] : entries->as_object()) {
        sorted[key] = value.is_string() ? value.as_string() : value.serialize();
      }
    }
    AppendField(canonical, field);
    canonical += std::to_string(sorted.size()) + ';';
    for (const auto& [key, value] : sorted) {
      AppendField(canonical, key);
      AppendField(canonical, value);
    }
  }
  return Sha256Hex(canonical);
}

Json SlimConfigMap(const Json& config_map) {
  Json slim = Json::object();
  for (const char* field : {"name", "namespace", "resourceVersion", "uid"}) {
    const std::string v = kube::GetString(config_map, {"metadata", field});
    if (!v.empty()) slim["metadata"][field] = Json::string(v);
  }
  slim[kContentHashField] = Json::string(ConfigMapContentHash(config_map));
  return slim;
}

SourceState ResolveSource(const std::vector<std::string>& config_maps,
                          const std::function<std::optional<std::string>(const std::string&)>& content_hash) {
  SourceState s;
  if (config_maps.empty()) return s;
  std::string all;
  for (size_t i = 0; i < config_maps.size(); ++i) {
    std::optional<std::string> h = content_hash(config_maps[i]);
    if (!h) {
      s.missing = config_maps[i];
      s.missing_index = static_cast<int>(i);
      return s;
    }
    AppendField(all, config_maps[i]);
    AppendField(all, *h);
  }
  s.hash = Sha256Hex(all).substr(0, 16);
  return s;
}

}  // namespace schemagate::op
