#include "core/lint.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/json_writer.h"

namespace schemagate {
namespace {

// ------------------------------------------------------------------ rules

constexpr const char* kIndexNotConcurrent = "index-not-concurrent";
constexpr const char* kNotNullWithoutDefault = "not-null-without-default";
constexpr const char* kColumnTypeChange = "column-type-change";
constexpr const char* kDropTable = "drop-table";
constexpr const char* kDropColumn = "drop-column";
constexpr const char* kRenameTable = "rename-table";
constexpr const char* kRenameColumn = "rename-column";
constexpr const char* kConstraintWithoutNotValid = "constraint-without-not-valid";
constexpr const char* kUniqueWithoutUsingIndex = "unique-without-using-index";
constexpr const char* kTimestampWithoutTimeZone = "timestamp-without-time-zone";
constexpr const char* kCharType = "char-type";
constexpr const char* kSerialType = "serial-type";
constexpr const char* kMissingLockTimeout = "missing-lock-timeout";
constexpr const char* kInvalidLintIgnore = "invalid-lint-ignore";

constexpr std::string_view kIgnoreMarker = "schemagate:lint-ignore";

// ----------------------------------------------------------------- tokens

enum class TokenKind { kWord, kQuoted, kString, kNumber, kPunct };

struct Token {
  TokenKind kind;
  std::string text;  // kWord: ASCII lower-cased; kQuoted, kString: the content without quotes
};

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) {
  return IsAsciiAlpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Reads the quoted token that starts at the quote s[*i] and moves past it. A
// doubled quote stands for one; with `backslash` (E'...') a backslash takes
// the next character literally. An unterminated quote runs to the end (the
// splitter has already refused those).
std::string ReadQuoted(std::string_view s, size_t* i, bool backslash) {
  const char quote = s[*i];
  std::string out;
  size_t j = *i + 1;
  while (j < s.size()) {
    const char c = s[j];
    if (backslash && c == '\\' && j + 1 < s.size()) {
      out += s[j + 1];
      j += 2;
    } else if (c == quote) {
      if (j + 1 < s.size() && s[j + 1] == quote) {
        out += quote;
        j += 2;
      } else {
        ++j;
        break;
      }
    } else {
      out += c;
      ++j;
    }
  }
  *i = j;
  return out;
}

// A statement's tokens: comments dropped; strings and dollar-quoted bodies
// become one kString each, so nothing inside them is read as SQL.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    const char next = i + 1 < n ? s[i + 1] : '\0';
    if (IsSpace(c)) {
      ++i;
    } else if (c == '-' && next == '-') {
      const size_t eol = s.find('\n', i);
      i = eol == std::string_view::npos ? n : eol;
    } else if (c == '/' && next == '*') {
      int depth = 0;
      while (i < n) {
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '\'') {
      out.push_back({TokenKind::kString, ReadQuoted(s, &i, false)});
    } else if (c == '"') {
      out.push_back({TokenKind::kQuoted, ReadQuoted(s, &i, false)});
    } else if (c == '$') {
      // $tag$...$tag$ (the tag is an identifier without '$', or empty); $1 is a parameter.
      size_t j = i + 1;
      if (j < n && !IsDigit(s[j])) {
        while (j < n && IsIdentChar(s[j]) && s[j] != '$') ++j;
      }
      if (j < n && s[j] == '$') {
        const std::string_view tag = s.substr(i, j - i + 1);
        const size_t body = j + 1;
        const size_t end = s.find(tag, body);
        out.push_back(
            {TokenKind::kString,
             std::string(s.substr(body, end == std::string_view::npos ? n - body : end - body))});
        i = end == std::string_view::npos ? n : end + tag.size();
      } else {
        size_t k = i + 1;
        while (k < n && IsDigit(s[k])) ++k;
        out.push_back({TokenKind::kPunct, std::string(s.substr(i, k - i))});
        i = k;
      }
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < n && IsIdentChar(s[j])) ++j;
      std::string word = Lower(s.substr(i, j - i));
      if (j < n && s[j] == '\'' && (word == "e" || word == "b" || word == "x" || word == "n")) {
        i = j;  // E'...', B'...', X'...', N'...'
        out.push_back({TokenKind::kString, ReadQuoted(s, &i, word == "e")});
      } else if (word == "u" && j + 1 < n && s[j] == '&' && (s[j + 1] == '\'' || s[j + 1] == '"')) {
        i = j + 1;  // U&'...', U&"..."
        const TokenKind kind = s[i] == '\'' ? TokenKind::kString : TokenKind::kQuoted;
        out.push_back({kind, ReadQuoted(s, &i, false)});
      } else {
        out.push_back({TokenKind::kWord, std::move(word)});
        i = j;
      }
    } else if (IsDigit(c) || (c == '.' && IsDigit(next))) {
      size_t j = i;
      while (j < n && (IsDigit(s[j]) || s[j] == '.' || IsAsciiAlpha(s[j]) || s[j] == '_')) ++j;
      out.push_back({TokenKind::kNumber, std::string(s.substr(i, j - i))});
      i = j;
    } else {
      out.push_back({TokenKind::kPunct, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

constexpr size_t kNpos = static_cast<size_t>(-1);

// A view of consecutive tokens with the lookups the rules need. Out-of-range
// indexes are simply "no match".
class Span {
 public:
  Span() = default;
  explicit Span(const std::vector<Token>& tokens)
      : begin_(tokens.data()), end_(tokens.data() + tokens.size()) {}

  size_t size() const { return static_cast<size_t>(end_ - begin_); }
  bool empty() const { return begin_ == end_; }
  const Token& operator[](size_t i) const { return begin_[i]; }

  // Tokens [from, to), clamped.
  Span Slice(size_t from, size_t to) const {
    to = std::min(to, size());
    from = std::min(from, to);
    return Span(begin_ + from, begin_ + to);
  }
  Span From(size_t i) const { return Slice(i, size()); }

  bool Word(size_t i, std::string_view word) const {
    return i < size() && begin_[i].kind == TokenKind::kWord && begin_[i].text == word;
  }
  bool Words(size_t i, std::initializer_list<std::string_view> words) const {
    for (std::string_view w : words) {
      if (!Word(i++, w)) return false;
    }
    return true;
  }
  bool Punct(size_t i, char c) const {
    return i < size() && begin_[i].kind == TokenKind::kPunct && begin_[i].text.size() == 1 &&
           begin_[i].text[0] == c;
  }
  bool Ident(size_t i) const {
    return i < size() &&
           (begin_[i].kind == TokenKind::kWord || begin_[i].kind == TokenKind::kQuoted);
  }

  // Where `words` first occur outside parentheses and brackets, at or after
  // `from`; kNpos when they do not.
  size_t Find(std::initializer_list<std::string_view> words, size_t from = 0) const {
    int depth = 0;
    for (size_t i = from; i < size(); ++i) {
      if (Punct(i, '(') || Punct(i, '[')) {
        ++depth;
      } else if (Punct(i, ')') || Punct(i, ']')) {
        --depth;
      } else if (depth == 0 && Words(i, words)) {
        return i;
      }
    }
    return kNpos;
  }
  bool Has(std::initializer_list<std::string_view> words) const { return Find(words) != kNpos; }
  // Any token, at any depth, is the word `word`.
  bool Mentions(std::string_view word) const {
    for (size_t i = 0; i < size(); ++i) {
      if (Word(i, word)) return true;
    }
    return false;
  }

  // The index just past the parenthesis that closes the one at `i`.
  size_t SkipParens(size_t i) const {
    int depth = 0;
    for (; i < size(); ++i) {
      if (Punct(i, '(')) {
        ++depth;
      } else if (Punct(i, ')') && --depth == 0) {
        return i + 1;
      }
    }
    return size();
  }

  // The pieces between commas outside parentheses.
  std::vector<Span> SplitCommas() const {
    std::vector<Span> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < size(); ++i) {
      if (Punct(i, '(') || Punct(i, '[')) {
        ++depth;
      } else if (Punct(i, ')') || Punct(i, ']')) {
        --depth;
      } else if (depth == 0 && Punct(i, ',')) {
        out.push_back(Slice(start, i));
        start = i + 1;
      }
    }
    if (start < size()) out.push_back(From(start));
    return out;
  }

 private:
  Span(const Token* begin, const Token* end) : begin_(begin), end_(end) {}
  const Token* begin_ = nullptr;
  const Token* end_ = nullptr;
};

// An identifier as a message shows it: quoted only when it has to be.
std::string DisplayIdent(const Token& t) {
  if (t.kind != TokenKind::kQuoted) return t.text;
  bool plain = !t.text.empty() && !IsDigit(t.text[0]);
  for (char c : t.text) plain = plain && ((c >= 'a' && c <= 'z') || IsDigit(c) || c == '_');
  if (plain) return t.text;
  std::string out = "\"";
  for (char c : t.text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Tokens as SQL-ish text for messages: "char(2)", "timestamp(3)".
std::string Render(const Span& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const Token& t = s[i];
    const bool tight =
        t.kind == TokenKind::kPunct && (t.text == "(" || t.text == ")" || t.text == "," ||
                                        t.text == "[" || t.text == "]" || t.text == ".");
    const bool after_open =
        i > 0 && (s.Punct(i - 1, '(') || s.Punct(i - 1, '[') || s.Punct(i - 1, '.'));
    if (!out.empty() && !tight && !after_open) out += ' ';
    if (t.kind == TokenKind::kString) {
      out += "'" + t.text + "'";
    } else if (t.kind == TokenKind::kQuoted) {
      out += DisplayIdent(t);
    } else {
      out += t.text;
    }
    if (t.text == ",") out += ' ';
  }
  return out;
}

// A relation name. Unquoted identifiers are already lower-cased by the
// tokenizer, so the key compares as PostgreSQL resolves names.
struct Name {
  std::string key;      // "users", "app.users", "Users" (quoted); no "public."
  std::string display;  // for messages
};

// Reads `[catalog.][schema.]name` at *i and moves past it.
std::optional<Name> ReadName(const Span& s, size_t* i) {
  if (!s.Ident(*i)) return std::nullopt;
  std::vector<const Token*> parts{&s[*i]};
  size_t j = *i + 1;
  while (s.Punct(j, '.') && s.Ident(j + 1)) {
    parts.push_back(&s[j + 1]);
    j += 2;
  }
  *i = j;
  if (parts.size() > 2) {
    parts.erase(parts.begin(), parts.end() - 2);  // the catalog is this database
  }
  if (parts.size() == 2 && parts[0]->text == "public") parts.erase(parts.begin());
  Name name;
  for (const Token* p : parts) {
    if (!name.key.empty()) {
      name.key += '.';
      name.display += '.';
    }
    name.key += p->text;
    name.display += DisplayIdent(*p);
  }
  return name;
}

std::optional<Name> NameAt(const Span& s, size_t i) { return ReadName(s, &i); }

// "a, b" of the names' display forms.
std::string Displays(const std::vector<Name>& names) {
  std::string out;
  for (const Name& n : names) out += (out.empty() ? "" : ", ") + n.display;
  return out;
}

// ------------------------------------------------------------- statements

// A column definition of CREATE TABLE or ADD COLUMN.
struct Column {
  std::string name;  // display form
  Span type;         // the type's tokens
  Span rest;         // the column constraints after the type
};

bool StartsColumnConstraint(const Token& t) {
  static const std::set<std::string_view> kWords = {
      "constraint", "not",       "null",    "default",     "primary", "unique",     "check",
      "references", "generated", "collate", "compression", "storage", "deferrable", "initially"};
  return t.kind == TokenKind::kWord && kWords.count(t.text) > 0;
}

std::optional<Column> ReadColumn(const Span& s) {
  if (!s.Ident(0)) return std::nullopt;
  Column column;
  column.name = DisplayIdent(s[0]);
  size_t end = 1;
  int depth = 0;
  for (; end < s.size(); ++end) {
    if (s.Punct(end, '(') || s.Punct(end, '[')) {
      ++depth;
    } else if (s.Punct(end, ')') || s.Punct(end, ']')) {
      --depth;
    } else if (depth == 0 && StartsColumnConstraint(s[end])) {
      break;
    }
  }
  column.type = s.Slice(1, end);
  column.rest = s.From(end);
  return column;
}

// The type without a `pg_catalog.` qualifier.
Span BareType(const Span& type) {
  return type.Word(0, "pg_catalog") && type.Punct(1, '.') ? type.From(2) : type;
}

bool IsSerialType(const Span& type) {
  const Span t = BareType(type);
  static const std::set<std::string_view> kSerials = {"serial",  "serial4",     "bigserial",
                                                      "serial8", "smallserial", "serial2"};
  return !t.empty() && t[0].kind == TokenKind::kWord && kSerials.count(t[0].text) > 0;
}

bool IsTimestampWithoutTimeZone(const Span& type) {
  const Span t = BareType(type);
  if (!t.Word(0, "timestamp")) return false;
  const size_t i = t.Punct(1, '(') ? t.SkipParens(1) : 1;
  return !t.Words(i, {"with", "time", "zone"});
}

bool IsCharType(const Span& type) {
  const Span t = BareType(type);
  const size_t i = t.Word(0, "national") ? 1 : 0;
  if (!t.Word(i, "char") && !t.Word(i, "character") && !t.Word(i, "nchar")) return false;
  return !t.Word(i + 1, "varying");  // character varying is varchar
}

bool ColumnIsNotNull(const Column& c) {
  return c.rest.Has({"not", "null"}) || c.rest.Has({"primary", "key"});
}
bool ColumnHasValue(const Column& c) {
  return c.rest.Has({"default"}) || c.rest.Has({"generated"}) || IsSerialType(c.type);
}

enum class Verb {
  kOther,
  kCreateTable,
  kCreateIndex,
  kDropIndex,
  kDropTable,
  kAlterTable,
  kTruncate,
  kLock,
  kReindex,
  kVacuum,
  kCluster,
  kAlterIndex,
  kDropTrigger,
};

enum class ActionKind {
  kOther,  // an ACCESS EXCLUSIVE action no rule looks into
  kAddColumn,
  kAddConstraint,
  kDropColumn,
  kAlterColumnType,
  kRenameColumn,
  kRenameTable,
  kLighterLock,  // an action that takes less than ACCESS EXCLUSIVE
};

// One action of ALTER TABLE.
struct Action {
  ActionKind kind = ActionKind::kOther;
  std::optional<Column> column;  // kAddColumn
  std::string name;              // the column, or the constraint's name ("" when unnamed)
  std::string new_name;          // kRenameColumn, kRenameTable
  std::string
      constraint;  // kAddConstraint: "FOREIGN KEY", "CHECK", "UNIQUE", "PRIMARY KEY", "EXCLUDE"
  bool not_valid = false;
  bool using_index = false;
};

// What a statement is, as far as the rules care.
struct Statement {
  Verb verb = Verb::kOther;
  std::vector<Name> tables;     // the tables it names
  std::vector<Name> indexes;    // the indexes it names (CREATE INDEX: 0 or 1)
  std::vector<Column> columns;  // CREATE TABLE
  std::vector<Action> actions;  // ALTER TABLE
  bool concurrently = false;
  bool unique = false;  // CREATE UNIQUE INDEX
  bool only = false;    // CREATE INDEX ... ON ONLY (a partitioned table's parent)
  bool every_table =
      false;              // VACUUM FULL, CLUSTER, REINDEX SCHEMA/DATABASE/SYSTEM, ALTER INDEX ALL
  bool exclusive = true;  // LOCK: ACCESS EXCLUSIVE and waits; VACUUM: FULL
};

// ALTER TABLE's actions. The locks are PostgreSQL's (ALTER TABLE docs): most
// actions take ACCESS EXCLUSIVE; the ones marked kLighterLock do not.
Action ParseAction(const Span& a) {
  Action action;
  if (a.Word(0, "add")) {
    size_t k = 1;
    const bool column_word = a.Word(k, "column");
    if (column_word) ++k;
    if (!column_word && (a.Word(k, "constraint") || a.Word(k, "primary") || a.Word(k, "unique") ||
                         a.Word(k, "check") || a.Word(k, "foreign") || a.Word(k, "exclude"))) {
      action.kind = ActionKind::kAddConstraint;
      if (a.Word(k, "constraint")) {
        if (a.Ident(k + 1)) action.name = DisplayIdent(a[k + 1]);
        k += 2;
      }
      if (a.Word(k, "foreign")) action.constraint = "FOREIGN KEY";
      if (a.Word(k, "primary")) action.constraint = "PRIMARY KEY";
      if (a.Word(k, "unique")) action.constraint = "UNIQUE";
      if (a.Word(k, "check")) action.constraint = "CHECK";
      if (a.Word(k, "exclude")) action.constraint = "EXCLUDE";
      action.not_valid = a.Has({"not", "valid"});
      action.using_index = a.Has({"using", "index"});
      return action;
    }
    if (a.Words(k, {"if", "not", "exists"})) k += 3;
    action.column = ReadColumn(a.From(k));
    if (action.column) {
      action.kind = ActionKind::kAddColumn;
      action.name = action.column->name;
    }
    return action;
  }
  if (a.Word(0, "drop")) {
    size_t k = 1;
    if (a.Word(k, "constraint")) return action;
    if (a.Word(k, "column")) ++k;
    if (a.Words(k, {"if", "exists"})) k += 2;
    if (a.Ident(k)) {
      action.kind = ActionKind::kDropColumn;
      action.name = DisplayIdent(a[k]);
    }
    return action;
  }
  if (a.Word(0, "alter")) {
    size_t k = 1;
    if (a.Word(k, "constraint")) return action;
    if (a.Word(k, "column")) ++k;
    if (!a.Ident(k)) return action;
    action.name = DisplayIdent(a[k]);
    ++k;
    if (a.Word(k, "type") || a.Words(k, {"set", "data", "type"})) {
      action.kind = ActionKind::kAlterColumnType;
    } else if (a.Words(k, {"set", "statistics"}) ||
               ((a.Word(k, "set") || a.Word(k, "reset")) && a.Punct(k + 1, '('))) {
      action.kind = ActionKind::kLighterLock;  // SHARE UPDATE EXCLUSIVE
    }
    return action;
  }
  if (a.Word(0, "rename")) {
    size_t k = 1;
    if (a.Word(k, "constraint")) return action;
    if (a.Word(k, "to")) {
      if (a.Ident(k + 1)) {
        action.kind = ActionKind::kRenameTable;
        action.new_name = DisplayIdent(a[k + 1]);
      }
      return action;
    }
    if (a.Word(k, "column")) ++k;
    if (a.Ident(k) && a.Word(k + 1, "to") && a.Ident(k + 2)) {
      action.kind = ActionKind::kRenameColumn;
      action.name = DisplayIdent(a[k]);
      action.new_name = DisplayIdent(a[k + 2]);
    }
    return action;
  }
  // SHARE UPDATE EXCLUSIVE: VALIDATE CONSTRAINT, CLUSTER ON, SET WITHOUT
  // CLUSTER, DETACH PARTITION CONCURRENTLY / FINALIZE; SHARE ROW EXCLUSIVE:
  // ENABLE / DISABLE [REPLICA | ALWAYS] TRIGGER.
  if (a.Words(0, {"validate", "constraint"}) || a.Words(0, {"cluster", "on"}) ||
      a.Words(0, {"set", "without", "cluster"}) ||
      (a.Words(0, {"detach", "partition"}) && (a.Has({"concurrently"}) || a.Has({"finalize"}))) ||
      ((a.Word(0, "enable") || a.Word(0, "disable")) &&
       (a.Word(1, "trigger") || a.Word(2, "trigger")))) {
    action.kind = ActionKind::kLighterLock;
  }
  return action;
}

bool TakesAccessExclusive(const Action& a) {
  if (a.kind == ActionKind::kLighterLock) return false;
  // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE, validated or not.
  return !(a.kind == ActionKind::kAddConstraint && a.constraint == "FOREIGN KEY");
}

// The names of a comma list (DROP TABLE a, b CASCADE; TRUNCATE ONLY a, b).
std::vector<Name> NameList(const Span& s) {
  std::vector<Name> out;
  for (const Span& piece : s.SplitCommas()) {
    size_t i = piece.Word(0, "only") ? 1 : 0;
    if (auto name = ReadName(piece, &i)) out.push_back(std::move(*name));
  }
  return out;
}

Statement ParseCreate(const Span& s) {
  Statement st;
  size_t i = 1;
  if (s.Word(i, "unique") && s.Word(i + 1, "index")) {
    st.unique = true;
    ++i;
  }
  if (s.Word(i, "index")) {
    ++i;
    if (s.Word(i, "concurrently")) {
      st.concurrently = true;
      ++i;
    }
    if (s.Words(i, {"if", "not", "exists"})) i += 3;
    if (!s.Word(i, "on")) {
      if (auto index = ReadName(s, &i)) st.indexes.push_back(std::move(*index));
    }
    if (!s.Word(i, "on")) return Statement{};
    ++i;
    if (s.Word(i, "only")) {
      st.only = true;
      ++i;
    }
    auto table = ReadName(s, &i);
    if (!table) return Statement{};
    st.tables.push_back(std::move(*table));
    st.verb = Verb::kCreateIndex;
    return st;
  }
  while (s.Word(i, "global") || s.Word(i, "local") || s.Word(i, "temp") || s.Word(i, "temporary") ||
         s.Word(i, "unlogged") || s.Word(i, "foreign")) {
    ++i;
  }
  if (!s.Word(i, "table")) return st;
  ++i;
  if (s.Words(i, {"if", "not", "exists"})) i += 3;
  auto table = ReadName(s, &i);
  if (!table) return st;
  st.verb = Verb::kCreateTable;
  st.tables.push_back(std::move(*table));
  // PARTITION OF and OF TYPE take their columns from elsewhere; AS has none.
  if (!s.Punct(i, '(')) return st;
  for (const Span& element : s.Slice(i + 1, s.SkipParens(i) - 1).SplitCommas()) {
    if (element.Word(0, "constraint") || element.Word(0, "primary") || element.Word(0, "unique") ||
        element.Word(0, "check") || element.Word(0, "foreign") || element.Word(0, "exclude") ||
        element.Word(0, "like")) {
      continue;
    }
    if (auto column = ReadColumn(element)) st.columns.push_back(std::move(*column));
  }
  return st;
}

Statement ParseDrop(const Span& s) {
  Statement st;
  size_t i = 2;
  if (s.Word(1, "index")) {
    st.verb = Verb::kDropIndex;
    if (s.Word(i, "concurrently")) {
      st.concurrently = true;
      ++i;
    }
    if (s.Words(i, {"if", "exists"})) i += 2;
    st.indexes = NameList(s.From(i));
  } else if (s.Word(1, "table")) {
    st.verb = Verb::kDropTable;
    if (s.Words(i, {"if", "exists"})) i += 2;
    st.tables = NameList(s.From(i));
  } else if (s.Word(1, "trigger")) {
    const size_t on = s.Find({"on"}, i);
    auto table = on == kNpos ? std::nullopt : NameAt(s, on + 1);
    if (table) {
      st.verb = Verb::kDropTrigger;
      st.tables.push_back(std::move(*table));
    }
  }
  return st;
}

Statement ParseAlter(const Span& s) {
  Statement st;
  const bool table = s.Word(1, "table");
  const bool index = s.Word(1, "index");
  if (!table && !index) return st;
  size_t i = 2;
  if (s.Words(i, {"all", "in"})) {  // ALTER ... ALL IN TABLESPACE moves every one of them
    st.verb = index ? Verb::kAlterIndex : Verb::kOther;
    st.every_table = true;
    return st;
  }
  if (s.Words(i, {"if", "exists"})) i += 2;
  if (table && s.Word(i, "only")) ++i;
  auto name = ReadName(s, &i);
  if (!name) return st;
  if (index) {
    st.verb = Verb::kAlterIndex;
    st.indexes.push_back(std::move(*name));
    return st;
  }
  if (s.Punct(i, '*')) ++i;
  st.verb = Verb::kAlterTable;
  st.tables.push_back(std::move(*name));
  for (const Span& action : s.From(i).SplitCommas()) st.actions.push_back(ParseAction(action));
  return st;
}

Statement ParseStatement(const Span& s) {
  Statement st;
  if (s.Word(0, "create")) return ParseCreate(s);
  if (s.Word(0, "drop")) return ParseDrop(s);
  if (s.Word(0, "alter")) return ParseAlter(s);
  if (s.Word(0, "truncate")) {
    st.verb = Verb::kTruncate;
    st.tables = NameList(s.From(s.Word(1, "table") ? 2 : 1));
  } else if (s.Word(0, "lock")) {
    st.verb = Verb::kLock;
    const size_t start = s.Word(1, "table") ? 2 : 1;
    const size_t in = s.Find({"in"}, start);
    st.tables = NameList(s.Slice(start, in));
    // The default mode is ACCESS EXCLUSIVE; NOWAIT fails at once instead of queueing.
    st.exclusive = (in == kNpos || s.Words(in + 1, {"access", "exclusive"})) && !s.Has({"nowait"});
  } else if (s.Word(0, "reindex")) {
    st.verb = Verb::kReindex;
    st.concurrently = s.Mentions("concurrently");  // REINDEX CONCURRENTLY or REINDEX (CONCURRENTLY)
    size_t i = s.Punct(1, '(') ? s.SkipParens(1) : 1;
    const bool is_table = s.Word(i, "table");
    const bool is_index = s.Word(i, "index");
    ++i;
    if (s.Word(i, "concurrently")) ++i;
    auto name = NameAt(s, i);
    if (is_table && name) {
      st.tables.push_back(std::move(*name));
    } else if (is_index && name) {
      st.indexes.push_back(std::move(*name));
    } else {
      st.every_table = true;
    }
  } else if (s.Word(0, "vacuum")) {
    st.verb = Verb::kVacuum;
    size_t i = 1;
    st.exclusive = false;
    if (s.Punct(i, '(')) {
      const size_t close = s.SkipParens(i);
      for (const Span& option : s.Slice(i + 1, close - 1).SplitCommas()) {
        if (option.Word(0, "full") && !option.Word(1, "false") && !option.Word(1, "off") &&
            !(option.size() > 1 && option[1].text == "0")) {
          st.exclusive = true;
        }
      }
      i = close;
    } else {
      while (s.Word(i, "full") || s.Word(i, "freeze") || s.Word(i, "verbose") ||
             s.Word(i, "analyze") || s.Word(i, "analyse")) {
        st.exclusive = st.exclusive || s.Word(i, "full");
        ++i;
      }
    }
    st.tables = NameList(s.From(i));
    st.every_table = st.tables.empty();
  } else if (s.Word(0, "cluster")) {
    st.verb = Verb::kCluster;
    size_t i = 1;
    if (s.Word(i, "verbose")) ++i;
    if (s.Punct(i, '(')) i = s.SkipParens(i);
    if (auto table = NameAt(s, i)) {
      st.tables.push_back(std::move(*table));
    } else {
      st.every_table = true;
    }
  }
  return st;
}

// ------------------------------------------------------------ lock_timeout

// One change to lock_timeout made by a statement.
struct TimeoutChange {
  bool local = false;       // SET LOCAL / set_config(..., true): until the transaction ends
  bool is_default = false;  // RESET, DEFAULT: back to the configured value
  bool on = false;          // a non-zero timeout
};

// 0, '0', '0s', '0ms' turn lock_timeout off.
bool IsNonZero(const std::string& value) {
  size_t i = 0;
  while (i < value.size() && IsSpace(value[i])) ++i;
  bool digits = false;
  bool non_zero = false;
  for (; i < value.size() && (IsDigit(value[i]) || value[i] == '.'); ++i) {
    digits = digits || IsDigit(value[i]);
    non_zero = non_zero || (IsDigit(value[i]) && value[i] != '0');
  }
  return !digits || non_zero;  // not a number: the server would refuse it anyway
}

std::vector<TimeoutChange> LockTimeoutChanges(const Span& s) {
  std::vector<TimeoutChange> out;
  if (s.Word(0, "set")) {
    size_t i = 1;
    TimeoutChange change;
    if (s.Word(i, "session")) {
      ++i;
    } else if (s.Word(i, "local")) {
      change.local = true;
      ++i;
    }
    if (s.Word(i, "lock_timeout")) {
      ++i;
      if (s.Word(i, "to") || s.Punct(i, '=')) ++i;
      if (s.Word(i, "default")) {
        change.is_default = true;
      } else if (i < s.size()) {
        change.on = IsNonZero(s[i].text);
      }
      out.push_back(change);
    }
    return out;
  }
  if (s.Words(0, {"reset", "lock_timeout"}) || s.Words(0, {"reset", "all"})) {
    TimeoutChange change;
    change.is_default = true;
    out.push_back(change);
    return out;
  }
  // set_config('lock_timeout', value, is_local) anywhere in the statement.
  for (size_t i = 0; i + 6 < s.size(); ++i) {
    if (s.Word(i, "set_config") && s.Punct(i + 1, '(') && s[i + 2].kind == TokenKind::kString &&
        Lower(s[i + 2].text) == "lock_timeout" && s.Punct(i + 3, ',') && s.Punct(i + 5, ',')) {
      TimeoutChange change;
      change.on = IsNonZero(s[i + 4].text);
      const std::string is_local = Lower(s[i + 6].text);
      change.local = is_local == "true" || is_local == "t" || is_local == "on";
      out.push_back(change);
    }
  }
  return out;
}

// ---------------------------------------------------------- migration state

// What the migration has done so far, statement by statement.
class MigrationState {
 public:
  explicit MigrationState(bool lock_timeout_configured)
      : configured_(lock_timeout_configured), session_timeout_(lock_timeout_configured) {}

  bool IsNew(const Name& table) const { return new_tables_.count(table.key) > 0; }
  bool AnyExisting(const std::vector<Name>& tables) const {
    return std::any_of(tables.begin(), tables.end(), [&](const Name& t) { return !IsNew(t); });
  }
  // True when `index` was created earlier in this migration on a new table.
  bool OnNewTable(const Name& index) const {
    auto it = index_table_.find(index.key);
    return it != index_table_.end() && new_tables_.count(it->second) > 0;
  }
  bool AnyIndexOnExisting(const std::vector<Name>& indexes) const {
    return std::any_of(indexes.begin(), indexes.end(),
                       [&](const Name& i) { return !OnNewTable(i); });
  }
  bool LockTimeoutSet() const { return local_timeout_ ? *local_timeout_ : session_timeout_; }

  void Apply(const Statement& st, const Span& tokens, bool in_transaction) {
    switch (st.verb) {
      case Verb::kCreateTable:
        new_tables_.insert(st.tables[0].key);
        break;
      case Verb::kDropTable:
        for (const Name& t : st.tables) new_tables_.erase(t.key);
        break;
      case Verb::kCreateIndex:
        if (!st.indexes.empty()) {
          index_table_[IndexKey(st.indexes[0], st.tables[0])] = st.tables[0].key;
        }
        break;
      case Verb::kDropIndex:
        for (const Name& i : st.indexes) index_table_.erase(i.key);
        break;
      case Verb::kAlterTable:
        for (const Action& a : st.actions) {
          if (a.kind == ActionKind::kRenameTable && IsNew(st.tables[0])) {
            new_tables_.erase(st.tables[0].key);
            new_tables_.insert(SchemaOf(st.tables[0].key) + Unquote(a.new_name));
          }
        }
        break;
      default:
        break;
    }
    for (const TimeoutChange& c : LockTimeoutChanges(tokens)) {
      const bool on = c.is_default ? configured_ : c.on;
      if (c.local) {
        if (in_transaction) local_timeout_ = on;  // outside a transaction SET LOCAL does nothing
      } else {
        session_timeout_ = on;
        local_timeout_.reset();
      }
    }
  }

  void EndTransaction() { local_timeout_.reset(); }

 private:
  static std::string SchemaOf(const std::string& key) {
    const size_t dot = key.rfind('.');
    return dot == std::string::npos ? "" : key.substr(0, dot + 1);
  }
  static std::string Unquote(const std::string& display) {
    if (display.size() < 2 || display.front() != '"') return display;
    std::string out;
    for (size_t i = 1; i + 1 < display.size(); ++i) {
      out += display[i];
      if (display[i] == '"') ++i;
    }
    return out;
  }
  // An unqualified index lives in its table's schema.
  static std::string IndexKey(const Name& index, const Name& table) {
    return index.key.find('.') == std::string::npos ? SchemaOf(table.key) + index.key : index.key;
  }

  bool configured_;
  bool session_timeout_;
  std::optional<bool> local_timeout_;
  std::set<std::string> new_tables_;
  std::map<std::string, std::string> index_table_;  // index key -> table key, created here
};

// ------------------------------------------------------------ rule checks

struct Hit {
  const char* rule;
  std::string message;
};
using Hits = std::vector<Hit>;

// The existing table an ALTER TABLE works on, or nullptr when it is new.
const Name* ExistingAlteredTable(const Statement& st, const MigrationState& state) {
  if (st.verb != Verb::kAlterTable || state.IsNew(st.tables[0])) return nullptr;
  return &st.tables[0];
}

void CheckIndexNotConcurrent(const Statement& st, const MigrationState& state, Hits* hits) {
  // ON ONLY builds nothing: it is the first step of indexing a partitioned table.
  if (st.verb == Verb::kCreateIndex && !st.concurrently && !st.only && !state.IsNew(st.tables[0])) {
    std::string what = st.unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX";
    if (!st.indexes.empty()) what += " " + st.indexes[0].display;
    hits->push_back({kIndexNotConcurrent, what + " on existing table " + st.tables[0].display +
                                              " without CONCURRENTLY"});
  }
  if (st.verb == Verb::kDropIndex && !st.concurrently && state.AnyIndexOnExisting(st.indexes)) {
    hits->push_back(
        {kIndexNotConcurrent, "DROP INDEX " + Displays(st.indexes) + " without CONCURRENTLY"});
  }
}

void CheckNotNullWithoutDefault(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kAddColumn && ColumnIsNotNull(*a.column) &&
        !ColumnHasValue(*a.column)) {
      hits->push_back({kNotNullWithoutDefault,
                       "ADD COLUMN " + a.name + " NOT NULL without a DEFAULT on existing table " +
                           table->display});
    }
  }
}

void CheckColumnTypeChange(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kAlterColumnType) {
      hits->push_back({kColumnTypeChange,
                       "ALTER COLUMN " + a.name + " TYPE on existing table " + table->display});
    }
  }
}

void CheckDropTable(const Statement& st, const MigrationState& state, Hits* hits) {
  if (st.verb != Verb::kDropTable) return;
  for (const Name& t : st.tables) {
    if (!state.IsNew(t)) hits->push_back({kDropTable, "DROP TABLE " + t.display});
  }
}

void CheckDropColumn(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kDropColumn) {
      hits->push_back(
          {kDropColumn, "DROP COLUMN " + a.name + " of existing table " + table->display});
    }
  }
}

