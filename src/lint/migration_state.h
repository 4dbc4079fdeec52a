// What a migration has done so far, statement by statement (new tables,
// their indexes, lock_timeout), and what earlier migrations created
// (LintHistory::Columns). Internal to src/lint.
#ifndef SCHEMAGATE_LINT_MIGRATION_STATE_H_
#define SCHEMAGATE_LINT_MIGRATION_STATE_H_

#include <pg_query/pg_query.pb-c.h>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "lint/lint.h"
#include "lint/tree.h"

namespace schemagate {

// Column types by table key and column name, as the migrations linted so
// far left them.
struct LintHistory::Columns {
  std::map<std::string, std::map<std::string, lint::ColumnType>> tables;
  const lint::ColumnType* Find(const std::string& table_key, const std::string& column) const;
};

namespace lint {

class MigrationState {
 public:
  MigrationState(bool lock_timeout_configured, LintHistory::Columns* columns)
      : configured_(lock_timeout_configured), session_timeout_(lock_timeout_configured),
        columns_(columns) {}

  bool IsNew(const Name& table) const { return new_tables_.count(table.key()) > 0; }
  // True when `index` was created earlier in this migration on a new table.
  bool IndexOnNewTable(const Name& index) const;
  // The table an index created earlier in this migration is on.
  std::optional<Name> TableOfIndex(const Name& index) const;
  bool LockTimeoutSet() const { return local_timeout_ ? *local_timeout_ : session_timeout_; }
  // True when the transaction still open added `constraint` to `table` NOT VALID:
  // validating it now scans under the lock that ADD holds until commit.
  bool AddedNotValidInThisTransaction(const Name& table, const std::string& constraint) const {
    return not_valid_added_.count(table.key() + "\n" + constraint) > 0;
  }
  // The column's type when an earlier statement or migration created it.
  const ColumnType* ColumnTypeOf(const Name& table, const std::string& column) const;

  // Records what `statement` did; `in_transaction` says whether it ran in one.
  void Apply(const PgQuery__Node* statement, bool in_transaction);
  void EndTransaction() {
    local_timeout_.reset();
    not_valid_added_.clear();
  }

 private:
  void ApplyLockTimeout(const PgQuery__Node* statement, bool in_transaction);
  void SetTimeout(bool local, bool on, bool in_transaction);

  bool configured_;
  bool session_timeout_;
  std::optional<bool> local_timeout_;
  std::set<std::string> new_tables_;
  std::map<std::string, Name> index_table_;  // index key -> its table, created here
  std::set<std::string> not_valid_added_;    // "table key\nconstraint", in the open transaction
  LintHistory::Columns* columns_;            // may be null
};

}  // namespace lint
}  // namespace schemagate

#endif  // SCHEMAGATE_LINT_MIGRATION_STATE_H_
