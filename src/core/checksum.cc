#include "core/checksum.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// EVP (and the one-shot SHA256(), built on it) sets up the provider
// machinery on first use and fetches per call: 7.6 million instructions,
// more than hashing 1,000 migration files. These call the same code directly.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace schemagate {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(digest, &ctx);
  constexpr unsigned int length = SHA256_DIGEST_LENGTH;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

std::string_view NormalizedForChecksum(std::string_view text, std::string* storage) {
  if (text.substr(0, kBom.size()) != kBom && text.find('\r') == std::string_view::npos) return text;
  *storage = NormalizeForChecksum(text);
  return *storage;
}

std::string NormalizeForChecksum(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
      continue;
    }
    out += '\n';  // CRLF and a lone CR both end a line
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

}  // namespace schemagate