void CheckRenameTable(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kRenameTable) {
      hits->push_back(
          {kRenameTable, "RENAME existing table " + table->display + " TO " + a.new_name});
    }
  }
}

void CheckRenameColumn(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kRenameColumn) {
      hits->push_back({kRenameColumn, "RENAME COLUMN " + a.name + " TO " + a.new_name +
                                          " on existing table " + table->display});
    }
  }
}

void CheckConstraintWithoutNotValid(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kAddConstraint &&
        (a.constraint == "FOREIGN KEY" || a.constraint == "CHECK") && !a.not_valid) {
      hits->push_back({kConstraintWithoutNotValid,
                       "ADD CONSTRAINT " + (a.name.empty() ? "" : a.name + " ") + a.constraint +
                           " on existing table " + table->display + " without NOT VALID"});
    }
    // A column constraint cannot be NOT VALID: the column comes first, the constraint after.
    if (a.kind == ActionKind::kAddColumn) {
      for (const char* word : {"references", "check"}) {
        if (a.column->rest.Has({word})) {
          hits->push_back({kConstraintWithoutNotValid,
                           "ADD COLUMN " + a.name + " with " +
                               (word[0] == 'r' ? "REFERENCES" : "CHECK") + " on existing table " +
                               table->display + " validates every row"});
        }
      }
    }
  }
}

