// The table-level locks a statement takes, as PostgreSQL 15's
// documentation ("Explicit Locking", each command's page) and its
// AlterTableGetLockLevel list them. Internal to src/lint.
#ifndef SCHEMAGATE_LINT_LOCKS_H_
#define SCHEMAGATE_LINT_LOCKS_H_

#include <pg_query/pg_query.pb-c.h>

#include <string>
#include <vector>

#include "lint/lint.h"
#include "lint/migration_state.h"

namespace schemagate::lint {

constexpr const char* kAccessExclusive = "ACCESS EXCLUSIVE";

struct StatementLocks {
  std::string command;          // "ALTER TABLE", "CREATE INDEX", ...
  std::vector<TableLock> locks;  // empty: nothing a migration needs to think about

  // The existing relations it locks ACCESS EXCLUSIVE, in order.
  std::vector<std::string> AccessExclusiveOnExisting() const;
};

StatementLocks LocksOf(const PgQuery__Node* statement, const MigrationState& state);

// The lock an ALTER TABLE command takes on its table.
const char* AlterTableLockMode(const PgQuery__AlterTableCmd* cmd);

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_LOCKS_H_
