// Small encodings shared across modules: URL percent-encoding, base64
// (Secrets and kubeconfig data), and UTC timestamps as Kubernetes writes them.
#ifndef SCHEMAGATE_CORE_ENCODING_H_
#define SCHEMAGATE_CORE_ENCODING_H_

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace schemagate {

// RFC 3986 unreserved characters stay; everything else becomes %XX.
std::string PercentEncode(std::string_view s);

std::string Base64Encode(std::string_view in);
// Skips whitespace and padding; nullopt on any other non-alphabet character.
std::optional<std::string> Base64Decode(std::string_view in);

// "2024-01-01T00:00:00Z" (RFC 3339, UTC, whole seconds).
std::string FormatUtc(std::time_t t);
std::string NowUtc();

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_ENCODING_H_