void CheckUniqueWithoutUsingIndex(const Statement& st, const MigrationState& state, Hits* hits) {
  const Name* table = ExistingAlteredTable(st, state);
  if (table == nullptr) return;
  for (const Action& a : st.actions) {
    if (a.kind == ActionKind::kAddConstraint &&
        (a.constraint == "UNIQUE" || a.constraint == "PRIMARY KEY") && !a.using_index) {
      hits->push_back({kUniqueWithoutUsingIndex,
                       "ADD CONSTRAINT " + (a.name.empty() ? "" : a.name + " ") + a.constraint +
                           " on existing table " + table->display + " without USING INDEX"});
    }
    if (a.kind == ActionKind::kAddColumn &&
        (a.column->rest.Has({"unique"}) || a.column->rest.Has({"primary", "key"}))) {
      hits->push_back({kUniqueWithoutUsingIndex,
                       "ADD COLUMN " + a.name + " " +
                           (a.column->rest.Has({"unique"}) ? "UNIQUE" : "PRIMARY KEY") +
                           " on existing table " + table->display +
                           " builds its index under the table lock"});
    }
  }
}

// The columns a statement adds: CREATE TABLE's columns and ALTER TABLE's
// ADD COLUMNs, on new and existing tables alike.
std::vector<const Column*> NewColumns(const Statement& st) {
  std::vector<const Column*> out;
  if (st.verb == Verb::kCreateTable) {
    for (const Column& c : st.columns) out.push_back(&c);
  }
  if (st.verb == Verb::kAlterTable) {
    for (const Action& a : st.actions) {
      if (a.kind == ActionKind::kAddColumn) out.push_back(&*a.column);
    }
  }
  return out;
}

