// Reading libpg_query's parse trees: names, types, constants and expression
// walks, in the words PostgreSQL's own catalogs use. Internal to src/lint.
#ifndef SCHEMAGATE_LINT_TREE_H_
#define SCHEMAGATE_LINT_TREE_H_

#include <pg_query/pg_query.pb-c.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace schemagate::lint {

// A relation as the parser resolved its spelling: unquoted identifiers
// folded to lower case, quoted ones exact.
struct Name {
  std::string schema;  // "" when unqualified
  std::string name;

  // Compares as PostgreSQL finds the relation, with `public.` the default schema.
  std::string key() const { return (schema.empty() || schema == "public" ? "" : schema + ".") + name; }
  // As PostgreSQL would print it: quoted only where needed.
  std::string display() const;
};

Name NameOf(const PgQuery__RangeVar* relation);
// A dotted name list (DROP INDEX a.b, type names, ...) as a Name.
Name NameOfList(PgQuery__Node* const* items, size_t n);
std::string QuoteIdent(const std::string& ident);
std::string Displays(const std::vector<Name>& names);

// protobuf strings are "" when unset, not null: true when `s` holds text.
inline bool IsSet(const char* s) { return s != nullptr && *s != '\0'; }

// The string of a String node ("" for anything else).
std::string StringOf(const PgQuery__Node* node);

// A column type: `int`, `integer` and `int4` all read "int4".
struct ColumnType {
  std::string name;               // canonical: int4, int8, varchar, bpchar, timestamptz, ...
  std::vector<int> modifiers;     // varchar(20) -> {20}; numeric(10,2) -> {10, 2}
  bool array = false;
  std::string display() const;    // "varchar(20)", "timestamp", "int4[]"
};
ColumnType TypeOf(const PgQuery__TypeName* type);

// Calls `visit` on `node` and every node below it that is part of an
// expression (function calls, operators, casts, lists, sub-selects' targets).
void WalkExpression(const PgQuery__Node* node, const std::function<void(const PgQuery__Node*)>& visit);

// The function a call names, without pg_catalog ("gen_random_uuid").
std::string FunctionName(const PgQuery__FuncCall* call);

// The text of a constant, a constant cast, or an identifier-like SET
// argument ("5s", "0", "true"); nullopt for anything else.
std::optional<std::string> ConstantText(const PgQuery__Node* node);

// Whether a parenthesised option list (VACUUM (FULL), REINDEX
// (CONCURRENTLY), ...) turns `name` on: named without a value, or not false/off/0.
bool OptionOn(PgQuery__Node* const* options, size_t n, const char* name);


}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_TREE_H_
