#include "core/sql_lexer.h"

#include <algorithm>
#include <cctype>

namespace schemagate {
namespace {

bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }
bool IsTagChar(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

class Splitter {
 public:
  Splitter(std::string_view sql, int first_line) : s_(sql), line_(first_line) {}

  // After Run(): what the text ended inside of ("" when nothing was open).
  const std::string& open() const { return open_; }

  Result<std::vector<SqlStatement>> Run() {
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '\n') {
        ++line_;
        ++i_;
        line_begin_ = i_;
        at_line_start_ = true;
        continue;
      }
      if (c == '\r') {
        if (i_ + 1 >= s_.size() || s_[i_ + 1] != '\n') ++line_;
        ++i_;
        line_begin_ = i_;
        continue;
      }
      if (std::isspace(c)) {
        ++i_;
        continue;
      }
      const bool line_start = at_line_start_;
      at_line_start_ = false;
      if (c == '-' && Peek(1) == '-') {
        SkipLineComment();
        continue;
      }
      if (c == '/' && Peek(1) == '*') {
        SG_RETURN_IF_ERROR(SkipBlockComment());
        continue;
      }
      if (c == '\\' && !has_token_ && line_start) {
        MetaCommand();
        continue;
      }
      if (c == ';') {
        if (atomic_depth_ == 0) {
          Flush(i_);
          ++i_;
          continue;
        }
        ++i_;
        continue;
      }
      MarkToken();
      if (c == '\'') {
        SG_RETURN_IF_ERROR(SkipQuoted('\'', false, "string literal"));
        prev_word_ = {};
      } else if (c == '"') {
        SG_RETURN_IF_ERROR(SkipQuoted('"', false, "quoted identifier"));
        prev_word_ = {};
      } else if (c == '$') {
        SG_RETURN_IF_ERROR(DollarOrParam());
      } else if (IsIdentStart(c)) {
        SG_RETURN_IF_ERROR(Word());
      } else {
        ++i_;
        if (c != '(' && c != ')' && c != ',') prev_word_ = {};
      }
    }
    if (atomic_depth_ > 0) {
      return Status::Validation("line " + std::to_string(atomic_line_) +
                                ": BEGIN ATOMIC body is not closed by END");
    }
    Flush(s_.size());
    return std::move(out_);
  }

 private:
  char Peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  void MarkToken() {
    if (!has_token_) {
      has_token_ = true;
      start_ = i_;
      start_line_ = line_;
      start_column_ = CharactersBetween(line_begin_, i_) + 1;
    }
  }

  void Flush(size_t end) {
    if (has_token_) {
      std::string_view text = TrimRight(s_.substr(start_, end - start_));
      out_.push_back({std::string(text), start_line_, start_column_});
    }
    has_token_ = false;
    prev_word_ = {};
  }

  // Advances over [i_, i_ + n), counting lines.
  void Advance(size_t n) {
    for (size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
      if (s_[i_] == '\n' || s_[i_] == '\r') line_begin_ = i_ + 1;
      if (s_[i_] == '\n') ++line_;
      else if (s_[i_] == '\r' && (i_ + 1 >= s_.size() || s_[i_ + 1] != '\n')) ++line_;
    }
  }

  // UTF-8 characters in [from, to): a column counts characters, not bytes.
  int CharactersBetween(size_t from, size_t to) const {
    int n = 0;
    for (size_t k = from; k < to && k < s_.size(); ++k) {
      if ((static_cast<unsigned char>(s_[k]) & 0xC0) != 0x80) ++n;
    }
    return n;
  }

  void SkipLineComment() {
    size_t eol = s_.find('\n', i_);
    i_ = eol == std::string_view::npos ? s_.size() : eol;
  }

  Status SkipBlockComment() {
    const int start_line = line_;
    int depth = 0;
    while (i_ < s_.size()) {
      if (s_[i_] == '/' && Peek(1) == '*') {
        ++depth;
        Advance(2);
      } else if (s_[i_] == '*' && Peek(1) == '/') {
        --depth;
        Advance(2);
        if (depth == 0) return Status::Ok();
      } else {
        Advance(1);
      }
    }
    open_ = "a /* comment";
    return Status::Validation("line " + std::to_string(start_line) + ": unterminated /* comment (started here)");
  }

  // A psql meta-command runs to the end of its line; kept as its own
  // statement so the parser can reject it with its line.
  void MetaCommand() {
    has_token_ = true;
    start_ = i_;
    start_line_ = line_;
    size_t eol = s_.find('\n', i_);
    i_ = eol == std::string_view::npos ? s_.size() : eol;
    Flush(i_);
  }

