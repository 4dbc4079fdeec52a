// DiffCatalogs and FormatDifference: two catalogs compared object by
// object and attribute by attribute, and the differences written for people.
#include "schema/catalog.h"

#include "schema/internal.h"

namespace schemagate {
namespace {

using schema_internal::Attr;

std::string CollapseSpace(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
    }
    space = false;
    out += c;
  }
  return out;
}

std::string Summary(const CatalogObject& o) {
  std::string s;
  if (o.kind == "column" || o.kind == "sequence") {
    s = Attr(o, "type");
  } else if (o.kind == "constraint" || o.kind == "index" || o.kind == "trigger") {
    s = Attr(o, "definition");
  } else if (o.kind == "function") {
    s = Attr(o, "kind") == "procedure" ? "procedure" : "returns " + Attr(o, "returns");
  } else if (o.kind == "enum") {
    s = Attr(o, "labels");
  } else if (o.kind == "extension") {
    s = "schema " + Attr(o, "schema");
  }
  s = CollapseSpace(s);
  return s.empty() || s == "returns" ? o.kind : s;
}

}  // namespace

std::vector<CatalogDifference> DiffCatalogs(const Catalog& before, const Catalog& after) {
  std::vector<CatalogDifference> out;
  auto b = before.objects.begin();
  auto a = after.objects.begin();
  while (b != before.objects.end() || a != after.objects.end()) {
    if (a == after.objects.end() || (b != before.objects.end() && b->first < a->first)) {
      out.push_back({b->second.kind, b->second.name, "", Summary(b->second), ""});
      ++b;
      continue;
    }
    if (b == before.objects.end() || a->first < b->first) {
      out.push_back({a->second.kind, a->second.name, "", "", Summary(a->second)});
      ++a;
      continue;
    }
    std::set<std::string> attributes;
    for (const auto& [k, v] : b->second.attributes) {
      attributes.insert(k);
    }
    for (const auto& [k, v] : a->second.attributes) {
      attributes.insert(k);
    }
    for (const std::string& attr : attributes) {
      const std::string x = Attr(b->second, attr);
      const std::string y = Attr(a->second, attr);
      if (x != y) {
        out.push_back({a->second.kind, a->second.name, attr, x, y});
      }
    }
    ++a;
    ++b;
  }
  return out;
}

std::string FormatDifference(const CatalogDifference& d) {
  const std::string head = d.kind + " " + d.name + ": ";
  if (d.attribute.empty()) {
    if (d.before.empty()) {
      return head + "added (" + d.after + ")";
    }
    if (d.after.empty()) {
      return head + "removed";
    }
  }
  constexpr size_t kShort = 60;
  std::string x = CollapseSpace(d.before);
  std::string y = CollapseSpace(d.after);
  if (x.size() > kShort || y.size() > kShort) {
    size_t i = 0;
    while (i < x.size() && i < y.size() && x[i] == y[i]) {
      ++i;
    }
    const size_t start = i > 20 ? i - 20 : 0;
    auto excerpt = [&](const std::string& s) {
      if (start >= s.size()) {
        return std::string("...");
      }
      std::string e = (start ? "..." : "") + s.substr(start, 50);
      return start + 50 < s.size() ? e + "..." : e;
    };
    x = excerpt(x);
    y = excerpt(y);
  }
  return head + d.attribute + " " + (x.empty() ? "(none)" : x) + " -> " +
         (y.empty() ? "(none)" : y);
}

}  // namespace schemagate
