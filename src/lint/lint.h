// `schemagate lint`: migration changes that are dangerous on a live database
// (long locks, table rewrites, changes that break the app version still
// running), found before they run; and the syntax check `check` runs.
//
// What is checked: the upgrade sections of a migration that run in one
// environment (`production` unless the caller says otherwise), statement by
// statement, in file order. Downgrade sections are not linted: they exist to
// undo, and dropping what the upgrade added is their job.
//
// How: every statement goes through PostgreSQL's own parser (libpg_query,
// PostgreSQL 15's grammar; loaded on first use, see pg_parser.h), and the
// rules of LintRules() look at its parse tree, so quoting, schema-qualified
// names, comments and spacing cannot fool them. A statement the parser
// refuses is a `syntax-error` finding with its line and column, or a
// `newer-syntax` warning when it fails at a word of a later PostgreSQL's
// grammar (nothing else is checked in it). SQL inside function bodies and
// DO blocks is opaque. A table is *new* when a CREATE TABLE earlier in the
// same migration made it; every other table is *existing*. Names compare as
// PostgreSQL resolves them, with a `public.` schema ignored.
//
// Across migrations (LintHistory): the column types earlier migrations
// created, in revision order, so that a type change can be told apart as a
// rewrite (int to bigint) or a catalog-only change (varchar(n) to text).
//
// Suppressing: a comment line
//   -- schemagate:lint-ignore RULE[, RULE...] [-- reason]
// in the block of `--` comment lines directly above a statement (no blank
// line in between) suppresses those rules for that statement. A lint-ignore
// that names an unknown rule or no rule, or that is not directly above a
// statement (for instance at the end of a line of SQL), is itself reported
// as `invalid-lint-ignore`, which cannot be suppressed. Suppressing
// `syntax-error` is for syntax of a later PostgreSQL that lint does not
// recognise as such: the statement then goes unchecked.
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
// Thread-compatible; no I/O but loading the parser.
#ifndef SCHEMAGATE_LINT_LINT_H_
#define SCHEMAGATE_LINT_LINT_H_

#include <memory>
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
  const char* squawk;     // the squawk 2.66 rules it covers, comma-separated; "" for none
};

// Every rule, in documentation order; ids are unique.
const std::vector<LintRule>& LintRules();
// The rule with exactly this id; nullptr when there is none.
const LintRule* FindLintRule(std::string_view id);

struct LintFinding {
  std::string file;      // the migration file's path as loaded (Revision::path)
  std::string revision;  // the migration's revision id
  int line = 0;          // 1-based line of what is reported: the statement, the part of it
                         // (a column of a CREATE TABLE), or the lint-ignore comment
  int column = 1;        // 1-based column, in characters
  std::string rule;      // a LintRule id
  LintSeverity severity = LintSeverity::kError;
  std::string message;  // what this statement does, naming the table, column or index
  std::string why;      // the rule's why
  std::string fix;      // the rule's safe alternative
};

// A lock a statement takes, as PostgreSQL's documentation lists it.
struct TableLock {
  std::string relation;  // "users", "app.users"; an index for DROP INDEX / REINDEX INDEX
  std::string mode;      // "ACCESS EXCLUSIVE", "SHARE", ...
  bool existing = true;  // false: a table created earlier in the same migration
};

// A linted statement and the locks it takes (only statements that take one).
struct LintStatement {
  std::string file;
  std::string revision;
  int line = 0;
  int column = 1;
  std::string command;  // "ALTER TABLE", "CREATE INDEX", ...
  std::vector<TableLock> locks;
};

struct LintOptions {
  std::string environment = "production";  // selects env:NAME / env:!NAME sections
  // True when the configuration sets a non-zero lock_timeout
  // (Settings::lock_timeout: schemagate.yaml `lock_timeout` or
  // --db-lock-timeout), which the runner applies to all migration SQL.
  bool lock_timeout_configured = false;
};

// What the migrations linted so far created (column types, the table each
// index is on, each table's foreign keys), for the next.
class LintHistory {
 public:
  LintHistory();
  ~LintHistory();
  LintHistory(LintHistory&&) noexcept;
  LintHistory& operator=(LintHistory&&) noexcept;
  struct Schema;
  Schema& schema() { return *schema_; }

 private:
  std::unique_ptr<Schema> schema_;
};

struct LintResult {
  std::vector<LintFinding> findings;      // in line order; empty when clean
  std::vector<LintStatement> statements;  // the statements that take locks, in order
};

// Lints the upgrade sections of `file` that run in `options.environment`.
// `file` must be split (ParseMigrationFile with split, or SplitSections);
// `content` is the file's text as read, which holds the lint-ignore comments
// the statement splitter drops. `history` (may be null) supplies and
// records what earlier migrations created: lint migrations in revision
// order through one history. Fails only when the parser cannot be loaded.
Result<LintResult> LintMigration(const MigrationFile& file, std::string_view content,
                                 const LintOptions& options, LintHistory* history = nullptr);

// Parses `content` as the migration file `path` and lints it. Fails with the
// file parser's kValidation status (naming file and line) when it does not parse.
Result<LintResult> LintMigrationText(const std::string& path, std::string_view content,
                                     const LintOptions& options);

// Every statement of every section of `file` (both directions, all
// environments) through PostgreSQL's parser: `syntax-error` and
// `newer-syntax` findings, in line order, but for those a lint-ignore
// comment in `content` (the file's text) suppresses. `file` must be split.
Result<std::vector<LintFinding>> CheckMigrationSyntax(const MigrationFile& file, std::string_view content);

// A whole run: what was linted and what was found, for the renderers.
struct LintReport {
  std::string environment;
  std::vector<std::string> revisions;     // linted, in revision order
  std::vector<LintFinding> findings;      // by revision, then line
  std::vector<LintStatement> statements;  // by revision, then line

  int errors() const;
  int warnings() const;
};

// `path:line:column: severity: [rule-id] message`, then the why and the
// safe alternative on indented lines; one block per finding, "" when clean.
std::string RenderLintText(const LintReport& report);
std::string RenderLintFindingText(const LintFinding& finding);

// One JSON object: {"environment", "revisions", "errors", "warnings",
// "findings": [{"file", "line", "column", "revision", "rule", "severity",
// "message", "why", "fix"}], "statements": [{"file", "line", "column",
// "revision", "command", "locks": [{"relation", "mode", "existing"}]}]}.
// Field names are stable.
std::string RenderLintJson(const LintReport& report);

// GitHub Actions workflow commands, one line per finding:
// `::error file=PATH,line=N,col=C,title=RULE-ID::MESSAGE` (`::warning` for
// warnings), with the why and the safe alternative as further message lines.
std::string RenderLintGithub(const LintReport& report);

// GitHub's escaping for workflow commands: in the message `%`, CR and LF
// become %25, %0D, %0A; in a property value `:` and `,` also become %3A, %2C.
std::string GithubEscapeData(std::string_view text);
std::string GithubEscapeProperty(std::string_view text);

}  // namespace schemagate

#endif  // SCHEMAGATE_LINT_LINT_H_