  Status SkipQuoted(char quote, bool backslash_escapes, const char* what) {
    const int start_line = line_;
    Advance(1);
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (backslash_escapes && c == '\\') {
        Advance(2);
        continue;
      }
      if (c == quote) {
        if (Peek(1) == quote) {
          Advance(2);
          continue;
        }
        Advance(1);
        return Status::Ok();
      }
      Advance(1);
    }
    open_ = std::string("a ") + what;
    return Status::Validation("line " + std::to_string(start_line) + ": unterminated " + what +
                              " (started here)");
  }

  Status DollarOrParam() {
    // $tag$ or $$; a `$` followed by a digit is a positional parameter.
    size_t k = i_ + 1;
    if (k < s_.size() && IsTagChar(static_cast<unsigned char>(s_[k])) &&
        !std::isdigit(static_cast<unsigned char>(s_[k]))) {
      while (k < s_.size() && IsTagChar(static_cast<unsigned char>(s_[k]))) ++k;
    }
    if (k >= s_.size() || s_[k] != '$') {
      ++i_;  // `$1` or a stray `$`
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      prev_word_ = {};
      return Status::Ok();
    }
    const std::string_view tag = s_.substr(i_, k - i_ + 1);
    const int start_line = line_;
    Advance(tag.size());
    size_t close = s_.find(tag, i_);
    if (close == std::string_view::npos) {
      open_ = "a dollar-quoted string " + std::string(tag);
      return Status::Validation("line " + std::to_string(start_line) + ": unterminated dollar-quoted string " +
                                std::string(tag) + " (started here)");
    }
    Advance(close + tag.size() - i_);
    prev_word_ = {};
    return Status::Ok();
  }

  Status Word() {
    const size_t begin = i_;
    while (i_ < s_.size() && IsIdentChar(static_cast<unsigned char>(s_[i_]))) ++i_;
    std::string_view word = s_.substr(begin, i_ - begin);
    // E'...' takes backslash escapes; U&'...', B'...', X'...', N'...' do not.
    if (i_ < s_.size() && s_[i_] == '\'' && word.size() == 1) {
      const char p = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
      if (p == 'E') return SkipQuoted('\'', true, "string literal");
    }
    if (atomic_depth_ > 0) {
      if (EqualsIgnoreCase(word, "CASE")) {
        ++atomic_depth_;
      } else if (EqualsIgnoreCase(word, "END")) {
        --atomic_depth_;
      }
    } else if (EqualsIgnoreCase(word, "ATOMIC") && EqualsIgnoreCase(prev_word_, "BEGIN")) {
      atomic_depth_ = 1;
      atomic_line_ = line_;
    }
    prev_word_ = word;
    return Status::Ok();
  }

  std::string_view s_;
  std::string open_;  // what the text ended inside of, once Run() said so
  size_t i_ = 0;
  int line_;
  bool at_line_start_ = true;
  bool has_token_ = false;
  size_t start_ = 0;
  int start_line_ = 0;
  int start_column_ = 1;
  size_t line_begin_ = 0;  // offset of the current line's first character
  int atomic_depth_ = 0;
  int atomic_line_ = 0;
  std::string_view prev_word_;
  std::vector<SqlStatement> out_;
};

// The statement's words outside strings, comments and quoted identifiers,
// upper-cased, at most `limit`.
std::vector<std::string> Words(std::string_view s, size_t limit) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size() && words.size() < limit) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t eol = s.find('\n', i);
      i = eol == std::string_view::npos ? s.size() : eol;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;
      while (i < s.size()) {
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') { ++depth; i += 2; }
        else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') { i += 2; if (--depth == 0) break; }
        else ++i;
      }
    } else if (c == '\'' || c == '"') {
      ++i;
      while (i < s.size()) {
        if (s[i] == static_cast<char>(c)) {
          if (i + 1 < s.size() && s[i + 1] == static_cast<char>(c)) { i += 2; continue; }
          ++i;
          break;
        }
        ++i;
      }
    } else if (c == '$') {
      size_t k = i + 1;
      while (k < s.size() && IsTagChar(static_cast<unsigned char>(s[k]))) ++k;
      if (k < s.size() && s[k] == '$' && !(k > i + 1 && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
        std::string_view tag = s.substr(i, k - i + 1);
        size_t close = s.find(tag, k + 1);
        i = close == std::string_view::npos ? s.size() : close + tag.size();
      } else {
        i = k;
      }
    } else if (IsIdentStart(c)) {
      size_t b = i;
      while (i < s.size() && IsIdentChar(static_cast<unsigned char>(s[i]))) ++i;
      std::string w(s.substr(b, i - b));
      for (char& ch : w) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      words.push_back(std::move(w));
    } else {
      ++i;
    }
  }
  return words;
}

