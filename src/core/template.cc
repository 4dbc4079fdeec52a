#include "core/template.h"

#include <cctype>

namespace schemagate {

Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size() + 256);
  int line = 1;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '\n') ++line;
    if (c == '$' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        return Status::Validation("line " + std::to_string(line) + ": '${' without a closing '}'");
      }
      std::string name(tmpl.substr(i + 2, close - i - 2));
      auto it = vars.find(name);
      if (it == vars.end()) {
        std::string known;
        for (const auto& [k, v] : vars) known += (known.empty() ? "" : ", ") + k;
        return Status::Validation("line " + std::to_string(line) + ": unknown placeholder ${" + name +
                                  "} (known: " + known + ")");
      }
      out += it->second;
      i = close;
      continue;
    }
    out += c;
  }
  return out;
}

std::string Slugify(std::string_view message) {
  std::string out;
  bool pending_sep = false;
  for (char c : message) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) {
      if (pending_sep && !out.empty()) out += '_';
      pending_sep = false;
      out += static_cast<char>(std::tolower(u));
    } else {
      pending_sep = true;
    }
    if (out.size() >= 40) break;
  }
  if (out.size() > 40) out.resize(40);
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace schemagate
