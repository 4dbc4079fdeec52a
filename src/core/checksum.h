// Content checksums of migration files.
#ifndef SCHEMAGATE_CORE_CHECKSUM_H_
#define SCHEMAGATE_CORE_CHECKSUM_H_

#include <string>
#include <string_view>

namespace schemagate {

// Lower-case hex SHA-256 of `data` (64 characters), via OpenSSL.
std::string Sha256Hex(std::string_view data);

// Normalises text for checksumming: strips a UTF-8 BOM at the start, turns
// CRLF and lone CR into LF; nothing else changes (no trimming, no Unicode
// normalisation). A file saved on Windows keeps its checksum.
std::string NormalizeForChecksum(std::string_view text);

// The same, without a copy when `text` is already normal (the usual case):
// returns `text` itself, or a view of `*storage` holding the normalised copy.
std::string_view NormalizedForChecksum(std::string_view text, std::string* storage);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_CHECKSUM_H_
