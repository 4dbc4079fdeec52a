// Small encodings shared across modules: URL percent-encoding, UTF-8
// validation, base64 (Secrets and kubeconfig data), and UTC timestamps as
// Kubernetes writes them.
#ifndef SCHEMAGATE_CORE_ENCODING_H_
#define SCHEMAGATE_CORE_ENCODING_H_

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace schemagate {

// RFC 3986 unreserved characters stay; everything else becomes %XX.
std::string PercentEncode(std::string_view s);

// How many bytes at s[i] form one well-formed UTF-8 character, or, negated,
// the length of the broken prefix of one (the "maximal subpart", Unicode
// §3.9) that a decoder replaces with a single U+FFFD.
int Utf8Sequence(std::string_view s, size_t i);
// Offset of the first byte that does not start well-formed UTF-8; npos when
// all of `s` is UTF-8.
size_t FirstInvalidUtf8(std::string_view s);
// `s` as well-formed UTF-8 of at most `max_chars` characters (code points,
// which is what a CRD's maxLength counts): broken sequences become U+FFFD,
// and a cut never splits a character. A cut text ends in "..." (inside the
// limit), so a reader knows there was more.
std::string TruncateUtf8(std::string_view s, size_t max_chars);

std::string Base64Encode(std::string_view in);
// Skips whitespace and padding; nullopt on any other non-alphabet character.
std::optional<std::string> Base64Decode(std::string_view in);

// "2024-01-01T00:00:00Z" (RFC 3339, UTC, whole seconds).
std::string FormatUtc(std::time_t t);
std::string NowUtc();

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_ENCODING_H_
