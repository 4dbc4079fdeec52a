#include "core/redact.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

namespace schemagate {
namespace {

// Both parsers below follow libpq (fe-connect.c: conninfo_parse and
// conninfo_uri_parse_options) closely enough to find the same values, and
// err towards hiding more where libpq itself would reject the string: a
// password pasted unencoded into a URL must not survive redaction.

constexpr std::string_view kMask = "***";

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsPasswordKey(std::string_view key) {
  return EqualsNoCase(key, "password") || EqualsNoCase(key, "sslpassword");
}

// A dbname that is itself a connection string (libpq expands one in some
// APIs); it may carry a password of its own.
bool LooksLikeConnectionString(std::string_view value) {
  return value.find('=') != std::string_view::npos || value.find("://") != std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// One keyword and its value, with where the value sits in the input.
struct Param {
  std::string key;    // decoded
  std::string value;  // decoded / unescaped
  size_t begin = 0;   // raw value span [begin, end) in the input
  size_t end = 0;
};

struct ParsedTarget {
  std::optional<std::pair<size_t, size_t>> url_password;  // raw span in a URL's userinfo
  std::vector<std::string> hosts;  // from a URL's host list (before query parameters)
  std::vector<std::string> ports;  // one per host, "" when not given
  std::string dbname;              // from a URL's path
  std::vector<Param> params;       // query parameters or key=value pairs, in order
};

// The offset just past "scheme://" when `s` is a URL, else npos. Any scheme
// counts (libpq accepts only postgresql:// and postgres://, but a mistyped
// scheme must not leak its password either).
size_t UrlAuthorityStart(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  const size_t scheme_start = i;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.')) {
    ++i;
  }
  if (i == scheme_start || !std::isalpha(static_cast<unsigned char>(s[scheme_start]))) {
    return std::string_view::npos;
  }
  if (s.substr(i, 3) != "://") return std::string_view::npos;
  return i + 3;
}

// The end of the userinfo ("user:password") in a URL whose authority starts
// at `start`, or npos when there is none.
size_t UserinfoEnd(std::string_view s, size_t start) {
  const size_t first_at = s.find('@', start);
  if (first_at == std::string_view::npos) return first_at;
  const size_t first_slash = s.find('/', start);
  if (first_at < first_slash) {
    // As libpq reads it, except that an unencoded '@' inside the password
    // keeps the whole password hidden: take the last '@' of the authority.
    return s.rfind('@', first_slash == std::string_view::npos ? s.npos : first_slash - 1);
  }
  // The only '@' comes after a '/': either a password with an unencoded '/'
  // ("user:pa/ss@host") or an '@' in the database name or a query value
  // ("host:5432/db?application_name=me@laptop"). Take the first reading when
  // a "user:" came before the '/' and no "?key=" came before the '@'.
  const bool colon_before_slash = s.substr(start, first_slash - start).find(':') != s.npos;
  const size_t query = s.find('?', first_slash);
  const bool query_before_at =
      query < first_at && s.substr(query, first_at - query).find('=') != s.npos;
  if (!colon_before_slash || query_before_at) return std::string_view::npos;
  const size_t next_slash = s.find('/', first_at);
  return s.rfind('@', next_slash == std::string_view::npos ? s.npos : next_slash - 1);
}

ParsedTarget ParseUrl(std::string_view s, size_t start) {
  ParsedTarget out;
  size_t i = start;
  const size_t userinfo_end = UserinfoEnd(s, start);
  if (userinfo_end != std::string_view::npos) {
    const size_t colon = s.find(':', start);
    if (colon < userinfo_end && colon + 1 < userinfo_end) {
      out.url_password = std::make_pair(colon + 1, userinfo_end);
    }
    i = userinfo_end + 1;
  }

  // Host list: host[:port] entries separated by ',', IPv6 in brackets.
  size_t netloc_end = s.find_first_of("/?", i);
  if (netloc_end == std::string_view::npos) netloc_end = s.size();
  while (i < netloc_end) {
    std::string_view host;
    if (s[i] == '[') {
      const size_t close = s.find(']', i);
      const size_t stop =
          close == std::string_view::npos || close > netloc_end ? netloc_end : close;
      host = s.substr(i + 1, stop - i - 1);
      i = std::min(stop + 1, netloc_end);
    } else {
      const size_t stop = std::min(s.find_first_of(":,", i), netloc_end);
      host = s.substr(i, stop - i);
      i = stop;
    }
    std::string_view port;
    if (i < netloc_end && s[i] == ':') {
      const size_t stop = std::min(s.find(',', i), netloc_end);
      port = s.substr(i + 1, stop - i - 1);
      i = stop;
    }
    out.hosts.push_back(PercentDecode(host));
    out.ports.push_back(PercentDecode(port));
    if (i < netloc_end && s[i] == ',') {
      ++i;
      if (i == netloc_end) {  // trailing comma: an empty last entry
        out.hosts.emplace_back();
        out.ports.emplace_back();
      }
    } else if (i < netloc_end) {
      // Junk after a port ("host:54:32"): skip to the next entry.
      const size_t comma = s.find(',', i);
      i = comma == std::string_view::npos || comma > netloc_end ? netloc_end : comma + 1;
    }
  }

  i = netloc_end;
  if (i < s.size() && s[i] == '/') {
    size_t stop = s.find('?', i);
    if (stop == std::string_view::npos) stop = s.size();
    out.dbname = PercentDecode(s.substr(i + 1, stop - i - 1));
    i = stop;
  }
  if (i < s.size() && s[i] == '?') {
    ++i;
    while (i <= s.size()) {
      size_t amp = s.find('&', i);
      if (amp == std::string_view::npos) amp = s.size();
      const size_t eq = s.find('=', i);
      if (eq < amp) {
        out.params.push_back({PercentDecode(s.substr(i, eq - i)),
                              PercentDecode(s.substr(eq + 1, amp - eq - 1)), eq + 1, amp});
      }
      i = amp + 1;
    }
  }
  return out;
}

// key=value pairs separated by whitespace; values may be single-quoted, and a
// backslash escapes the next character (quoted or not). Never fails: an
// unterminated quote runs to the end, a keyword without '=' is skipped.
ParsedTarget ParseKeywordValue(std::string_view s) {
  ParsedTarget out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) break;
    const size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !IsSpace(s[i])) ++i;
    std::string key(s.substr(key_start, i - key_start));
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size() || s[i] != '=') continue;
    ++i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    Param param;
    param.key = std::move(key);
    param.begin = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        param.value += s[i++];
      }
      if (i < s.size()) ++i;  // the closing quote
    } else {
      while (i < s.size() && !IsSpace(s[i])) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        param.value += s[i++];
      }
    }
    param.end = i;
    out.params.push_back(std::move(param));
  }
  return out;
}

