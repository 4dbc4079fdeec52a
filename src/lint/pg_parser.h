// PostgreSQL's own parser (libpg_query, PostgreSQL 15's grammar), loaded on
// first use.
//
// The library is opened with dlopen the first time a statement is parsed,
// never at start-up: the runner that starts on every pod start links none of
// it, so its 7,000 relocations and 2.7 MB are paid only by `lint` and
// `check`, which need a parse tree. Trees are libpg_query's protobuf
// messages (pg_query.pb-c.h), unpacked by the library itself.
//
// Internal to src/lint.
#ifndef SCHEMAGATE_LINT_PG_PARSER_H_
#define SCHEMAGATE_LINT_PG_PARSER_H_

#include <pg_query/pg_query.pb-c.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace schemagate::lint {

// The memory a tree is unpacked into: one arena, dropped whole, instead of
// a malloc and a free per node (a third of lint's time went to those).
class TreeArena;
struct TreeArenaDeleter {
  void operator()(TreeArena* arena) const;
};

// One text through the parser: a tree, or where and why PostgreSQL refused it.
struct ParsedSql {
  std::unique_ptr<TreeArena, TreeArenaDeleter> arena;  // owns the tree
  const PgQuery__ParseResult* tree = nullptr;          // set when the text parsed
  std::string error;   // PostgreSQL's message ("syntax error at or near \"TABEL\""), "" when parsed
  int error_offset = -1;  // 0-based byte offset of the error in the text, -1 when unknown
};

// Parses `sql` (any number of statements). Fails only when the parser cannot
// be loaded (kRuntime, naming the library and the package that has it); a
// statement PostgreSQL refuses is a ParsedSql with `error` set.
Result<ParsedSql> ParseSql(const std::string& sql);

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_PG_PARSER_H_
