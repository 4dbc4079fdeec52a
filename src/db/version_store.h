// Internal to src/db: alembic_version and schemagate_log (design.md §5).
//
// alembic_version is written exactly as Alembic writes it, so either tool can
// continue from the other. schemagate_log is append-only history; a row per
// migration step, adoption or stamp.
#ifndef SCHEMAGATE_DB_VERSION_STORE_H_
#define SCHEMAGATE_DB_VERSION_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "db/pq.h"

namespace schemagate::db {

// A log row as written; fields left empty are NULL.
struct LogEntry {
  std::string revision;
  std::string operation;  // upgrade, downgrade, stamp, adopt
  Heads from_heads;
  Heads to_heads;
  std::string checksum;
  std::string status;  // running, succeeded, failed
  int statements_applied = 0;
  int statements_total = 0;
  std::string error;
  std::string error_statement;
  std::string sqlstate;
  int64_t duration_ms = 0;
};

// A non-transactional migration whose runner stopped mid-way: its log row
// was left `running`.
struct InterruptedRun {
  int64_t id = 0;
  std::string revision;
  std::string operation;
  std::string client;
  std::string started_at;
  int statements_applied = 0;
  int statements_total = 0;
  Heads from_heads;  // the version table before the step, and as it was to be after
  Heads to_heads;
};

class VersionStore {
 public:
  VersionStore(const DatabaseOptions& options);

  // Reads existence of both tables, the heads and the recorded checksums in
  // two round trips (one when the tables do not exist yet).
  DatabaseState Read(pqxx::transaction_base& tx) const;

  // The same, outside any transaction, in one round trip when both tables
  // exist (every pod start after the first): a single statement sees one
  // snapshot. Falls back to Read in a read-only transaction when they don't.
  DatabaseState ReadOnce(pqxx::connection& conn) const;

  // The parents of each revision from its latest succeeded upgrade row:
  // from_heads minus to_heads. Empty when the log table does not exist.
  LoggedParents ReadLoggedParents(pqxx::connection& conn) const;

  // Creates what is missing (schema, version table, log table); when the
  // version table existed without the log, records `adopt_revisions` as
  // adopted. Returns true when it adopted.
  bool Ensure(pqxx::transaction_base& tx, const DatabaseState& state,
              const std::vector<std::string>& adopt_revisions) const;

  // Applies the writes that turn `before` into `after`, checking that each
  // UPDATE/DELETE touched exactly one row.
  void WriteHeads(pqxx::transaction_base& tx, const Heads& before, const Heads& after) const;
  void DeleteAllHeads(pqxx::transaction_base& tx) const;

  // Marks every `running` row failed ("interrupted ...") and returns them.
  // Only safe under the migration lock: then no live run owns such a row.
  std::vector<InterruptedRun> ClaimInterrupted(pqxx::transaction_base& tx) const;

  // WriteHeads then AppendLog, as one statement when the step is a single
  // UPDATE (the usual case).
  void WriteHeadsAndLog(pqxx::transaction_base& tx, const Heads& before, const Heads& after,
                        const LogEntry& entry) const;

  // Appends a log row; returns its id.
  int64_t AppendLog(pqxx::transaction_base& tx, const LogEntry& entry) const;
  // Rewrites the mutable fields of row `id` (status, counts, error, timing).
  void UpdateLog(pqxx::transaction_base& tx, int64_t id, const LogEntry& entry) const;
  // One adopt/stamp row per revision, in one statement.
  void AppendBulk(pqxx::transaction_base& tx, const std::string& operation,
                  const std::vector<std::string>& revisions,
                  const std::vector<std::string>& checksums, const Heads& from_heads,
                  const Heads& to_heads) const;

  const std::string& version_table() const { return version_table_; }

 private:
  std::string StateQuery(bool with_log) const;
  static void ReadRows(const pqxx::result& rows, DatabaseState* state);

  DatabaseOptions options_;
  std::string version_table_;  // quoted, qualified
  std::string log_table_;
};

}  // namespace schemagate::db

#endif  // SCHEMAGATE_DB_VERSION_STORE_H_
