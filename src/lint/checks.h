// The rule checks: each looks at one parsed statement, with what the
// migration did before it, and reports hits. Internal to src/lint.
#ifndef SCHEMAGATE_LINT_CHECKS_H_
#define SCHEMAGATE_LINT_CHECKS_H_

#include <pg_query/pg_query.pb-c.h>

#include <string>
#include <vector>

#include "lint/locks.h"
#include "lint/migration_state.h"
#include "lint/tree.h"

namespace schemagate::lint {

struct StatementContext {
  const PgQuery__Node* node;     // the statement's tree
  const std::string& text;       // the statement's text (tree locations are offsets in it)
  bool transactional;            // its section runs in a transaction
  const MigrationState& state;   // what the migration did before it
  const StatementLocks& locks;   // what it locks
};

struct Hit {
  const char* rule;
  std::string message;
  int offset = -1;  // byte offset in the statement text of what is reported; -1: the statement
};
using Hits = std::vector<Hit>;
using Check = void (*)(const StatementContext&, Hits*);

// Every check, each file's group in rule documentation order.
const std::vector<Check>& AllChecks();

// checks_locking.cc
void CheckIndexNotConcurrent(const StatementContext& c, Hits* hits);
void CheckReindexNotConcurrent(const StatementContext& c, Hits* hits);
void CheckConstraintWithoutNotValid(const StatementContext& c, Hits* hits);
void CheckValidateInTheSameTransaction(const StatementContext& c, Hits* hits);
void CheckUniqueWithoutUsingIndex(const StatementContext& c, Hits* hits);
void CheckSetNotNull(const StatementContext& c, Hits* hits);
void CheckDomainConstraint(const StatementContext& c, Hits* hits);
void CheckDetachPartitionNotConcurrent(const StatementContext& c, Hits* hits);
void CheckExplicitLock(const StatementContext& c, Hits* hits);
void CheckMissingLockTimeout(const StatementContext& c, Hits* hits);
// checks_rewrites.cc
bool TypeChangeIsCatalogOnly(const ColumnType& from, const ColumnType& to);
void CheckTableRewrite(const StatementContext& c, Hits* hits);
void CheckColumnTypeChange(const StatementContext& c, Hits* hits);
void CheckRewriteMaintenance(const StatementContext& c, Hits* hits);
// checks_compatibility.cc
void CheckNotNullWithoutDefault(const StatementContext& c, Hits* hits);
void CheckDropTable(const StatementContext& c, Hits* hits);
void CheckDropColumn(const StatementContext& c, Hits* hits);
void CheckRenameTable(const StatementContext& c, Hits* hits);
void CheckRenameColumn(const StatementContext& c, Hits* hits);
void CheckDropNotNull(const StatementContext& c, Hits* hits);
void CheckEnumValuePosition(const StatementContext& c, Hits* hits);
// checks_data.cc
void CheckUnboundedDataChange(const StatementContext& c, Hits* hits);
void CheckTruncateCascade(const StatementContext& c, Hits* hits);
void CheckDropDatabase(const StatementContext& c, Hits* hits);
void CheckDuplicateColumnAssignment(const StatementContext& c, Hits* hits);
void CheckTransactionControl(const StatementContext& c, Hits* hits);
void CheckNotRerunnable(const StatementContext& c, Hits* hits);
// checks_types.cc
void CheckTimestampWithoutTimeZone(const StatementContext& c, Hits* hits);
void CheckCharType(const StatementContext& c, Hits* hits);
void CheckSerialType(const StatementContext& c, Hits* hits);
void CheckPreferBigint(const StatementContext& c, Hits* hits);
void CheckIdentifierTooLong(const StatementContext& c, Hits* hits);

// Shared by the checks.
// The statement as an ALTER TABLE of an existing table (not created earlier
// in the migration); null for anything else.
const PgQuery__AlterTableStmt* ExistingAlteredTable(const StatementContext& c);
std::vector<const PgQuery__AlterTableCmd*> Commands(const PgQuery__AlterTableStmt* alter);
// The ColumnDef an ADD COLUMN / ALTER COLUMN TYPE command carries, or null.
const PgQuery__ColumnDef* ColumnDefOf(const PgQuery__AlterTableCmd* cmd);
// The column's constraints of one kind (NOT NULL, DEFAULT, ...), or null.
const PgQuery__Constraint* ColumnConstraint(const PgQuery__ColumnDef* column, PgQuery__ConstrType type);

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_CHECKS_H_
