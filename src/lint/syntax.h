// What to say about a statement PostgreSQL 15's parser refuses, and where
// in the file it is. Internal to src/lint.
#ifndef SCHEMAGATE_LINT_SYNTAX_H_
#define SCHEMAGATE_LINT_SYNTAX_H_

#include <string>
#include <utility>

#include "core/sql_lexer.h"
#include "lint/pg_parser.h"

namespace schemagate::lint {

struct SyntaxProblem {
  const char* rule;     // kSyntaxError, or kNewerSyntax when a later PostgreSQL's word is near the error
  std::string message;  // PostgreSQL's message, and for newer syntax which version has it
};

// `parsed` must hold an error for `text`.
SyntaxProblem DescribeSyntaxError(const std::string& text, const ParsedSql& parsed);

// The file line and column (1-based, in characters) of byte `offset` of the
// statement's text; the statement's own start for a negative offset.
std::pair<int, int> PositionOf(const SqlStatement& statement, int offset);

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_SYNTAX_H_