void CheckColumnTypes(const Statement& st, const char* rule, bool (*matches)(const Span&),
                      Hits* hits) {
  for (const Column* c : NewColumns(st)) {
    if (matches(c->type)) {
      hits->push_back({rule, "column " + c->name + " of table " + st.tables[0].display + " is " +
                                 Render(c->type)});
    }
  }
}

void CheckTimestampWithoutTimeZone(const Statement& st, const MigrationState&, Hits* hits) {
  CheckColumnTypes(st, kTimestampWithoutTimeZone, IsTimestampWithoutTimeZone, hits);
}

void CheckCharType(const Statement& st, const MigrationState&, Hits* hits) {
  CheckColumnTypes(st, kCharType, IsCharType, hits);
}

void CheckSerialType(const Statement& st, const MigrationState&, Hits* hits) {
  CheckColumnTypes(st, kSerialType, IsSerialType, hits);
}

// What the statement takes an ACCESS EXCLUSIVE lock on among existing
// relations ("ALTER TABLE users"), or "" when nothing.
std::string AccessExclusiveOnExisting(const Statement& st, const MigrationState& state) {
  switch (st.verb) {
    case Verb::kAlterTable:
      if (ExistingAlteredTable(st, state) != nullptr &&
          std::any_of(st.actions.begin(), st.actions.end(), TakesAccessExclusive)) {
        return "ALTER TABLE " + st.tables[0].display;
      }
      return "";
    case Verb::kDropTable:
      return state.AnyExisting(st.tables) ? "DROP TABLE " + Displays(st.tables) : "";
    case Verb::kTruncate:
      return state.AnyExisting(st.tables) ? "TRUNCATE " + Displays(st.tables) : "";
    case Verb::kLock:
      return st.exclusive && state.AnyExisting(st.tables) ? "LOCK TABLE " + Displays(st.tables)
                                                          : "";
    case Verb::kDropIndex:
      return !st.concurrently && state.AnyIndexOnExisting(st.indexes)
                 ? "DROP INDEX " + Displays(st.indexes)
                 : "";
    case Verb::kReindex:
      if (st.concurrently) return "";
      if (st.every_table) return "REINDEX";
      if (!st.tables.empty()) {
        return state.AnyExisting(st.tables) ? "REINDEX TABLE " + Displays(st.tables) : "";
      }
      return state.AnyIndexOnExisting(st.indexes) ? "REINDEX INDEX " + Displays(st.indexes) : "";
    case Verb::kVacuum:
      if (!st.exclusive) return "";
      return st.every_table || state.AnyExisting(st.tables)
                 ? "VACUUM FULL" + (st.tables.empty() ? "" : " " + Displays(st.tables))
                 : "";
    case Verb::kCluster:
      return st.every_table || state.AnyExisting(st.tables)
                 ? "CLUSTER" + (st.tables.empty() ? "" : " " + Displays(st.tables))
                 : "";
    case Verb::kAlterIndex:
      if (st.every_table) return "ALTER INDEX ALL IN TABLESPACE";
      return state.AnyIndexOnExisting(st.indexes) ? "ALTER INDEX " + Displays(st.indexes) : "";
    case Verb::kDropTrigger:
      return state.AnyExisting(st.tables) ? "DROP TRIGGER ON " + Displays(st.tables) : "";
    default:
      return "";
  }
}

