#include "core/encoding.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace schemagate {

// How many bytes at s[i] form one well-formed UTF-8 character (Unicode
// Table 3-7), or, as a negative number, how many bytes form the longest
// prefix of one that is cut short or broken: the "maximal subpart" that
// becomes a single U+FFFD (Unicode §3.9, the WHATWG decoder does the same).
// Overlong forms, surrogates and code points above U+10FFFF never start a
// well-formed sequence, so their first byte alone is replaced.
int Utf8Sequence(std::string_view s, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return 1;
  int length = 0;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;  // a continuation byte, C0, C1 or F5..FF
  }
  for (int k = 1; k < length; ++k) {
    if (i + k >= s.size()) return -k;
    const unsigned char c = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xBF)) return -k;
  }
  return length;
}

size_t FirstInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const int n = Utf8Sequence(s, i);
    if (n < 0) return i;
    i += static_cast<size_t>(n);
  }
  return std::string_view::npos;
}

std::string TruncateUtf8(std::string_view s, size_t max_chars) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  constexpr std::string_view kMore = "...";
  std::string out;
  out.reserve(std::min(s.size(), max_chars * 4));
  size_t chars = 0;
  // Where the text ends if it has to be cut: room left for "...".
  size_t cut_bytes = std::string::npos;
  for (size_t i = 0; i < s.size();) {
    if (chars == max_chars) {
      if (max_chars < kMore.size()) return out;
      out.resize(cut_bytes);
      out += kMore;
      return out;
    }
    if (chars + kMore.size() == max_chars) cut_bytes = out.size();
    const int n = Utf8Sequence(s, i);
    if (n > 0) {
      out.append(s.substr(i, static_cast<size_t>(n)));
      i += static_cast<size_t>(n);
    } else {
      out += kReplacement;
      i += static_cast<size_t>(-n);
    }
    ++chars;
  }
  return out;
}

namespace {
constexpr const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  // Unsigned: only the low bits are read, and older ones may shift out.
  uint32_t val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kBase64[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kBase64[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  const std::string_view alphabet(kBase64);
  std::string out;
  // Unsigned: only the low bits are read, and older ones may shift out.
  uint32_t val = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=' || std::isspace(static_cast<unsigned char>(c))) continue;
    size_t pos = alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    val = (val << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string FormatUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string NowUtc() { return FormatUtc(std::time(nullptr)); }

}  // namespace schemagate
