#include "lint/syntax.h"

#include <cctype>
#include <map>

#include "lint/rule_ids.h"

namespace schemagate::lint {
namespace {

// Words of the grammars after PostgreSQL 15 that 15's parser stops at (or
// just after), with the release that brought them.
const std::map<std::string, const char*>& NewerWords() {
  static const std::map<std::string, const char*> words = {
      {"json", "16 (IS JSON)"},
      {"json_object", "16"},
      {"json_array", "16"},
      {"json_objectagg", "16"},
      {"json_arrayagg", "16"},
      {"json_scalar", "16"},
      {"json_serialize", "16"},
      {"system_user", "16"},
      {"inherit", "16 (GRANT ... WITH INHERIT)"},
      {"json_table", "17"},
      {"json_query", "17"},
      {"json_value", "17"},
      {"json_exists", "17"},
      {"merge_action", "17"},
      {"expression", "17 (SET EXPRESSION)"},
      {"maintain", "17 (MAINTAIN)"},
      {"source", "17 (WHEN NOT MATCHED BY SOURCE)"},
      {"overlaps", "18 (WITHOUT OVERLAPS)"},
      {"period", "18 (PERIOD)"},
      {"enforced", "18 (NOT ENFORCED)"},
      {"virtual", "18 (VIRTUAL generated columns)"},
  };
  return words;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The later PostgreSQL whose word stands near `offset`, or "".
std::string NewerVersionNear(const std::string& text, int offset) {
  const size_t from = offset > 40 ? static_cast<size_t>(offset) - 40 : 0;
  const size_t to = std::min(text.size(), static_cast<size_t>(std::max(offset, 0)) + 24);
  for (size_t i = from; i < to;) {
    if (!IsWordChar(text[i]) || (i > 0 && IsWordChar(text[i - 1]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsWordChar(text[end])) ++end;
    const std::string word = Lower(text.substr(i, end - i));
    auto it = NewerWords().find(word);
    if (it != NewerWords().end()) return "'" + word + "' is PostgreSQL " + it->second + " syntax";
    i = end;
  }
  // MERGE ... RETURNING came with 17.
  if (Lower(text.substr(0, 5)) == "merge" && offset >= 0 &&
      Lower(text.substr(static_cast<size_t>(offset), 9)) == "returning") {
    return "MERGE ... RETURNING is PostgreSQL 17 syntax";
  }
  return "";
}

}  // namespace

SyntaxProblem DescribeSyntaxError(const std::string& text, const ParsedSql& parsed) {
  const std::string newer = NewerVersionNear(text, parsed.error_offset);
  if (!newer.empty()) {
    return {kNewerSyntax, "PostgreSQL 15's parser refuses this statement (" + parsed.error + "); " + newer +
                              ", so lint does not check it"};
  }
  return {kSyntaxError, parsed.error};
}

std::pair<int, int> PositionOf(const SqlStatement& statement, int offset) {
  int line = statement.line;
  int column = statement.column;
  const std::string& t = statement.text;
  for (size_t i = 0; offset >= 0 && i < static_cast<size_t>(offset) && i < t.size(); ++i) {
    if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= t.size() || t[i + 1] != '\n'))) {
      ++line;
      column = 1;
    } else if (t[i] != '\r' && (static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace schemagate::lint
