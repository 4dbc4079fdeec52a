// The schema model's objects: their keys, names and quoting, and the
// helpers that read an object's attributes and name parts (internal.h).
#include "schema/catalog.h"

#include <utility>

#include "schema/internal.h"

namespace schemagate {
namespace {

using schema_internal::NameEnd;

// PostgreSQL 15's keywords that quote_ident quotes: every category but
// UNRESERVED (pg_get_keywords() WHERE catcode <> 'U').
const std::set<std::string_view>& QuotedKeywords() {
  static const std::set<std::string_view> kWords = {"all",
                                                    "analyse",
                                                    "analyze",
                                                    "and",
                                                    "any",
                                                    "array",
                                                    "as",
                                                    "asc",
                                                    "asymmetric",
                                                    "authorization",
                                                    "between",
                                                    "bigint",
                                                    "binary",
                                                    "bit",
                                                    "boolean",
                                                    "both",
                                                    "case",
                                                    "cast",
                                                    "char",
                                                    "character",
                                                    "check",
                                                    "coalesce",
                                                    "collate",
                                                    "collation",
                                                    "column",
                                                    "concurrently",
                                                    "constraint",
                                                    "create",
                                                    "cross",
                                                    "current_catalog",
                                                    "current_date",
                                                    "current_role",
                                                    "current_schema",
                                                    "current_time",
                                                    "current_timestamp",
                                                    "current_user",
                                                    "dec",
                                                    "decimal",
                                                    "default",
                                                    "deferrable",
                                                    "desc",
                                                    "distinct",
                                                    "do",
                                                    "else",
                                                    "end",
                                                    "except",
                                                    "exists",
                                                    "extract",
                                                    "false",
                                                    "fetch",
                                                    "float",
                                                    "for",
                                                    "foreign",
                                                    "freeze",
                                                    "from",
                                                    "full",
                                                    "grant",
                                                    "greatest",
                                                    "group",
                                                    "grouping",
                                                    "having",
                                                    "ilike",
                                                    "in",
                                                    "initially",
                                                    "inner",
                                                    "inout",
                                                    "int",
                                                    "integer",
                                                    "intersect",
                                                    "interval",
                                                    "into",
                                                    "is",
                                                    "isnull",
                                                    "join",
                                                    "lateral",
                                                    "leading",
                                                    "least",
                                                    "left",
                                                    "like",
                                                    "limit",
                                                    "localtime",
                                                    "localtimestamp",
                                                    "national",
                                                    "natural",
                                                    "nchar",
                                                    "none",
                                                    "normalize",
                                                    "not",
                                                    "notnull",
                                                    "null",
                                                    "nullif",
                                                    "numeric",
                                                    "offset",
                                                    "on",
                                                    "only",
                                                    "or",
                                                    "order",
                                                    "out",
                                                    "outer",
                                                    "overlaps",
                                                    "overlay",
                                                    "placing",
                                                    "position",
                                                    "precision",
                                                    "primary",
                                                    "real",
                                                    "references",
                                                    "returning",
                                                    "right",
                                                    "row",
                                                    "select",
                                                    "session_user",
                                                    "setof",
                                                    "similar",
                                                    "smallint",
                                                    "some",
                                                    "substring",
                                                    "symmetric",
                                                    "table",
                                                    "tablesample",
                                                    "then",
                                                    "time",
                                                    "timestamp",
                                                    "to",
                                                    "trailing",
                                                    "treat",
                                                    "trim",
                                                    "true",
                                                    "union",
                                                    "unique",
                                                    "user",
                                                    "using",
                                                    "values",
                                                    "varchar",
                                                    "variadic",
                                                    "verbose",
                                                    "when",
                                                    "where",
                                                    "window",
                                                    "with",
                                                    "xmlattributes",
                                                    "xmlconcat",
                                                    "xmlelement",
                                                    "xmlexists",
                                                    "xmlforest",
                                                    "xmlnamespaces",
                                                    "xmlparse",
                                                    "xmlpi",
                                                    "xmlroot",
                                                    "xmlserialize",
                                                    "xmltable"};
  return kWords;
}

}  // namespace

namespace schema_internal {

std::string Attr(const CatalogObject& o, const std::string& key) {
  auto it = o.attributes.find(key);
  return it == o.attributes.end() ? std::string() : it->second;
}

size_t NameEnd(std::string_view name) {
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '"') {
      quoted = !quoted;
    }
    if (!quoted && name[i] == '(') {
      return i;
    }
  }
  return name.size();
}

std::pair<std::string, std::string> SplitLast(const std::string& name) {
  const size_t end = NameEnd(name);
  bool quoted = false;
  size_t last_dot = std::string::npos;
  for (size_t i = 0; i < end; ++i) {
    if (name[i] == '"') {
      quoted = !quoted;
    }
    if (!quoted && name[i] == '.') {
      last_dot = i;
    }
  }
  if (last_dot == std::string::npos) {
    return {"", name};
  }
  return {name.substr(0, last_dot), name.substr(last_dot + 1)};
}

std::string TableName(const CatalogObject& o) {
  if (o.kind == "index") {
    return Attr(o, "table");
  }
  if (o.kind == "column" || o.kind == "constraint" || o.kind == "trigger") {
    return SplitLast(o.name).first;
  }
  return "";
}

std::string LastPart(const std::string& name) { return SplitLast(name).second; }

std::string Unquote(const std::string& part) {
  std::vector<std::string> parts = SplitQualifiedName(part);
  return parts.empty() ? part : parts.back();
}

std::vector<std::string> ParseLabels(const std::string& text) {
  std::vector<std::string> labels;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\'') {
      ++i;
      continue;
    }
    std::string label;
    ++i;
    while (i < text.size()) {
      if (text[i] == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          label += '\'';
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      label += text[i++];
    }
    labels.push_back(label);
  }
  return labels;
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out;
  for (const std::string& l : labels) {
    if (!out.empty()) {
      out += ", ";
    }
    out += QuoteLiteral(l);
  }
  return out;
}

}  // namespace schema_internal

void Catalog::Add(CatalogObject object) {
  std::string key = CatalogKey(object.kind, object.name);
  objects[std::move(key)] = std::move(object);
}

const CatalogObject* Catalog::Find(const std::string& kind, const std::string& name) const {
  auto it = objects.find(CatalogKey(kind, name));
  return it == objects.end() ? nullptr : &it->second;
}

std::string CatalogKey(const std::string& kind, const std::string& name) {
  return kind + " " + name;
}

std::string QuoteIdentifier(std::string_view name) {
  bool bare = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) {
      bare = false;
    }
  }
  if (bare && !QuotedKeywords().count(name)) {
    return std::string(name);
  }
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += '\'';
    }
    out += c;
  }
  return out + "'";
}

std::vector<std::string> SplitQualifiedName(std::string_view name) {
  name = name.substr(0, NameEnd(name));
  std::vector<std::string> parts;
  std::string part;
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < name.size() && name[i + 1] == '"') {
          part += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        part += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '.') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  return parts;
}

}  // namespace schemagate