void CheckMissingLockTimeout(const Statement& st, const MigrationState& state, Hits* hits) {
  if (state.LockTimeoutSet()) return;
  const std::string what = AccessExclusiveOnExisting(st, state);
  if (!what.empty()) {
    hits->push_back(
        {kMissingLockTimeout, what + " takes an ACCESS EXCLUSIVE lock and no lock_timeout is set"});
  }
}

using Check = void (*)(const Statement&, const MigrationState&, Hits*);
constexpr Check kChecks[] = {
    CheckIndexNotConcurrent,
    CheckNotNullWithoutDefault,
    CheckColumnTypeChange,
    CheckDropTable,
    CheckDropColumn,
    CheckRenameTable,
    CheckRenameColumn,
    CheckConstraintWithoutNotValid,
    CheckUniqueWithoutUsingIndex,
    CheckTimestampWithoutTimeZone,
    CheckCharType,
    CheckSerialType,
    CheckMissingLockTimeout,
};

// ------------------------------------------------------ lint-ignore comments

// The file's lines, split as the statement splitter counts them (LF, CRLF
// or a lone CR); lines[0] is line 1.
std::vector<std::string_view> SplitLines(std::string_view content) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n' || content[i] == '\r') {
      lines.push_back(content.substr(start, i - start));
      if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  lines.push_back(content.substr(start));
  return lines;
}

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

