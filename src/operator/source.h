// ConfigMap sources (spec.source.configMapRefs): what a run is for includes
// the content of the referenced ConfigMaps, so an edit is a new run and an
// unchanged re-apply (every GitOps sync) is nothing.
#ifndef SCHEMAGATE_OPERATOR_SOURCE_H_
#define SCHEMAGATE_OPERATOR_SOURCE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.h"

namespace schemagate::op {

using kube::Json;

// The field of a cached (slimmed) ConfigMap that holds its content hash.
inline constexpr const char* kContentHashField = "contentHash";

// SHA-256 (hex) over a ConfigMap's data and binaryData, keys in order, each
// key and value length-prefixed: any change of a file, a name or the set of
// files changes it; labels and annotations do not.
std::string ConfigMapContentHash(const Json& config_map);

// What the operator caches of a ConfigMap: name, namespace, resourceVersion
// and the content hash, not the (possibly large) files themselves.
Json SlimConfigMap(const Json& config_map);

// The referenced ConfigMaps as one identity for a run.
struct SourceState {
  std::string hash;     // "" for image sources; else 16 hex characters
  std::string missing;  // the first referenced ConfigMap that does not exist
  int missing_index = -1;
};

// `content_hash(name)` gives a ConfigMap's content hash, nullopt when it does
// not exist. The hash covers the names and contents in spec order (the
// projected volume lets a later ConfigMap's file win over an earlier one's).
SourceState ResolveSource(const std::vector<std::string>& config_maps,
                          const std::function<std::optional<std::string>(const std::string& name)>& content_hash);

}  // namespace schemagate::op

#endif  // SCHEMAGATE_OPERATOR_SOURCE_H_