ParsedTarget Parse(std::string_view s) {
  const size_t start = UrlAuthorityStart(s);
  return start == std::string_view::npos ? ParseKeywordValue(s) : ParseUrl(s, start);
}

// The last value given for `key` (libpq: later settings win), if any.
const Param* Last(const ParsedTarget& t, std::string_view key) {
  for (auto it = t.params.rbegin(); it != t.params.rend(); ++it) {
    if (EqualsNoCase(it->key, key)) return &*it;
  }
  return nullptr;
}

std::string DescribeHost(const std::string& host, const std::string& port) {
  const std::string p = port.empty() ? "5432" : port;
  if (host.empty()) return "localhost:" + p;
  if (host[0] == '/') return "unix socket " + host + "/.s.PGSQL." + p;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + p;  // IPv6
  return host + ":" + p;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const ParsedTarget target = Parse(url);
  std::vector<std::pair<std::pair<size_t, size_t>, std::string>> replacements;
  if (target.url_password) replacements.push_back({*target.url_password, std::string(kMask)});
  for (const Param& p : target.params) {
    if (IsPasswordKey(p.key)) {
      if (p.end > p.begin) replacements.push_back({{p.begin, p.end}, std::string(kMask)});
    } else if (EqualsNoCase(p.key, "dbname") && LooksLikeConnectionString(p.value)) {
      std::string inner = RedactUrl(p.value);
      if (inner != p.value) replacements.push_back({{p.begin, p.end}, "'" + inner + "'"});
    }
  }
  // Right to left, so earlier offsets stay valid.
  std::sort(replacements.begin(), replacements.end(),
            [](const auto& a, const auto& b) { return a.first.first > b.first.first; });
  std::string out(url);
  for (const auto& [span, text] : replacements) {
    out.replace(span.first, span.second - span.first, text);
  }
  return out;
}

std::string PasswordOf(std::string_view url) {
  const ParsedTarget target = Parse(url);
  if (const Param* p = Last(target, "password")) return p->value;
  if (target.url_password) {
    const auto [begin, end] = *target.url_password;
    return PercentDecode(url.substr(begin, end - begin));
  }
  return "";
}

std::string RedactSecret(std::string_view text, std::string_view secret) {
  std::string out(text);
  if (secret.empty()) return out;
  size_t pos = 0;
  while ((pos = out.find(secret, pos)) != std::string::npos) {
    out.replace(pos, secret.size(), kMask);
    pos += kMask.size();
  }
  return out;
}

std::string DescribeTarget(std::string_view url) {
  const ParsedTarget target = Parse(url);
  std::vector<std::string> hosts = target.hosts;
  std::vector<std::string> ports = target.ports;
  std::string dbname = target.dbname;
  if (const Param* p = Last(target, "host")) {
    hosts = SplitCommas(p->value);
  } else if (const Param* addr = Last(target, "hostaddr")) {
    hosts = SplitCommas(addr->value);
  }
  if (const Param* p = Last(target, "port")) ports = SplitCommas(p->value);
  if (const Param* p = Last(target, "dbname")) dbname = p->value;
  if (hosts.empty()) hosts.emplace_back();

  std::string out;
  bool any_socket = false;
  for (size_t i = 0; i < hosts.size(); ++i) {
    // One port for all hosts, or one per host (libpq).
    const std::string port = ports.size() == 1 ? ports[0] : i < ports.size() ? ports[i] : "";
    if (!out.empty()) out += ',';
    out += DescribeHost(hosts[i], port);
    any_socket = any_socket || (!hosts[i].empty() && hosts[i][0] == '/');
  }
  if (LooksLikeConnectionString(dbname)) dbname = RedactUrl(dbname);
  if (!dbname.empty()) out += (any_socket ? " db " : "/") + dbname;
  return out;
}

}  // namespace schemagate