bool IsCommentLine(std::string_view line) { return TrimLeft(line).substr(0, 2) == "--"; }

struct Directive {
  int line = 0;
  bool own_line = false;  // nothing but the comment on its line
  bool malformed = false;
  std::vector<std::string> ids;
  bool attached = false;  // directly above a statement
};

// `-- schemagate:lint-ignore id, id -- reason` anywhere in a line.
std::optional<Directive> ParseDirective(std::string_view line, int number) {
  const size_t at = line.find(kIgnoreMarker);
  if (at == std::string_view::npos) return std::nullopt;
  size_t dash = at;
  while (dash > 0 && (line[dash - 1] == ' ' || line[dash - 1] == '\t')) --dash;
  if (dash < 2 || line.substr(dash - 2, 2) != "--") return std::nullopt;  // not in a -- comment
  Directive d;
  d.line = number;
  d.own_line = TrimLeft(line.substr(0, dash - 2)).empty();
  std::string_view rest = line.substr(at + kIgnoreMarker.size());
  if (!rest.empty() && !IsSpace(rest[0]) && rest[0] != ',') {
    d.malformed = true;
    return d;
  }
  rest = rest.substr(0, rest.find("--"));  // a reason may follow
  std::string id;
  for (char c : std::string(rest) + " ") {
    if (IsSpace(c) || c == ',') {
      if (!id.empty()) d.ids.push_back(std::move(id));
      id.clear();
    } else {
      id += c;
    }
  }
  return d;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string UnknownRuleMessage(const std::string& id) {
  std::string best;
  size_t best_distance = 4;  // farther than this is not a typo
  for (const LintRule& r : LintRules()) {
    const size_t d = EditDistance(id, r.id);
    if (d < best_distance) {
      best_distance = d;
      best = r.id;
    }
  }
  std::string message = "lint-ignore names unknown rule '" + id + "'";
  if (!best.empty()) return message + "; did you mean '" + best + "'?";
  return message + " (see 'schemagate lint --list-rules')";
}

// The first and last line of a section's body: after its marker, up to the
// next marker of any direction or the end of the file.
std::pair<int, int> SectionLines(const MigrationFile& file, const Section& section,
                                 int line_count) {
  int last = line_count;
  for (const Section& other : file.sections) {
    if (other.line > section.line) last = std::min(last, other.line - 1);
  }
  return {section.line + 1, last};
}

}  // namespace

