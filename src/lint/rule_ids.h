// The ids of the lint rules (rules.cc has their table). Internal to src/lint.
#ifndef SCHEMAGATE_LINT_RULE_IDS_H_
#define SCHEMAGATE_LINT_RULE_IDS_H_

namespace schemagate::lint {

// Syntax.
constexpr const char* kSyntaxError = "syntax-error";
constexpr const char* kNewerSyntax = "newer-syntax";
// Locks held while the table is read or built.
constexpr const char* kIndexNotConcurrent = "index-not-concurrent";
constexpr const char* kReindexNotConcurrent = "reindex-not-concurrent";
constexpr const char* kConstraintWithoutNotValid = "constraint-without-not-valid";
constexpr const char* kUniqueWithoutUsingIndex = "unique-without-using-index";
constexpr const char* kSetNotNull = "set-not-null";
constexpr const char* kDomainConstraint = "domain-constraint";
constexpr const char* kDetachPartitionNotConcurrent = "detach-partition-not-concurrent";
constexpr const char* kExplicitLock = "explicit-lock";
constexpr const char* kMissingLockTimeout = "missing-lock-timeout";
// Table rewrites.
constexpr const char* kTableRewrite = "table-rewrite";
constexpr const char* kColumnTypeChange = "column-type-change";
constexpr const char* kRewriteMaintenance = "rewrite-maintenance";
// The app version still running.
constexpr const char* kNotNullWithoutDefault = "not-null-without-default";
constexpr const char* kDropTable = "drop-table";
constexpr const char* kDropColumn = "drop-column";
constexpr const char* kRenameTable = "rename-table";
constexpr const char* kRenameColumn = "rename-column";
constexpr const char* kDropNotNull = "drop-not-null";
constexpr const char* kEnumValuePosition = "enum-value-position";
// Data.
constexpr const char* kUnboundedDataChange = "unbounded-data-change";
constexpr const char* kTruncateCascade = "truncate-cascade";
constexpr const char* kDropDatabase = "drop-database";
constexpr const char* kDuplicateColumnAssignment = "duplicate-column-assignment";
// How the runner runs it.
constexpr const char* kTransactionControl = "transaction-control";
constexpr const char* kNotRerunnable = "not-rerunnable";
// Types and names.
constexpr const char* kTimestampWithoutTimeZone = "timestamp-without-time-zone";
constexpr const char* kCharType = "char-type";
constexpr const char* kSerialType = "serial-type";
constexpr const char* kPreferBigint = "prefer-bigint";
constexpr const char* kIdentifierTooLong = "identifier-too-long";
// The comments that suppress rules.
constexpr const char* kInvalidLintIgnore = "invalid-lint-ignore";

}  // namespace schemagate::lint

#endif  // SCHEMAGATE_LINT_RULE_IDS_H_
