#include "core/migration_file.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/checksum.h"
#include "core/encoding.h"

namespace schemagate {
namespace {

constexpr const char* kHeaderKeys[] = {"revision",   "down_revision", "branch_labels",
                                       "depends_on", "create_date",   "message"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string> SplitList(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = Trim(value.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

bool IsKeyChar(char c) { return std::islower(static_cast<unsigned char>(c)) || c == '_'; }

// "-- key: value" -> key and value; false when the line is not of that shape.
bool ParseHeaderLine(std::string_view line, std::string_view* key, std::string_view* value) {
  line = Trim(line);
  if (line.substr(0, 2) != "--") return false;
  line = Trim(line.substr(2));
  size_t i = 0;
  while (i < line.size() && (IsKeyChar(line[i]) || std::isdigit(static_cast<unsigned char>(line[i])))) {
    ++i;
  }
  if (i == 0 || i >= line.size() || line[i] != ':' || !IsKeyChar(line[0])) return false;
  *key = line.substr(0, i);
  *value = Trim(line.substr(i + 1));
  return true;
}

// True when `line` is a section marker ("-- migrate:..."); fills `rest`.
bool IsMarker(std::string_view line, std::string_view* rest) {
  line = Trim(line);
  if (line.substr(0, 2) != "--") return false;
  line = Trim(line.substr(2));
  if (line.substr(0, 8) != "migrate:") return false;
  *rest = line.substr(8);
  return true;
}

Status Error(const std::string& path, int line, const std::string& message) {
  return Status::Validation(path + ":" + std::to_string(line) + ": " + message);
}

Status ParseMarker(const std::string& path, int line_no, std::string_view rest, Section* section) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    size_t start = i;
    while (i < rest.size() && !std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    if (i > start) words.push_back(rest.substr(start, i - start));
  }
  if (words.empty() || (words[0] != "upgrade" && words[0] != "downgrade")) {
    std::string got = words.empty() ? "nothing" : "'" + std::string(words[0]) + "'";
    return Error(path, line_no,
                 "section marker must be '-- migrate:upgrade' or '-- migrate:downgrade', got " + got);
  }
  section->direction = words[0] == "upgrade" ? Direction::kUpgrade : Direction::kDowngrade;
  section->line = line_no;
  bool seen_tx = false, seen_env = false;
  for (size_t w = 1; w < words.size(); ++w) {
    std::string_view opt = words[w];
    if (opt == "transaction:false" || opt == "transaction:true") {
      if (seen_tx) return Error(path, line_no, "option 'transaction:' given twice");
      seen_tx = true;
      section->transactional = opt == "transaction:true";
    } else if (opt.substr(0, 4) == "env:") {
      if (seen_env) return Error(path, line_no, "option 'env:' given twice");
      seen_env = true;
      std::string_view name = opt.substr(4);
      if (!name.empty() && name[0] == '!') {
        section->env_negated = true;
        name.remove_prefix(1);
      }
      if (name.empty()) {
        return Error(path, line_no, "option 'env:' needs an environment name (env:production or env:!production)");
      }
      section->env = std::string(name);
    } else {
      return Error(path, line_no,
                   "unknown section option '" + std::string(opt) +
                       "' (known: transaction:false, env:NAME, env:!NAME)");
    }
  }
  return Status::Ok();
}

}  // namespace

const char* DirectionName(Direction direction) {
  return direction == Direction::kUpgrade ? "upgrade" : "downgrade";
}

bool Section::AppliesTo(std::string_view environment) const {
  if (env.empty()) return true;
  return env_negated ? environment != env : environment == env;
}

std::vector<const Section*> MigrationFile::SectionsFor(Direction direction,
                                                       std::string_view environment) const {
  std::vector<const Section*> out;
  for (const Section& s : sections) {
    if (s.direction == direction && s.AppliesTo(environment)) out.push_back(&s);
  }
  return out;
}

bool MigrationFile::HasDirection(Direction direction) const {
  return std::any_of(sections.begin(), sections.end(),
                     [direction](const Section& s) { return s.direction == direction; });
}

std::string InvalidRevisionIdReason(std::string_view id) {
  if (id.empty()) return "a revision id cannot be empty";
  if (id.size() > 32) {
    return "revision id '" + std::string(id) + "' is " + std::to_string(id.size()) +
           " characters long; alembic_version.version_num holds at most 32";
  }
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isspace(u) || u < 0x20 || u == 0x7f) {
      return "revision id '" + std::string(id) + "' contains white space or a control character";
    }
    if (std::string_view("@-+:,'\"\\{}").find(c) != std::string_view::npos) {
      return "revision id '" + std::string(id) + "' contains '" + std::string(1, c) +
             "'; ids may not contain @ - + : , quotes, backslashes or braces "
             "(they have meaning in targets such as rev+1 or branch@head)";
    }
  }
  return "";
}

Status SplitSections(MigrationFile* file) {
  if (file->split) return Status::Ok();
  const std::string& path = file->revision.path;
  for (Section& section : file->sections) {
    auto statements = SplitStatements(section.body, section.body_line);
    if (!statements.ok()) return statements.status().Prefixed(path);
    for (const SqlStatement& st : *statements) {
      std::string why = UnsupportedStatementReason(st);
      if (!why.empty()) return Error(path, st.line, why);
      if (section.transactional) {
        why = NonTransactionalReason(st);
        if (why.rfind("transaction control", 0) == 0) {
          return Error(path, st.line,
                       why + " in a transactional section: schemagate runs the section in a transaction and "
                             "records the migration in the same one, so remove it (statements that cannot run "
                             "in a transaction go in a section marked '-- migrate:" +
                           DirectionName(section.direction) + " transaction:false')");
        }
        if (!why.empty()) {
          return Error(path, st.line,
                       why + " cannot run inside a transaction; move it to its own section marked '-- migrate:" +
                           DirectionName(section.direction) + " transaction:false'");
        }
      }
    }
    section.statements = std::move(statements.value());
    section.body.clear();
    section.body.shrink_to_fit();
  }
  file->split = true;
  return Status::Ok();
}

Result<MigrationFile> ParseMigrationFile(const std::string& path, std::string_view raw, bool split) {
  std::string normalized;
  const std::string_view content = NormalizedForChecksum(raw, &normalized);
  if (size_t bad = FirstInvalidUtf8(content); bad != std::string_view::npos) {
    const std::string_view before = content.substr(0, bad);
    const size_t newline = before.rfind('\n');
    const size_t column = bad - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
    const int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(content[bad]));
    return Error(path, line,
                 "byte " + std::string(byte) + " at column " + std::to_string(column) +
                     " is not valid UTF-8; save the file as UTF-8 (PostgreSQL would reject or misread it)");
  }
  MigrationFile file;
  file.revision.path = path;

