// Internal to src/schema: the helpers that read an object's attributes and
// name parts, shared by the comparison and the SQL generation (objects.cc).
// Nothing outside src/schema includes this.
#ifndef SCHEMAGATE_SCHEMA_INTERNAL_H_
#define SCHEMAGATE_SCHEMA_INTERNAL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema/catalog.h"

namespace schemagate::schema_internal {

// The attribute `key` of `o`, "" when absent.
std::string Attr(const CatalogObject& o, const std::string& key);

// Where the name part of a qualified name ends: the first '(' outside
// quotes (a function's argument list), else the end.
size_t NameEnd(std::string_view name);

// Splits "a.b.c" at its last dot outside quotes: {"a.b", "c"}, both still
// quoted as written.
std::pair<std::string, std::string> SplitLast(const std::string& name);

// The parent table's name of a column, constraint, trigger or index; ""
// for other kinds.
std::string TableName(const CatalogObject& o);

// The last part of a qualified name, still quoted as written.
std::string LastPart(const std::string& name);

// One name part without its quotes: "\"My Table\"" -> "My Table".
std::string Unquote(const std::string& part);

// Labels as stored in an enum's "labels" attribute ('a', 'b''c'), parsed
// and written back.
std::vector<std::string> ParseLabels(const std::string& text);
std::string JoinLabels(const std::vector<std::string>& labels);

}  // namespace schemagate::schema_internal

#endif  // SCHEMAGATE_SCHEMA_INTERNAL_H_
