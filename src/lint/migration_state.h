// What a migration has done so far, statement by statement (new tables,
// lock_timeout), and what it and earlier migrations created
// (LintHistory::Schema). Internal to src/lint.
#ifndef SCHEMAGATE_LINT_MIGRATION_STATE_H_
#define SCHEMAGATE_LINT_MIGRATION_STATE_H_

#include <pg_query/pg_query.pb-c.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lint/lint.h"
#include "lint/tree.h"

namespace schemagate {

// What the migrations linted so far left, by table and index key.
struct LintHistory::Schema {
  std::map<std::string, std::map<std::string, lint::ColumnType>> tables;  // column types
  std::map<std::string, lint::Name> indexes;                              // index -> its table
  std::map<std::string, std::map<std::string, lint::Name>> foreign_keys;  // table -> constraint -> referenced
  const lint::ColumnType* Find(const std::string& table_key, const std::string& column) const;
};

namespace lint {

class MigrationState {
 public:
  // `history` null: what this migration creates is still known within it.
  MigrationState(bool lock_timeout_configured, LintHistory::Schema* history)
      : configured_(lock_timeout_configured), session_timeout_(lock_timeout_configured),
        schema_(history != nullptr ? history : &own_schema_) {}
  MigrationState(const MigrationState&) = delete;  // schema_ may point into itself
  MigrationState& operator=(const MigrationState&) = delete;

  bool IsNew(const Name& table) const { return new_tables_.count(table.key()) > 0; }
  // True when `index` was created earlier in this migration on a new table.
  bool IndexOnNewTable(const Name& index) const;
  // The table an index created by this or an earlier migration is on.
  std::optional<Name> TableOfIndex(const Name& index) const;
  // The table a foreign key of `table` named `constraint` references.
  std::optional<Name> ForeignKeyTarget(const Name& table, const std::string& constraint) const;
  // The tables `table`'s foreign keys reference.
  std::vector<Name> ReferencedBy(const Name& table) const;
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
  void RecordForeignKeys(const Name& table, const PgQuery__Node* const* constraints, size_t n,
                         const std::string& column);
  void RenameTable(const Name& from, const Name& to);
  void DropTable(const Name& table);
  void SetTimeout(bool local, bool on, bool in_transaction);

  bool configured_;
  bool session_timeout_;
  std::optional<bool> local_timeout_;
  std::set<std::string> new_tables_;
  std::set<std::string> not_valid_added_;  // "table key\nconstraint", in the open transaction
  LintHistory::Schema own_schema_;         // when no history is given
  LintHistory::Schema* schema_;
};

}  // namespace lint
}  // namespace schemagate

#endif  // SCHEMAGATE_LINT_MIGRATION_STATE_H_
