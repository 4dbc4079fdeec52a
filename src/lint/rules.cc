// The table of rules: what each catches, why it hurts on a live database,
// the safe alternative, and the squawk 2.66 rules it covers
// (docs/lint.md sets the two side by side; a test keeps that table whole).
#include "lint/lint.h"
#include "lint/rule_ids.h"

namespace schemagate {

using namespace lint;  // NOLINT: the rule ids

const char* LintSeverityName(LintSeverity severity) {
  return severity == LintSeverity::kError ? "error" : "warning";
}

const std::vector<LintRule>& LintRules() {
  constexpr LintSeverity E = LintSeverity::kError;
  constexpr LintSeverity W = LintSeverity::kWarning;
  static const std::vector<LintRule> rules = {
      {kSyntaxError, E, "a statement PostgreSQL's parser refuses",
       "the migration fails at this statement on every server, after the statements before it ran "
       "(in a transaction:false section they stay applied)",
       "fix the statement; the line and column point at where the parser stopped (syntax of a later "
       "PostgreSQL that lint does not recognise: lint-ignore it)",
       "syntax-error"},
      {kNewerSyntax, W, "a statement PostgreSQL 15's parser refuses at a word of a later PostgreSQL",
       "lint cannot check it: if the server is older than the syntax it fails there",
       "nothing, when every server you migrate runs a PostgreSQL that knows it", ""},
      {kIndexNotConcurrent, E,
       "CREATE INDEX or DROP INDEX without CONCURRENTLY on an existing table",
       "a plain CREATE INDEX blocks every write to the table for the whole build; a "
       "plain DROP INDEX takes an ACCESS EXCLUSIVE lock that blocks reads too",
       "CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF "
       "EXISTS in a '-- migrate:upgrade transaction:false env:production' "
       "section, the plain form in an 'env:!production' section",
       "require-concurrent-index-creation, require-concurrent-index-deletion"},
      {kReindexNotConcurrent, E, "REINDEX without CONCURRENTLY on an existing table or index",
       "REINDEX blocks writes to the table and takes an ACCESS EXCLUSIVE lock on each index, so "
       "queries that would use it wait for the whole rebuild",
       "REINDEX ... CONCURRENTLY in a transaction:false section", "require-concurrent-reindex"},
      {kConstraintWithoutNotValid, E,
       "a FOREIGN KEY or CHECK constraint added to an existing table without NOT VALID, or validated in "
       "the transaction that added it",
       "validating scans the whole table while holding a lock that blocks "
       "writes (for a foreign key, on the referenced table too)",
       "ADD CONSTRAINT ... NOT VALID (instant), then ALTER TABLE ... VALIDATE CONSTRAINT in a later "
       "migration (not the same transaction, whose ADD keeps its lock until commit), which takes only a "
       "SHARE UPDATE EXCLUSIVE lock",
       "constraint-missing-not-valid, adding-foreign-key-constraint"},
      {kUniqueWithoutUsingIndex, E,
       "a UNIQUE, PRIMARY KEY or EXCLUDE constraint added to an existing table without USING INDEX",
       "building the constraint's index holds an ACCESS EXCLUSIVE "
       "lock, blocking reads and writes for the whole build",
       "CREATE UNIQUE INDEX CONCURRENTLY first (in a transaction:false section), "
       "then ADD CONSTRAINT ... UNIQUE USING INDEX / PRIMARY KEY USING INDEX",
       "disallowed-unique-constraint, adding-serial-primary-key-field, constraint-missing-not-valid"},
      {kSetNotNull, E, "ALTER COLUMN ... SET NOT NULL on an existing table",
       "PostgreSQL scans the whole table to prove no row is NULL while it holds an ACCESS "
       "EXCLUSIVE lock: no reads, no writes",
       "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT c (no write "
       "lock), then SET NOT NULL (PostgreSQL 12+ uses the valid constraint and skips the scan) "
       "and drop the constraint; lint-ignore this statement once that CHECK is validated",
       "adding-not-nullable-field"},
      {kDomainConstraint, E, "CREATE DOMAIN with a constraint, or ALTER DOMAIN ... ADD CONSTRAINT",
       "adding a domain constraint checks every column of that domain in every table under a "
       "lock, and PostgreSQL cannot add it NOT VALID through CREATE DOMAIN",
       "put the CHECK on the tables' columns (ADD CONSTRAINT ... NOT VALID, then VALIDATE), or "
       "ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID and VALIDATE CONSTRAINT later",
       "ban-create-domain-with-constraint, ban-alter-domain-with-add-constraint"},
      {kDetachPartitionNotConcurrent, E, "ALTER TABLE ... DETACH PARTITION without CONCURRENTLY",
       "a plain DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned table: every "
       "query on any partition waits",
       "DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) in a transaction:false section",
       "require-concurrent-partition-detach"},
      {kExplicitLock, E, "LOCK TABLE on an existing table",
       "the lock is held until the transaction ends, which is the whole migration: every query "
       "that conflicts with it queues behind it",
       "take no explicit lock; if the data must not change, do the change in one statement, or "
       "keep the locked part short and set lock_timeout",
       ""},
      {kMissingLockTimeout, E,
       "a statement that takes an ACCESS EXCLUSIVE lock on "
       "an existing table with no lock_timeout set",
       "while it waits for its lock behind a long query, every other "
       "query on the table queues behind it: the app stalls",
       "SET LOCAL lock_timeout = '5s'; at the start of the transactional section (or "
       "lock_timeout in schemagate.yaml / --db-lock-timeout), and rerun when it times out",
       "require-timeout-settings"},
      {kTableRewrite, E,
       "a statement that rewrites an existing table: ADD COLUMN with a volatile default, a stored "
       "generated or identity column, SET LOGGED / UNLOGGED, SET ACCESS METHOD, SET TABLESPACE",
       "every row is copied into a new file while an ACCESS EXCLUSIVE lock blocks reads and "
       "writes, and the disk needs room for a second copy",
       "for ADD COLUMN: add it without a default (or with a constant one), backfill it in batches, "
       "then SET DEFAULT; compute generated values in the app or a trigger. For SET LOGGED / "
       "UNLOGGED, ACCESS METHOD or TABLESPACE: a maintenance window, or pg_repack outside the "
       "migration (it can also move a table to another tablespace)",
       "adding-field-with-default"},
      {kColumnTypeChange, E,
       "ALTER COLUMN ... TYPE on an existing table that rewrites it (not binary-coercible)",
       "the table and its indexes are rewritten under an ACCESS EXCLUSIVE lock, and the running "
       "app may not handle the new type; varchar(n) to text or to a longer varchar, numeric to "
       "a wider precision and the like are catalog-only changes and are not reported",
       "add a column of the new type, backfill it in batches, move the app to it, drop the old "
       "column in a later release",
       "changing-column-type"},
      {kRewriteMaintenance, E, "CLUSTER or VACUUM FULL",
       "both rewrite the whole table under an ACCESS EXCLUSIVE lock: no reads, no writes until "
       "the copy is done",
       "pg_repack or pg_squeeze outside the migration; a plain VACUUM takes no such lock",
       "prefer-repack"},
      {kNotNullWithoutDefault, E,
       "ADD COLUMN ... NOT NULL without a DEFAULT on an existing table",
       "it fails on a table that has rows, and the running "
       "app's INSERTs do not fill the new column",
       "add the column with a constant DEFAULT (no rewrite since PostgreSQL "
       "11), or add it nullable, backfill, then ADD CONSTRAINT ... CHECK (col "
       "IS NOT NULL) NOT VALID, VALIDATE it and SET NOT NULL",
       "adding-required-field"},
      {kDropTable, E, "DROP TABLE of an existing table",
       "the app version that is still running uses the table and fails once it is gone",
       "release app code that no longer uses the table first, then drop it in a "
       "later migration marked '-- schemagate:lint-ignore drop-table'",
       "ban-drop-table"},
      {kDropColumn, E, "ALTER TABLE ... DROP COLUMN on an existing table",
       "the app version that is still running reads or "
       "writes the column and fails once it is gone",
       "release app code that no longer uses the column first, then drop it in a "
       "later migration marked '-- schemagate:lint-ignore drop-column'",
       "ban-drop-column"},
      {kRenameTable, E, "ALTER TABLE ... RENAME TO on an existing table",
       "the app version that is still running uses the old name and fails at once",
       "keep the name, or expand and contract: create the new table, write to "
       "both, move reads, then drop the old one in a later release",
       "renaming-table"},
      {kRenameColumn, E, "ALTER TABLE ... RENAME COLUMN on an existing table",
       "the app version that is still running uses the old column name and fails at once",
       "add the new column, write both and backfill, move "
       "reads, then drop the old column in a later release",
       "renaming-column"},
      {kDropNotNull, W, "ALTER COLUMN ... DROP NOT NULL on an existing table",
       "the app version that is still running may read the column as never NULL and fail on "
       "the first NULL a newer version writes",
       "release app code that handles NULL first; then lint-ignore this statement",
       "ban-drop-not-null"},
      {kEnumValuePosition, W, "ALTER TYPE ... ADD VALUE without BEFORE or AFTER",
       "the value goes last, and an enum sorts in declaration order: ORDER BY and < on the "
       "column change meaning if it belongs elsewhere",
       "say where it goes: ADD VALUE 'x' BEFORE 'y' / AFTER 'y' (or lint-ignore when last is right)",
       "require-enum-value-ordering"},
      {kUnboundedDataChange, E,
       "UPDATE or DELETE without WHERE, or TRUNCATE, on an existing table",
       "it touches every row in one transaction: the rows stay locked against the app's writes "
       "until it ends, a big table bloats, and a mistake takes all the data with it",
       "backfill in batches by key range in a transaction:false section (or outside the "
       "migration); add the WHERE that says which rows, even WHERE true when all are meant",
       ""},
      {kTruncateCascade, E, "TRUNCATE ... CASCADE",
       "it also empties every table with a foreign key to this one, and theirs, which the "
       "statement does not name",
       "TRUNCATE the tables you mean by name, without CASCADE", "ban-truncate-cascade"},
      {kDropDatabase, E, "DROP DATABASE",
       "it removes a whole database, which no migration of one database should do",
       "drop databases by hand, outside migrations", "ban-drop-database"},
      {kDuplicateColumnAssignment, E, "UPDATE ... SET a column twice",
       "PostgreSQL refuses it ('multiple assignments to same column') when it runs",
       "assign each column once", "ban-duplicate-column-assignments"},
      {kTransactionControl, E, "BEGIN, COMMIT, ROLLBACK, SAVEPOINT or PREPARE TRANSACTION in a migration",
       "schemagate runs transactional sections in a transaction of its own (the file format refuses these "
       "there) and counts each statement of a transaction:false section as committed when it returns: after "
       "a BEGIN they are not, and a crash loses statements the log says ran",
       "remove it: mark a section '-- migrate:upgrade transaction:false' for statements that "
       "cannot run in a transaction, or split the work into two migrations",
       "transaction-nesting, ban-uncommitted-transaction"},
      {kNotRerunnable, W,
       "CREATE or DROP without IF NOT EXISTS / IF EXISTS in a transaction:false section",
       "a transaction:false section that fails halfway keeps what it did, and the rerun fails on "
       "the object the first run created or dropped",
       "CREATE INDEX CONCURRENTLY IF NOT EXISTS, DROP INDEX CONCURRENTLY IF EXISTS, and so on",
       "prefer-robust-stmts"},
      {kTimestampWithoutTimeZone, W,
       "a new column of type timestamp without time zone",
       "it stores wall-clock time with no zone, so values depend on the "
       "writer's TimeZone and compare wrongly across zones and DST changes",
       "use timestamptz (timestamp with time zone)", "prefer-timestamptz"},
      {kCharType, W, "a new column of type char(n) / character(n)",
       "char(n) pads values with spaces that leak into "
       "comparisons and clients, and is no faster than text",
       "use text or varchar(n), with a CHECK constraint if the length must be exact",
       "ban-char-field"},
      {kSerialType, W, "a new column of type serial, bigserial or smallserial",
       "a serial column's sequence is a separate object with its own owner and "
       "grants, which dumps, copies and permission changes handle poorly",
       "use an identity column: bigint GENERATED BY DEFAULT AS IDENTITY (or ALWAYS)",
       "prefer-identity"},
      {kPreferBigint, W, "a new column of type integer, smallint, serial or smallserial",
       "ids and counters outgrow 2^31 (or 2^15), and widening the column later rewrites the table",
       "use bigint (bigserial, or bigint GENERATED BY DEFAULT AS IDENTITY); lint-ignore where "
       "the range is bounded by design",
       "prefer-bigint-over-int, prefer-bigint-over-smallint"},
      {kIdentifierTooLong, W, "a name longer than 63 bytes",
       "PostgreSQL cuts it to 63 bytes without an error, so the object's real name differs from "
       "the one in the file, and two long names can end up the same",
       "use a name of at most 63 bytes", "identifier-too-long"},
      {kInvalidLintIgnore, E,
       "a lint-ignore comment that names an unknown rule or no "
       "rule, or is not directly above a statement",
       "a misspelt or misplaced lint-ignore suppresses nothing, silently",
       "name rule ids from 'schemagate lint --list-rules', on a "
       "'--' comment line directly above the statement",
       "unused-ignore"},
  };
  return rules;
}

const LintRule* FindLintRule(std::string_view id) {
  for (const LintRule& r : LintRules()) {
    if (id == r.id) return &r;
  }
  return nullptr;
}

}  // namespace schemagate