const char* LintSeverityName(LintSeverity severity) {
  return severity == LintSeverity::kError ? "error" : "warning";
}

const std::vector<LintRule>& LintRules() {
  static const std::vector<LintRule> rules = {
      {kIndexNotConcurrent, LintSeverity::kError,
       "CREATE INDEX or DROP INDEX without CONCURRENTLY on an existing table",
       "a plain CREATE INDEX blocks every write to the table for the whole build; a "
       "plain DROP INDEX takes an ACCESS EXCLUSIVE lock that blocks reads too",
       "CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF "
       "EXISTS in a '-- migrate:upgrade transaction:false env:production' "
       "section, the plain form in an 'env:!production' section"},
      {kNotNullWithoutDefault, LintSeverity::kError,
       "ADD COLUMN ... NOT NULL without a DEFAULT on an existing table",
       "it fails on a table that has rows, and the running "
       "app's INSERTs do not fill the new column",
       "add the column with a constant DEFAULT (no rewrite since PostgreSQL "
       "11), or add it nullable, backfill, then ADD CONSTRAINT ... CHECK (col "
       "IS NOT NULL) NOT VALID, VALIDATE it and SET NOT NULL"},
      {kColumnTypeChange, LintSeverity::kError,
       "ALTER COLUMN ... TYPE / SET DATA TYPE on an existing table",
       "it rewrites the table and its indexes under an ACCESS EXCLUSIVE "
       "lock (unless the types are binary compatible, e.g. varchar(n) to "
       "text), and the running app may not handle the new type",
       "add a column of the new type, backfill it in batches, move the app to it, drop the old "
       "column in a later release; for a known binary-compatible change, lint-ignore it"},
      {kDropTable, LintSeverity::kError, "DROP TABLE of an existing table",
       "the app version that is still running uses the table and fails once it is gone",
       "release app code that no longer uses the table first, then drop it in a "
       "later migration marked '-- schemagate:lint-ignore drop-table'"},
      {kDropColumn, LintSeverity::kError, "ALTER TABLE ... DROP COLUMN on an existing table",
       "the app version that is still running reads or "
       "writes the column and fails once it is gone",
       "release app code that no longer uses the column first, then drop it in a "
       "later migration marked '-- schemagate:lint-ignore drop-column'"},
      {kRenameTable, LintSeverity::kError, "ALTER TABLE ... RENAME TO on an existing table",
       "the app version that is still running uses the old name and fails at once",
       "keep the name, or expand and contract: create the new table, write to "
       "both, move reads, then drop the old one in a later release"},
      {kRenameColumn, LintSeverity::kError, "ALTER TABLE ... RENAME COLUMN on an existing table",
       "the app version that is still running uses the old column name and fails at once",
       "add the new column, write both and backfill, move "
       "reads, then drop the old column in a later release"},
      {kConstraintWithoutNotValid, LintSeverity::kError,
       "a FOREIGN KEY or CHECK constraint added to an existing table without NOT VALID",
       "validating scans the whole table while holding a lock that blocks "
       "writes (for a foreign key, on the referenced table too)",
       "ADD CONSTRAINT ... NOT VALID (instant), then ALTER TABLE ... VALIDATE CONSTRAINT "
       "in a later statement, which takes only a SHARE UPDATE EXCLUSIVE lock"},
      {kUniqueWithoutUsingIndex, LintSeverity::kError,
       "a UNIQUE or PRIMARY KEY constraint added to an existing table without USING INDEX",
       "building the constraint's index holds an ACCESS EXCLUSIVE "
       "lock, blocking reads and writes for the whole build",
       "CREATE UNIQUE INDEX CONCURRENTLY first (in a transaction:false section), "
       "then ADD CONSTRAINT ... UNIQUE USING INDEX / PRIMARY KEY USING INDEX"},
      {kTimestampWithoutTimeZone, LintSeverity::kWarning,
       "a new column of type timestamp without time zone",
       "it stores wall-clock time with no zone, so values depend on the "
       "writer's TimeZone and compare wrongly across zones and DST changes",
       "use timestamptz (timestamp with time zone)"},
      {kCharType, LintSeverity::kWarning, "a new column of type char(n) / character(n)",
       "char(n) pads values with spaces that leak into "
       "comparisons and clients, and is no faster than text",
       "use text or varchar(n), with a CHECK constraint if the length must be exact"},
      {kSerialType, LintSeverity::kWarning, "a new column of type serial, bigserial or smallserial",
       "a serial column's sequence is a separate object with its own owner and "
       "grants, which dumps, copies and permission changes handle poorly",
       "use an identity column: bigint GENERATED BY DEFAULT AS IDENTITY (or ALWAYS)"},
      {kMissingLockTimeout, LintSeverity::kError,
       "a statement that takes an ACCESS EXCLUSIVE lock on "
       "an existing table with no lock_timeout set",
       "while it waits for its lock behind a long query, every other "
       "query on the table queues behind it: the app stalls",
       "SET LOCAL lock_timeout = '5s'; at the start of the transactional section (or "
       "lock_timeout in schemagate.yaml / --db-lock-timeout), and rerun when it times out"},
      {kInvalidLintIgnore, LintSeverity::kError,
       "a lint-ignore comment that names an unknown rule or no "
       "rule, or is not directly above a statement",
       "a misspelt or misplaced lint-ignore suppresses nothing, silently",
       "name rule ids from 'schemagate lint --list-rules', on a "
       "'--' comment line directly above the statement"},
  };
  return rules;
}

