#include "core/redact.h"

#include <cctype>

namespace schemagate {
namespace {

bool IsUrl(std::string_view s) {
  return s.substr(0, 13) == "postgresql://" || s.substr(0, 11) == "postgres://";
}

size_t SchemeEnd(std::string_view s) { return s.find("://") + 3; }

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Finds `password=` in key=value conninfo; returns [value start, value end).
bool FindKeywordPassword(std::string_view s, size_t* start, size_t* end) {
  size_t pos = 0;
  while ((pos = s.find("password", pos)) != std::string_view::npos) {
    bool at_word_start = pos == 0 || std::isspace(static_cast<unsigned char>(s[pos - 1]));
    size_t i = pos + 8;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (at_word_start && i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      *start = i;
      if (i < s.size() && s[i] == '\'') {
        ++i;
        while (i < s.size() && s[i] != '\'') {
          if (s[i] == '\\') ++i;
          ++i;
        }
        *end = std::min(i + 1, s.size());
      } else {
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        *end = i;
      }
      return true;
    }
    pos += 8;
  }
  return false;
}

// The [start, end) of the password in postgresql://user:password@host, or
// false when the URL has none there.
bool FindUrlPassword(const std::string& s, size_t* start, size_t* end) {
  size_t auth_start = SchemeEnd(s);
  size_t auth_end = s.find_first_of("/?", auth_start);
  if (auth_end == std::string::npos) auth_end = s.size();
  size_t at = s.rfind('@', auth_end);
  if (at == std::string::npos || at < auth_start) return false;
  size_t colon = s.find(':', auth_start);
  if (colon == std::string::npos || colon > at) return false;
  *start = colon + 1;
  *end = at;
  return true;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string s(url);
  if (IsUrl(s)) {
    size_t start, end;
    if (FindUrlPassword(s, &start, &end)) s.replace(start, end - start, "***");
    // ?password=... or &password=...
    size_t q = s.find('?');
    while (q != std::string::npos) {
      size_t key = q + 1;
      size_t next = s.find('&', key);
      size_t stop = next == std::string::npos ? s.size() : next;
      if (s.compare(key, 9, "password=") == 0) s.replace(key + 9, stop - key - 9, "***");
      q = s.find('&', key);
    }
    return s;
  }
  size_t start, end;
  size_t from = 0;
  std::string out;
  std::string_view rest(s);
  while (FindKeywordPassword(rest.substr(from), &start, &end)) {
    out.append(rest.substr(from, start));
    out += "***";
    from += end;
  }
  out.append(rest.substr(from));
  return out;
}

std::string PasswordOf(std::string_view url) {
  std::string s(url);
  if (IsUrl(s)) {
    size_t start, end;
    if (FindUrlPassword(s, &start, &end)) return PercentDecode(s.substr(start, end - start));
    size_t p = s.find("password=", s.find('?') == std::string::npos ? s.size() : s.find('?'));
    if (p != std::string::npos) {
      size_t stop = s.find('&', p);
      return PercentDecode(s.substr(p + 9, (stop == std::string::npos ? s.size() : stop) - p - 9));
    }
    return "";
  }
  size_t start, end;
  if (!FindKeywordPassword(s, &start, &end)) return "";
  std::string v = s.substr(start, end - start);
  if (v.size() >= 2 && v.front() == '\'') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return v;
}

std::string RedactSecret(std::string_view text, std::string_view secret) {
  std::string out(text);
  if (secret.empty()) return out;
  size_t pos = 0;
  while ((pos = out.find(secret, pos)) != std::string::npos) {
    out.replace(pos, secret.size(), "***");
    pos += 3;
  }
  return out;
}

std::string DescribeTarget(std::string_view url) {
  std::string s(url);
  std::string host = "localhost", port = "5432", db;
  if (IsUrl(s)) {
    size_t auth_start = SchemeEnd(s);
    size_t path = s.find_first_of("/?", auth_start);
    if (path == std::string::npos) path = s.size();
    std::string hostport = s.substr(auth_start, path - auth_start);
    size_t at = hostport.rfind('@');
    if (at != std::string::npos) hostport = hostport.substr(at + 1);
    if (!hostport.empty()) {
      size_t colon = hostport.rfind(':');
      if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
      } else if (colon != std::string::npos && hostport.rfind(']') < colon) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
      } else {
        host = hostport;
      }
    }
    if (path < s.size() && s[path] == '/') {
      size_t q = s.find('?', path);
      db = PercentDecode(s.substr(path + 1, (q == std::string::npos ? s.size() : q) - path - 1));
    }
    size_t h = s.find("host=", path);
    if (h != std::string::npos) {
      size_t stop = s.find('&', h);
      host = PercentDecode(s.substr(h + 5, (stop == std::string::npos ? s.size() : stop) - h - 5));
    }
  } else {
    auto value = [&](const std::string& key) -> std::string {
      size_t pos = 0;
      while ((pos = s.find(key + "=", pos)) != std::string::npos) {
        if (pos == 0 || std::isspace(static_cast<unsigned char>(s[pos - 1]))) {
          size_t start = pos + key.size() + 1;
          size_t stop = s.find(' ', start);
          std::string v = s.substr(start, (stop == std::string::npos ? s.size() : stop) - start);
          if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
          return v;
        }
        pos += key.size();
      }
      return "";
    };
    if (!value("host").empty()) host = value("host");
    if (!value("port").empty()) port = value("port");
    db = value("dbname");
  }
  if (!host.empty() && host[0] == '/') return "unix socket " + host + "/.s.PGSQL." + port + (db.empty() ? "" : " db " + db);
  return host + ":" + port + (db.empty() ? "" : "/" + db);
}

}  // namespace schemagate
