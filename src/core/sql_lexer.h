// A PostgreSQL-aware statement splitter.
//
// Splits SQL text into statements at top-level semicolons, understanding
// everything that can hide a semicolon: '...' with '' escapes, E'...' with
// backslash escapes, U&'...', $tag$...$tag$ bodies (a `$` inside an identifier
// or a `$1` parameter is not a quote), "quoted identifiers", -- comments,
// nested /* */ comments, and BEGIN ATOMIC ... END bodies of SQL-standard
// function definitions.
#ifndef SCHEMAGATE_CORE_SQL_LEXER_H_
#define SCHEMAGATE_CORE_SQL_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace schemagate {

struct SqlStatement {
  std::string text;  // the statement without its terminating ';', trimmed
  int line = 0;      // 1-based line where the statement's first token starts
  int column = 1;    // 1-based column (in characters) of that token on its line
};

// Splits `sql` into statements. `first_line` is the line number of the first
// character of `sql` in its file, so that every statement knows its file line.
// Statements that are empty or only comments are dropped.
// Fails (kValidation, message naming the line) on an unterminated quote,
// dollar-quoted body, quoted identifier or block comment.
Result<std::vector<SqlStatement>> SplitStatements(std::string_view sql, int first_line = 1);

// What `sql` ends inside of: "a dollar-quoted string $tag$", "a string
// literal", "a quoted identifier" or "a /* comment"; "" when its end is
// outside every quote and block comment. A line that starts inside one is
// SQL text, not a comment (a `-- migrate:` line in a function body is no
// section marker).
std::string OpenQuoteAtEnd(std::string_view sql);

// Why a statement cannot be run by schemagate at all, or "" when it can:
// psql meta-commands (a line starting with '\'), COPY ... FROM STDIN.
std::string UnsupportedStatementReason(const SqlStatement& statement);

// Why a statement cannot run inside a transaction block, or "" when it can:
// CREATE/DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY, VACUUM,
// ALTER SYSTEM, CREATE/DROP DATABASE, CREATE/DROP TABLESPACE,
// ALTER TYPE ... ADD VALUE (before PostgreSQL 12 only; allowed here),
// DETACH PARTITION ... CONCURRENTLY, CLUSTER without a table, etc.
// The reason is a short phrase such as "CREATE INDEX CONCURRENTLY".
std::string NonTransactionalReason(const SqlStatement& statement);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_SQL_LEXER_H_