const LintRule* FindLintRule(std::string_view id) {
  for (const LintRule& r : LintRules()) {
    if (id == r.id) return &r;
  }
  return nullptr;
}

std::vector<LintFinding> LintMigration(const MigrationFile& file, std::string_view content,
                                       const LintOptions& options) {
  const std::vector<std::string_view> lines = SplitLines(content);
  const int line_count = static_cast<int>(lines.size());
  const std::vector<const Section*> sections =
      file.SectionsFor(Direction::kUpgrade, options.environment);
  // All transactional: one transaction for the whole migration (as the runner does).
  const bool one_transaction = std::all_of(sections.begin(), sections.end(),
                                           [](const Section* s) { return s->transactional; });

  std::vector<LintFinding> out;
  auto report = [&](int line, const char* rule_id, std::string message) {
    const LintRule& rule = *FindLintRule(rule_id);
    out.push_back({file.revision.path, file.revision.id, line, rule.id, rule.severity,
                   std::move(message), rule.why, rule.fix});
  };

  // The lint-ignore comments of the linted sections, by line.
  std::map<int, Directive> directives;
  for (const Section* section : sections) {
    const auto [first, last] = SectionLines(file, *section, line_count);
    for (int n = first; n <= last && n <= line_count; ++n) {
      if (auto d = ParseDirective(lines[n - 1], n)) directives.emplace(n, std::move(*d));
    }
  }

  MigrationState state(options.lock_timeout_configured);
  for (const Section* section : sections) {
    const int first = SectionLines(file, *section, line_count).first;
    for (const SqlStatement& statement : section->statements) {
      // The block of comment lines directly above the statement.
      std::set<std::string> ignored;
      for (int n = statement.line - 1; n >= first && n <= line_count && IsCommentLine(lines[n - 1]);
           --n) {
        auto it = directives.find(n);
        if (it == directives.end() || !it->second.own_line) continue;
        it->second.attached = true;
        ignored.insert(it->second.ids.begin(), it->second.ids.end());
      }
      const std::vector<Token> tokens = Tokenize(statement.text);
      const Span span(tokens);
      const Statement parsed = ParseStatement(span);
      Hits hits;
      for (Check check : kChecks) check(parsed, state, &hits);
      for (Hit& hit : hits) {
        if (ignored.count(hit.rule) == 0) report(statement.line, hit.rule, std::move(hit.message));
      }
      state.Apply(parsed, span, section->transactional);
      if (!section->transactional) state.EndTransaction();
    }
    if (!one_transaction) state.EndTransaction();
  }

  for (const auto& [line, d] : directives) {
    if (d.malformed) {
      report(line, kInvalidLintIgnore,
             "malformed lint-ignore: write '-- schemagate:lint-ignore RULE[, RULE...]'");
      continue;
    }
    if (d.ids.empty()) report(line, kInvalidLintIgnore, "lint-ignore names no rule");
    for (const std::string& id : d.ids) {
      if (FindLintRule(id) == nullptr) report(line, kInvalidLintIgnore, UnknownRuleMessage(id));
    }
    if (!d.own_line) {
      report(line, kInvalidLintIgnore,
             "lint-ignore after SQL on the same line applies to nothing; put it on its own line "
             "directly above the statement");
    } else if (!d.attached) {
      report(line, kInvalidLintIgnore,
             "lint-ignore is not directly above a statement (no blank line or SQL in between), so "
             "it applies to nothing");
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const LintFinding& a, const LintFinding& b) { return a.line < b.line; });
  return out;
}

Result<std::vector<LintFinding>> LintMigrationText(const std::string& path,
                                                   std::string_view content,
                                                   const LintOptions& options) {
  auto file = ParseMigrationFile(path, content, /*split=*/true);
  if (!file.ok()) return file.status();
  return LintMigration(*file, content, options);
}

int LintReport::errors() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const LintFinding& f) {
    return f.severity == LintSeverity::kError;
  }));
}

int LintReport::warnings() const { return static_cast<int>(findings.size()) - errors(); }

std::string RenderLintText(const LintReport& report) {
  std::string out;
  for (const LintFinding& f : report.findings) {
    out += f.file + ":" + std::to_string(f.line) + ": " + LintSeverityName(f.severity) + ": [" +
           f.rule + "] " + f.message + "\n    why: " + f.why + "\n    safe alternative: " + f.fix +
           "\n";
  }
  return out;
}

std::string RenderLintJson(const LintReport& report) {
  JsonWriter w;
  w.BeginObject()
      .Field("environment", report.environment)
      .Field("revisions", report.revisions)
      .Field("errors", report.errors())
      .Field("warnings", report.warnings())
      .Key("findings")
      .BeginArray();
  for (const LintFinding& f : report.findings) {
    w.BeginObject()
        .Field("file", f.file)
        .Field("line", f.line)
        .Field("revision", f.revision)
        .Field("rule", f.rule)
        .Field("severity", LintSeverityName(f.severity))
        .Field("message", f.message)
        .Field("why", f.why)
        .Field("fix", f.fix)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string GithubEscapeData(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string GithubEscapeProperty(std::string_view text) {
  std::string out;
  for (char c : GithubEscapeData(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLintGithub(const LintReport& report) {
  std::string out;
  for (const LintFinding& f : report.findings) {
    out += std::string("::") + LintSeverityName(f.severity) +
           " file=" + GithubEscapeProperty(f.file) + ",line=" + std::to_string(f.line) +
           ",title=" + GithubEscapeProperty(f.rule) +
           "::" + GithubEscapeData(f.message + "\nwhy: " + f.why + "\nsafe alternative: " + f.fix) +
           "\n";
  }
  return out;
}

}  // namespace schemagate
