// The lint driver: a migration's statements through the parser, the checks
// and the lint-ignore comments, in file order.
#include "lint/lint.h"

#include <algorithm>

#include "lint/checks.h"
#include "lint/pg_parser.h"
#include "lint/rule_ids.h"
#include "lint/suppressions.h"
#include "lint/syntax.h"

namespace schemagate {
namespace {

using lint::Hit;

LintFinding MakeFinding(const MigrationFile& file, int line, int column, const char* rule_id, std::string message) {
  const LintRule& rule = *FindLintRule(rule_id);
  return {file.revision.path, file.revision.id, line, column, rule.id, rule.severity, std::move(message),
          rule.why, rule.fix};
}

}  // namespace

namespace lint {

const std::vector<Check>& AllChecks() {
  static const std::vector<Check> checks = {
      CheckIndexNotConcurrent,       CheckReindexNotConcurrent,     CheckConstraintWithoutNotValid,
      CheckValidateInTheSameTransaction,
      CheckUniqueWithoutUsingIndex,  CheckSetNotNull,               CheckDomainConstraint,
      CheckDetachPartitionNotConcurrent, CheckExplicitLock,         CheckMissingLockTimeout,
      CheckTableRewrite,             CheckColumnTypeChange,         CheckRewriteMaintenance,
      CheckNotNullWithoutDefault,    CheckDropTable,                CheckDropColumn,
      CheckRenameTable,              CheckRenameColumn,             CheckDropNotNull,
      CheckEnumValuePosition,        CheckUnboundedDataChange,      CheckTruncateCascade,
      CheckDropDatabase,             CheckDuplicateColumnAssignment, CheckTransactionControl,
      CheckNotRerunnable,            CheckTimestampWithoutTimeZone, CheckCharType,
      CheckSerialType,               CheckPreferBigint,             CheckIdentifierTooLong,
  };
  return checks;
}

}  // namespace lint

Result<LintResult> LintMigration(const MigrationFile& file, std::string_view content, const LintOptions& options,
                                 LintHistory* history) {
  const std::vector<const Section*> sections = file.SectionsFor(Direction::kUpgrade, options.environment);
  // All transactional: one transaction for the whole migration (as the runner does).
  const bool one_transaction =
      std::all_of(sections.begin(), sections.end(), [](const Section* s) { return s->transactional; });

  LintResult out;
  lint::Suppressions suppressions(file, content, sections);
  lint::MigrationState state(options.lock_timeout_configured, history ? &history->schema() : nullptr);
  for (const Section* section : sections) {
    for (const SqlStatement& statement : section->statements) {
      const std::set<std::string> ignored = suppressions.For(*section, statement.line);
      auto parsed = lint::ParseSql(statement.text);
      if (!parsed.ok()) return parsed.status();
      if (!parsed->tree) {
        const lint::SyntaxProblem problem = lint::DescribeSyntaxError(statement.text, *parsed);
        const auto [line, column] = lint::PositionOf(statement, parsed->error_offset);
        // Suppressible too: syntax of a later PostgreSQL that the word list does not know.
        if (ignored.count(problem.rule) == 0) {
          out.findings.push_back(MakeFinding(file, line, column, problem.rule, problem.message));
        }
        continue;
      }
      for (size_t i = 0; i < parsed->tree->n_stmts; ++i) {
        const PgQuery__Node* node = parsed->tree->stmts[i]->stmt;
        if (node == nullptr) continue;
        const lint::StatementLocks locks = lint::LocksOf(node, state);
        const lint::StatementContext context{node, statement.text, section->transactional, state, locks};
        std::vector<Hit> hits;
        for (lint::Check check : lint::AllChecks()) check(context, &hits);
        for (Hit& hit : hits) {
          if (ignored.count(hit.rule)) continue;
          // Where the reported part is (a column of a CREATE TABLE, say); lint-ignore goes above the statement.
          const auto [line, column] = lint::PositionOf(statement, hit.offset);
          out.findings.push_back(MakeFinding(file, line, column, hit.rule, std::move(hit.message)));
        }
        if (!locks.locks.empty()) {
          out.statements.push_back({file.revision.path, file.revision.id, statement.line, statement.column,
                                    locks.command, locks.locks});
        }
        state.Apply(node, section->transactional);
      }
      if (!section->transactional) state.EndTransaction();
    }
    if (!one_transaction) state.EndTransaction();
  }
  for (auto& [line, message] : suppressions.Problems()) {
    out.findings.push_back(MakeFinding(file, line, 1, lint::kInvalidLintIgnore, std::move(message)));
  }
  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const LintFinding& a, const LintFinding& b) { return a.line < b.line; });
  return out;
}

Result<LintResult> LintMigrationText(const std::string& path, std::string_view content, const LintOptions& options) {
  auto file = ParseMigrationFile(path, content, /*split=*/true);
  if (!file.ok()) return file.status();
  return LintMigration(*file, content, options);
}

Result<std::vector<LintFinding>> CheckMigrationSyntax(const MigrationFile& file, std::string_view content) {
  std::vector<const Section*> sections;
  for (const Section& section : file.sections) sections.push_back(&section);
  lint::Suppressions suppressions(file, content, sections);
  std::vector<LintFinding> out;
  for (const Section& section : file.sections) {
    for (const SqlStatement& statement : section.statements) {
      auto parsed = lint::ParseSql(statement.text);
      if (!parsed.ok()) return parsed.status();
      if (parsed->tree) continue;
      const lint::SyntaxProblem problem = lint::DescribeSyntaxError(statement.text, *parsed);
      if (suppressions.For(section, statement.line).count(problem.rule)) continue;
      const auto [line, column] = lint::PositionOf(statement, parsed->error_offset);
      out.push_back(MakeFinding(file, line, column, problem.rule, problem.message));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const LintFinding& a, const LintFinding& b) { return a.line < b.line; });
  return out;
}

}  // namespace schemagate
