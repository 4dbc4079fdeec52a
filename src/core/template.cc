#include "core/template.h"

namespace schemagate {
namespace {

constexpr size_t kMaxSlugLength = 40;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsAsciiAlnum(char c) { return IsNameChar(c) && c != '_'; }

std::string KnownNames(const std::map<std::string, std::string>& vars) {
  std::string out;
  for (const auto& entry : vars) {
    if (!out.empty()) out += ", ";
    out += entry.first;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size() + 256);
  int line = 1;
  size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size() || tmpl[i + 1] != '{') {
      // Everything but "${" is copied, so $$, $1 and $tag$ stay as written.
      if (c == '\n') ++line;
      out += c;
      ++i;
      continue;
    }
    size_t end = i + 2;
    if (end < tmpl.size() && IsNameStart(tmpl[end])) {
      while (end < tmpl.size() && IsNameChar(tmpl[end])) ++end;
    }
    if (end == i + 2 || end >= tmpl.size() || tmpl[end] != '}') {
      return Status::Validation("line " + std::to_string(line) +
                                ": '${' must be followed by a name and '}', as in ${message}");
    }
    const std::string name(tmpl.substr(i + 2, end - i - 2));
    auto it = vars.find(name);
    if (it == vars.end()) {
      return Status::Validation("line " + std::to_string(line) + ": unknown placeholder ${" + name +
                                "} (known: " + KnownNames(vars) + ")");
    }
    out += it->second;
    i = end + 1;
  }
  return out;
}

std::string Slugify(std::string_view message) {
  std::string slug;
  bool separator = false;
  for (char c : message) {
    if (!IsAsciiAlnum(c)) {
      separator = !slug.empty();
      continue;
    }
    if (separator) slug += '_';
    separator = false;
    slug += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (slug.size() > kMaxSlugLength) break;
  }
  if (slug.size() > kMaxSlugLength) {
    // Too long: keep whole words when the first one fits, as Alembic does.
    const bool cut_between_words = slug[kMaxSlugLength] == '_';
    slug.resize(kMaxSlugLength);
    const size_t last_separator = slug.rfind('_');
    if (!cut_between_words && last_separator != std::string::npos) slug.resize(last_separator);
  }
  while (!slug.empty() && slug.back() == '_') slug.pop_back();
  return slug;
}

}  // namespace schemagate