bool Has(const std::vector<std::string>& words, const char* w, size_t from = 0) {
  return std::find(words.begin() + std::min(from, words.size()), words.end(), w) != words.end();
}

}  // namespace

Result<std::vector<SqlStatement>> SplitStatements(std::string_view sql, int first_line) {
  return Splitter(sql, first_line).Run();
}

std::string OpenQuoteAtEnd(std::string_view sql) {
  Splitter splitter(sql, 1);
  (void)splitter.Run();
  return splitter.open();
}

std::string UnsupportedStatementReason(const SqlStatement& statement) {
  const std::string& t = statement.text;
  if (!t.empty() && t[0] == '\\') {
    std::string cmd = t.substr(0, t.find_first_of(" \t"));
    return "psql meta-command " + cmd +
           " is not SQL; schemagate sends statements to the server directly (inline the SQL instead)";
  }
  // Only a COPY needs its words scanned further: the check costs nothing
  // for every other statement of every file on every run.
  std::vector<std::string> first = Words(t, 1);
  if (first.empty() || first[0] != "COPY") return "";
  std::vector<std::string> w = Words(t, 4096);
  for (size_t i = 1; i + 1 < w.size(); ++i) {
    if (w[i] == "FROM" && w[i + 1] == "STDIN") {
      return "COPY ... FROM STDIN needs a client data stream; use INSERT, or COPY FROM a file on the "
             "server";
    }
  }
  return "";
}

std::string NonTransactionalReason(const SqlStatement& statement) {
  std::vector<std::string> w = Words(statement.text, 16);
  if (w.empty()) return "";
  const std::string& a = w[0];
  auto at = [&](size_t i) -> std::string { return i < w.size() ? w[i] : ""; };
  if (a == "CREATE") {
    size_t k = 1;
    if (at(k) == "UNIQUE") ++k;
    if (at(k) == "INDEX" && at(k + 1) == "CONCURRENTLY") return "CREATE INDEX CONCURRENTLY";
    if (at(1) == "DATABASE") return "CREATE DATABASE";
    if (at(1) == "TABLESPACE") return "CREATE TABLESPACE";
    if (at(1) == "SUBSCRIPTION") return "CREATE SUBSCRIPTION";
  } else if (a == "DROP") {
    if (at(1) == "INDEX" && at(2) == "CONCURRENTLY") return "DROP INDEX CONCURRENTLY";
    if (at(1) == "DATABASE") return "DROP DATABASE";
    if (at(1) == "TABLESPACE") return "DROP TABLESPACE";
    if (at(1) == "SUBSCRIPTION") return "DROP SUBSCRIPTION";
  } else if (a == "REINDEX") {
    if (Has(w, "CONCURRENTLY", 1)) return "REINDEX CONCURRENTLY";
    if (Has(w, "DATABASE", 1) || Has(w, "SYSTEM", 1)) return "REINDEX DATABASE/SYSTEM";
  } else if (a == "VACUUM") {
    return "VACUUM";
  } else if (a == "ALTER") {
    if (at(1) == "SYSTEM") return "ALTER SYSTEM";
    if (at(1) == "DATABASE" && Has(w, "TABLESPACE", 2)) return "ALTER DATABASE ... SET TABLESPACE";
    if (at(1) == "TABLE" && Has(w, "DETACH", 2) && Has(w, "CONCURRENTLY", 2)) {
      return "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY";
    }
    if (at(1) == "SUBSCRIPTION") return "ALTER SUBSCRIPTION";
  } else if (a == "CLUSTER") {
    if (w.size() == 1 || (w.size() == 2 && w[1] == "VERBOSE")) return "CLUSTER without a table";
  } else if (a == "BEGIN" || a == "START" || a == "COMMIT" || a == "ROLLBACK" || a == "END" ||
             a == "ABORT" || a == "SAVEPOINT" || a == "RELEASE" ||
             (a == "PREPARE" && at(1) == "TRANSACTION")) {
    return "transaction control (" + a + ")";
  }
  return "";
}

}  // namespace schemagate