  unsigned seen_keys = 0;  // bit i: kHeaderKeys[i] given
  size_t pos = 0;
  int line_no = 0;
  bool in_header = true;
  size_t body_start = std::string::npos;  // offset of the first marker
  // Section bodies are collected as [start offset, first line) and split later.
  struct Pending {
    Section section;
    size_t start = 0;
    size_t end = 0;
    int first_line = 0;
  };
  std::vector<Pending> pending;

  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    size_t next = eol == std::string::npos ? content.size() : eol + 1;
    std::string_view line(content.data() + pos, (eol == std::string::npos ? content.size() : eol) - pos);
    ++line_no;

    // Past the header only markers matter, and a marker is a comment: skip
    // SQL lines without trimming them (most of a file, on every pod start).
    if (!in_header) {
      size_t first = line.find_first_not_of(" \t\f\v");
      if (first == std::string_view::npos || line[first] != '-') {
        pos = next;
        continue;
      }
    }
    std::string_view rest;
    // Inside a section, a marker line that the SQL before it leaves inside a
    // quote (a dollar-quoted function body, say) is text, as psql sees it.
    if (IsMarker(line, &rest) &&
        (pending.empty() ||
         OpenQuoteAtEnd(content.substr(pending.back().start, pos - pending.back().start)).empty())) {
      Section section;
      SG_RETURN_IF_ERROR(ParseMarker(path, line_no, rest, &section));
      if (!pending.empty()) pending.back().end = pos;
      if (body_start == std::string::npos) body_start = pos;
      in_header = false;
      pending.push_back({section, next, content.size(), line_no + 1});
    } else if (in_header) {
      std::string_view key, value;
      if (ParseHeaderLine(line, &key, &value)) {
        const auto* known = std::find(std::begin(kHeaderKeys), std::end(kHeaderKeys), key);
        if (known == std::end(kHeaderKeys)) {
          return Error(path, line_no,
                       "unknown header key '" + std::string(key) +
                           "' (known: revision, down_revision, branch_labels, depends_on, "
                           "create_date, message)");
        }
        const unsigned bit = 1u << (known - std::begin(kHeaderKeys));
        if (seen_keys & bit) {
          return Error(path, line_no, "header key '" + std::string(key) + "' given twice");
        }
        seen_keys |= bit;
        Revision& r = file.revision;
        if (key == "revision") {
          r.id = std::string(value);
          std::string why = InvalidRevisionIdReason(r.id);
          if (!why.empty()) return Error(path, line_no, why);
        } else if (key == "down_revision") {
          r.down_revisions = SplitList(value);
          for (const std::string& id : r.down_revisions) {
            std::string why = InvalidRevisionIdReason(id);
            if (!why.empty()) return Error(path, line_no, "down_revision: " + why);
          }
        } else if (key == "branch_labels") {
          r.branch_labels = SplitList(value);
        } else if (key == "depends_on") {
          r.depends_on = SplitList(value);
        } else if (key == "create_date") {
          r.create_date = std::string(value);
        } else if (key == "message") {
          r.message = std::string(value);
        }
      } else {
        std::string_view t = Trim(line);
        if (!t.empty() && t.substr(0, 2) != "--") {
          return Error(path, line_no,
                       "SQL before the first '-- migrate:upgrade' marker; statements belong in a "
                       "section");
        }
      }
    }
    pos = next;
  }

  if (file.revision.id.empty()) {
    return Error(path, 1, (seen_keys & 1u) ? "the '-- revision:' header is empty"
                                                      : "missing '-- revision: <id>' header");
  }
  for (const std::string& label : file.revision.branch_labels) {
    std::string why = InvalidRevisionIdReason(label);
    if (!why.empty()) return Status::Validation(path + ": branch_labels: " + why);
  }

  for (Pending& p : pending) {
    p.section.body.assign(content.data() + p.start, p.end > p.start ? p.end - p.start : 0);
    p.section.body_line = p.first_line;
    file.sections.push_back(std::move(p.section));
  }
  if (split) SG_RETURN_IF_ERROR(SplitSections(&file));

  std::string_view body = body_start == std::string::npos
                              ? std::string_view()
                              : content.substr(body_start);
  file.checksum = Sha256Hex(body);
  return file;
}

}  // namespace schemagate
