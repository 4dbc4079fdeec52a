// `schemagate lint`: migration changes that are dangerous on a live database
// (long locks, table rewrites, changes that break the app version still
// running), found before they run.
//
// What is checked: the upgrade sections of a migration that run in one
// environment (`production` unless the caller says otherwise), statement by
// statement, in file order. Downgrade sections are not checked: they exist to
// undo, and dropping what the upgrade added is their job.
//
// How: each statement's text is tokenized (comments skipped; strings,
// dollar-quoted bodies, identifiers, keywords and punctuation kept) and
// matched against the rules of LintRules(). SQL inside function bodies and DO
// blocks is opaque. A table is *new* when a CREATE TABLE earlier in the same
// migration file made it; every other table is *existing*. Names compare as
// PostgreSQL compares them: unquoted identifiers case-insensitively, quoted
// ones exactly, with a `public.` schema ignored.
//
// Suppressing: a comment line
//   -- schemagate:lint-ignore RULE[, RULE...] [-- reason]
// in the block of `--` comment lines directly above a statement (no blank
// line in between) suppresses those rules for that statement. A lint-ignore
// that names an unknown rule or no rule, or that is not directly above a
// statement (for instance at the end of a line of SQL), is itself reported
// as `invalid-lint-ignore`, which cannot be suppressed.
//
// lock_timeout (rule `missing-lock-timeout`) counts as set for a statement
// when the configuration sets a non-zero lock_timeout (the runner applies it
// to every migration connection), or when an earlier statement of the same
// migration ran `SET [SESSION] lock_timeout`, `SET LOCAL lock_timeout` or
// `set_config('lock_timeout', ...)` with a non-zero value and that setting is
// still in effect: SET LOCAL and set_config(..., true) last until the end of
// their transaction (the whole migration when all its sections are
// transactional, otherwise the section) and do nothing in a
// `transaction:false` section; `RESET`, `DEFAULT` and 0 undo it.
//
// Pure code: no I/O. Thread-compatible.
#ifndef SCHEMAGATE_CORE_LINT_H_
#define SCHEMAGATE_CORE_LINT_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/migration_file.h"
#include "core/status.h"

namespace schemagate {

enum class LintSeverity { kError, kWarning };
const char* LintSeverityName(LintSeverity severity);  // "error" / "warning"

struct LintRule {
  const char* id;         // kebab-case and stable: lint-ignore comments and scripts use it
  LintSeverity severity;  // errors fail `schemagate lint` (exit 4); warnings do not
  const char* summary;    // what the rule catches
  const char* why;        // one line: what goes wrong on a live database
  const char* fix;        // one line: the safe alternative
};

// Every rule, in documentation order; ids are unique.
const std::vector<LintRule>& LintRules();
// The rule with exactly this id; nullptr when there is none.
const LintRule* FindLintRule(std::string_view id);

struct LintFinding {
  std::string file;      // the migration file's path as loaded (Revision::path)
  std::string revision;  // the migration's revision id
  int line = 0;          // 1-based line of the statement (or of the lint-ignore comment)
  std::string rule;      // a LintRule id
  LintSeverity severity = LintSeverity::kError;
  std::string message;  // what this statement does, naming the table, column or index
  std::string why;      // the rule's why
  std::string fix;      // the rule's safe alternative
};

struct LintOptions {
  std::string environment = "production";  // selects env:NAME / env:!NAME sections
  // True when the configuration sets a non-zero lock_timeout
  // (Settings::lock_timeout: schemagate.yaml `lock_timeout` or
  // --db-lock-timeout), which the runner applies to all migration SQL.
  bool lock_timeout_configured = false;
};

// Lints the upgrade sections of `file` that run in `options.environment`.
// `file` must be split (ParseMigrationFile with split, or SplitSections);
// `content` is the file's text as read, which holds the lint-ignore comments
// the statement splitter drops. Findings are in line order; an empty result
// means the migration is clean.
std::vector<LintFinding> LintMigration(const MigrationFile& file, std::string_view content,
                                       const LintOptions& options);

// Parses `content` as the migration file `path` and lints it. Fails with the
// parser's kValidation status (naming file and line) when it does not parse.
Result<std::vector<LintFinding>> LintMigrationText(const std::string& path,
                                                   std::string_view content,
                                                   const LintOptions& options);

// A whole run: what was linted and what was found, for the renderers.
struct LintReport {
  std::string environment;
  std::vector<std::string> revisions;  // linted, in revision order
  std::vector<LintFinding> findings;   // by revision, then line

  int errors() const;
  int warnings() const;
};

// `path:line: severity: [rule-id] message`, then the why and the safe
// alternative on indented lines; one block per finding, "" when clean.
std::string RenderLintText(const LintReport& report);

// One JSON object: {"environment", "revisions", "errors", "warnings",
// "findings": [{"file", "line", "revision", "rule", "severity", "message",
// "why", "fix"}]}. Field names are stable.
std::string RenderLintJson(const LintReport& report);

// GitHub Actions workflow commands, one line per finding:
// `::error file=PATH,line=N,title=RULE-ID::MESSAGE` (`::warning` for
// warnings), with the why and the safe alternative as further message lines.
std::string RenderLintGithub(const LintReport& report);

// GitHub's escaping for workflow commands: in the message `%`, CR and LF
// become %25, %0D, %0A; in a property value `:` and `,` also become %3A, %2C.
std::string GithubEscapeData(std::string_view text);
std::string GithubEscapeProperty(std::string_view text);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_LINT_H_
