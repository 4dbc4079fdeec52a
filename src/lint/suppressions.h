// `-- schemagate:lint-ignore RULE[, RULE...] [-- reason]` comments: where
// they are, which statement each applies to, and what is wrong with them.
// Internal to src/lint.
#ifndef SCHEMAGATE_LINT_SUPPRESSIONS_H_
#define SCHEMAGATE_LINT_SUPPRESSIONS_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/migration_file.h"

namespace schemagate::lint {

struct Directive {
  int line = 0;
  bool own_line = false;  // nothing but the comment on its line
  bool malformed = false;
  std::vector<std::string> ids;
  bool attached = false;  // directly above a statement
};

class Suppressions {
 public:
  // The lint-ignore comments in the bodies of `sections` of `file`.
  Suppressions(const MigrationFile& file, std::string_view content, const std::vector<const Section*>& sections);

  // The rules suppressed for the statement starting on `line` of `section`:
  // those of the own-line comments in the block of comment lines directly above.
  std::set<std::string> For(const Section& section, int line);

  // What is wrong with the comments: {line, message} for `invalid-lint-ignore`.
  std::vector<std::pair<int, std::string>> Problems() const;

 private:
  const MigrationFile& file_;
  std::vector<std::string_view> lines_;
  std::map<int, Directive> directives_;
};

// The file's lines as the statement splitter counts them (LF, CRLF or a
// lone CR); [0] is line 1.
std::vector<std::string_view> SplitLines(std::string_view content);

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_SUPPRESSIONS_H_
