#include "lint/suppressions.h"

#include <algorithm>
#include <optional>

#include "lint/lint.h"

namespace schemagate::lint {
namespace {

constexpr std::string_view kIgnoreMarker = "schemagate:lint-ignore";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

bool IsCommentLine(std::string_view line) { return TrimLeft(line).substr(0, 2) == "--"; }

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
std::pair<int, int> SectionLines(const MigrationFile& file, const Section& section, int line_count) {
  int last = line_count;
  for (const Section& other : file.sections) {
    if (other.line > section.line) last = std::min(last, other.line - 1);
  }
  return {section.line + 1, last};
}

}  // namespace

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

Suppressions::Suppressions(const MigrationFile& file, std::string_view content,
                           const std::vector<const Section*>& sections)
    : file_(file), lines_(SplitLines(content)) {
  const int line_count = static_cast<int>(lines_.size());
  for (const Section* section : sections) {
    const auto [first, last] = SectionLines(file, *section, line_count);
    for (int n = first; n <= last && n <= line_count; ++n) {
      if (auto d = ParseDirective(lines_[n - 1], n)) directives_.emplace(n, std::move(*d));
    }
  }
}

std::set<std::string> Suppressions::For(const Section& section, int line) {
  const int line_count = static_cast<int>(lines_.size());
  const int first = SectionLines(file_, section, line_count).first;
  std::set<std::string> ignored;
  for (int n = line - 1; n >= first && n <= line_count && IsCommentLine(lines_[n - 1]); --n) {
    auto it = directives_.find(n);
    if (it == directives_.end() || !it->second.own_line) continue;
    it->second.attached = true;
    ignored.insert(it->second.ids.begin(), it->second.ids.end());
  }
  return ignored;
}

std::vector<std::pair<int, std::string>> Suppressions::Problems() const {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& [line, d] : directives_) {
    if (d.malformed) {
      out.emplace_back(line, "malformed lint-ignore: write '-- schemagate:lint-ignore RULE[, RULE...]'");
      continue;
    }
    if (d.ids.empty()) out.emplace_back(line, "lint-ignore names no rule");
    for (const std::string& id : d.ids) {
      if (FindLintRule(id) == nullptr) out.emplace_back(line, UnknownRuleMessage(id));
    }
    if (!d.own_line) {
      out.emplace_back(line,
                       "lint-ignore after SQL on the same line applies to nothing; put it on its own line "
                       "directly above the statement");
    } else if (!d.attached) {
      out.emplace_back(line,
                       "lint-ignore is not directly above a statement (no blank line or SQL in between), so "
                       "it applies to nothing");
    }
  }
  return out;
}

}  // namespace schemagate::lint
